/* The orchestrator's side of one ktstr-vmm-worker: spawn it, hand it a
 * RunVm with its fds, pump its WorkerEvents under a hard deadline, and hand
 * back exactly one VmResult. A worker that dies, hangs or sends garbage
 * becomes an OUTCOME_ENGINE_ERROR result whose Error says so (an
 * infrastructure error): never a crash, never a hang. */
#ifndef KTSTR_ORCH_WORKER_CLIENT_H
#define KTSTR_ORCH_WORKER_CLIENT_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ktstr/error.h>

#include "worker.pb-c.h"

struct worker_client_opts {
	/* ktstr-vmm-worker to run; NULL = $KTSTR_VMM_WORKER, else the
	 * ktstr-vmm-worker beside the running executable. */
	const char *worker_path;
	/* Worker's stderr (its log): 0 or -2 = inherit (fd 0 is never a
	 * sensible log, so a zeroed struct inherits), -1 = /dev/null, else fd. */
	int stderr_fd;
	/* Extra time on top of spec.timeout_ms before the worker is killed:
	 * covers setup, QEMU reap and draining. 0 = 45 s. */
	uint32_t grace_ms;
	/* Live events (VmStarted, GuestOutput, RingMessage) as they arrive;
	 * ev is valid during the call only. May be NULL. */
	void (*on_event)(void *ctx, const Ktstr__WorkerEvent *ev);
	void *ctx;
	/* When *stop becomes non-zero a StopVm is sent (once). May be NULL. */
	volatile int *stop;
	/* The CPUs the worker, and so its QEMU and vCPU threads, may run on,
	 * set before it execs (the host reservation's, hostres.h); NULL =
	 * inherit ours. Borrowed for the call. */
	const cpu_set_t *affinity;
};

/* Fds handed to the worker; -1 = not sent. Owned by the caller, who may
 * close them once worker_run_vm() returns. */
struct worker_fds {
	int kernel_fd;
	int initrd_fd;
	int stdin_fd;
	int stdout_fd;
};

struct worker_outcome {
	/* The worker's VmResult, or one synthesized here (infra_error) when
	 * the worker failed, carrying `error` as its Ktstr__Error. Owned by
	 * this struct until worker_outcome_take_result(); NULL only when out
	 * of memory. */
	Ktstr__VmResult *result;
	bool infra_error;
	struct ktstr_error error;	/* infra_error: what failed, where, why, hint */
	/* From WorkerReady / VmStarted. */
	uint32_t worker_pid;
	char kvm_kind[32];
	bool started;
	char engine_detail[32];
	uint32_t engine_pid;
	/* Worker's wait status (valid when reaped). */
	bool reaped;
	int worker_status;
};

/* Run one VM through a fresh worker. Returns 0 with out->result set (check
 * out->infra_error / result->outcome), or -EINVAL for bad arguments. */
int worker_run_vm(const Ktstr__VmSpec *spec, const struct worker_fds *fds,
		  const struct worker_client_opts *opts, struct worker_outcome *out);
/* Hand the result over: the caller owns it (free with
 * ktstr__vm_result__free_unpacked(r, NULL)); out->result becomes NULL. */
Ktstr__VmResult *worker_outcome_take_result(struct worker_outcome *out);
void worker_outcome_free(struct worker_outcome *out);

#endif
