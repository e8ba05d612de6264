#ifndef KTSTR_ORCH_VM_BACKEND_WORKER_H
#define KTSTR_ORCH_VM_BACKEND_WORKER_H

#include <stdbool.h>

#include "vm_backend.h"

struct hostres;

struct vm_backend_worker_cfg {
	const char *worker_path; /* NULL = worker_client's default lookup */
	bool quiet_workers;	 /* send worker logs to /dev/null */
	/* The run's host-wide reservation (hostres.h), registered, borrowed:
	 * each VM is admitted first (guest RAM; performance mode's whole
	 * LLCs, which replace the spec's pins) and its worker pinned. NULL =
	 * none: the worker inherits our CPUs and the spec is sent as given. */
	struct hostres *hostres;
};

/* cfg must outlive b. */
void vm_backend_worker_init(struct vm_backend *b, const struct vm_backend_worker_cfg *cfg);

#endif
