/* How the run loop and the shell launch one VM. The production backend
 * (vm_backend_worker.c) drives a ktstr-vmm-worker through worker_client;
 * keeping the loop behind this interface lets unit tests drive it without
 * VMs and keeps the loop ignorant of the wire protocol. */
#ifndef KTSTR_ORCH_VM_BACKEND_H
#define KTSTR_ORCH_VM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "worker.pb-c.h"

/* Shared between a running job and whoever may stop it (the signal path).
 * Written with __atomic_store_n, read by the backend's poll loop (it is the
 * flag worker_client watches, hence a plain volatile int). */
struct vm_cancel {
	volatile int requested; /* non-zero: stop as soon as possible */
};

struct vm_job {
	const char *label;
	const Ktstr__VmSpec *spec; /* borrowed */
	int kernel_fd;		   /* borrowed, O_RDONLY */
	int initrd_fd;		   /* borrowed sealed memfd, -1 = none */
	int stdin_fd, stdout_fd;   /* interactive shell only, else -1 (borrowed) */
	/* Live guest output (spec->stream_output), called on the job's thread. */
	void (*on_output)(void *arg, uint32_t port, const uint8_t *data, size_t len);
	void *on_output_arg;
};

struct vm_job_result {
	Ktstr__VmResult *result; /* caller frees (free_unpacked NULL); may be NULL */
	bool infra;		 /* the worker/engine failed: error says how */
	char error[1024];	 /* what went wrong (infra, or result == NULL) */
};

struct vm_backend {
	/* Run one VM to its end. Never blocks past spec->timeout_ms plus the
	 * backend's own grace. Returns 0 (result or error filled) or -errno. */
	int (*run)(struct vm_backend *b, const struct vm_job *job, struct vm_cancel *cancel,
		   struct vm_job_result *out);
	void *ctx;
	/* The backend pins performance-mode VMs itself, host-wide (the
	 * worker backend with a host reservation, hostres.h): the run loop
	 * then reserves no CPUs of its own (perf_cpus.h). */
	bool places_cpus;
};

#endif
