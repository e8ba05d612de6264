#ifndef KTSTR_ORCH_VM_BACKEND_WORKER_H
#define KTSTR_ORCH_VM_BACKEND_WORKER_H

#include <stdbool.h>

#include "vm_backend.h"

struct vm_backend_worker_cfg {
	const char *worker_path; /* NULL = worker_client's default lookup */
	bool quiet_workers;	 /* send worker logs to /dev/null */
};

/* cfg must outlive b. */
void vm_backend_worker_init(struct vm_backend *b, const struct vm_backend_worker_cfg *cfg);

#endif
