/* Work types: the loops a worker process runs, each with telemetry taken at
 * every iteration (a checkpoint): work units, gaps between checkpoints with
 * the CPU and time of the worst one, migrations (sched_getcpu), CPUs used,
 * and wake latency for the types that block. */
#ifndef KTSTR_GUEST_WORK_H
#define KTSTR_GUEST_WORK_H

#include <signal.h>
#include <stdint.h>

#include "guest.pb-c.h"
#include "wreport.h"

/* Shared page of a pair of FutexPingPong workers (MAP_SHARED, created by the
 * parent before forking both sides). */
struct work_futex_pair {
	uint32_t turn;	 /* 0 or 1: which side may run its burst */
	uint32_t pad;
	uint64_t stamp_ns; /* CLOCK_MONOTONIC when the waker handed over */
};

struct work_cfg {
	Ktstr__WorkType type;
	/* Parameters after defaults (work_cfg_defaults). */
	uint32_t spin_iters, burst_ms, sleep_ms, size_kb, stride, io_kb, sleep_us;
	/* Pair plumbing: pipe fds (owned by the worker process) or a shared
	 * futex page, and this worker's side (0 starts). */
	int rd_fd, wr_fd;
	struct work_futex_pair *fpair;
	int side;
	/* Live iteration counter in a page shared with PID 1 (may be NULL). */
	uint64_t *live_iters;
	/* CPUs AffinityChurn may pick from. */
	struct cpuset_bits allowed;
	unsigned long seed;
};

/* Fill parameters from spec (NULL = CpuSpin) with the facts §2.17 defaults. */
void work_cfg_defaults(struct work_cfg *c, const Ktstr__WorkSpec *spec);

/* Whether this build implements t. */
int work_supported(Ktstr__WorkType t);

/* Run until *stop is set, then fill rep. Runs in the worker process. */
void work_run(const struct work_cfg *c, volatile sig_atomic_t *stop, struct worker_report *rep);

#endif
