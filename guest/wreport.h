/* What a worker process reports to PID 1 when it stops. Both ends are the
 * same binary (the worker is a fork of PID 1), so the record travels as a
 * fixed-size struct over a pipe; it is smaller than PIPE_BUF so the single
 * write() is atomic and the reader never sees half a record. */
#ifndef KTSTR_GUEST_WREPORT_H
#define KTSTR_GUEST_WREPORT_H

#include <limits.h>
#include <stdint.h>

#include "ktstr/cpulist.h"

struct worker_report {
	uint32_t magic; /* WREPORT_MAGIC: rejects a torn or foreign record */
	uint32_t tid;
	uint64_t work_units;	/* inner units (spins, bytes pages, round trips) */
	uint64_t iterations;	/* outer loop iterations = telemetry checkpoints */
	uint64_t cpu_ns;	/* CLOCK_PROCESS_CPUTIME_ID at stop */
	uint64_t wall_ns;	/* start gate to stop */
	uint64_t max_gap_ns;	/* longest time between two checkpoints */
	uint64_t max_gap_at_ns; /* when that gap ended, from the worker's start */
	uint32_t max_gap_cpu;	/* CPU the worker resumed on after that gap */
	uint32_t pad;
	uint64_t migrations;	/* checkpoint-to-checkpoint CPU changes */
	uint64_t wake_samples;	/* wake latency samples taken (blocking types) */
	uint64_t wake_p50_ns, wake_p99_ns;
	/* Every wake, not only the reservoir's: Σ latency and Σ latency², so
	 * PID 1 can pool a cgroup's wakes for their coefficient of variation. */
	double wake_sum_ns, wake_sumsq_ns2;
	struct cpuset_bits cpus_used;
	int32_t err;		/* 0 or -errno of a setup failure in the worker */
	char errmsg[160];
	/* Something the worker could not do but worked around (e.g. NiceSweep
	 * without CAP_SYS_NICE sweeping 0..19 only); not a failure. */
	char note[120];
};

#define WREPORT_MAGIC 0x4B57524Bu /* "KWRK" */

_Static_assert(sizeof(struct worker_report) <= PIPE_BUF, "worker report must fit one atomic pipe write");

#endif
