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

/* Shared state of one group of workers (a FutexPingPong pair, a
 * FutexFanOut messenger and its receivers, MutexContention contenders), in a
 * MAP_SHARED page PID 1 maps before forking them. One cache line each so
 * groups do not contend with one another. */
struct work_group {
	/* The futex word. FutexPingPong: whose turn (0 or 1). FutexFanOut:
	 * message generation. MutexContention: lock state (0 free, 1 held, 2
	 * held with waiters). */
	uint32_t word;
	/* MutexContention: holders inside the critical section right now;
	 * more than one is a broken lock, counted in overlaps. */
	uint32_t holders;
	uint64_t stamp_ns; /* CLOCK_MONOTONIC when the waker handed over */
	/* MutexContention: incremented non-atomically inside the critical
	 * section, so lost updates would show a lock that does not exclude. */
	uint64_t acquisitions;
	uint32_t overlaps;
} __attribute__((aligned(64)));

struct work_cfg {
	Ktstr__WorkType type;
	/* Parameters after defaults (work_cfg_defaults). */
	uint32_t spin_iters, burst_ms, sleep_ms, size_kb, stride, io_kb, sleep_us;
	uint32_t fan_out, contenders, hold_iters;
	/* Group plumbing: pipe fds of a pair (owned by the worker process) or
	 * the group's shared page, and this worker's side: 0 starts a pair, is
	 * the FutexFanOut messenger; the rest are partners/receivers. */
	int rd_fd, wr_fd;
	struct work_group *grp;
	int side;
	/* Live iteration counter in a page shared with PID 1 (may be NULL). */
	uint64_t *live_iters;
	/* CPUs AffinityChurn may pick from. */
	struct cpuset_bits allowed;
	unsigned long seed;
};

/* Fill parameters from spec (NULL = CpuSpin) with the reference defaults
 * (docs/reference.md, "Work-type defaults"). */
void work_cfg_defaults(struct work_cfg *c, const Ktstr__WorkSpec *spec);

/* Whether this build implements t. */
int work_supported(Ktstr__WorkType t);

/* Whether t's groups share a struct work_group (else pipes or nothing). */
int work_uses_group(Ktstr__WorkType t);

/* Whether t's pairs talk over two pipes. */
int work_uses_pipes(Ktstr__WorkType t);

/* Run until *stop is set, then fill rep. Runs in the worker process. */
void work_run(const struct work_cfg *c, volatile sig_atomic_t *stop, struct worker_report *rep);

#endif
