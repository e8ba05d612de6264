/* A vm_backend that plays scripted worker behaviours (pass, fail, infra
 * error, slow) so the run loop is tested without VMs. The production
 * backend is exercised by the orch_* integration tests. */
#ifndef KTSTR_TEST_ORCH_FAKE_BACKEND_H
#define KTSTR_TEST_ORCH_FAKE_BACKEND_H

#include <pthread.h>

#include "vm_backend.h"

enum fake_behaviour { FAKE_PASS, FAKE_FAIL, FAKE_INFRA, FAKE_FLAKY, FAKE_WAIT_FOR_STOP,
		       FAKE_UNSANDBOXED, /* passes, but the worker says sandboxed=false */
		       FAKE_WORKER_HUNG /* infra, with the result the client synthesizes */ };

struct fake_backend {
	struct vm_backend be;
	/* behaviour by label substring; first match wins, default FAKE_PASS */
	const char *match[8];
	enum fake_behaviour how[8];
	pthread_mutex_t lock;
	unsigned calls, running, max_running;
	unsigned flaky_calls;
	unsigned nap_ms;	/* each VM's run time; 0 = 50 ms */
	unsigned pinned_calls;	/* VMs whose spec came with pin_cpus */
};

void fake_backend_init(struct fake_backend *fb);

#endif
