/* Worker processes: forked from PID 1, placed in a cgroup before they start
 * working, stopped with SIGUSR1, reporting a struct worker_report over a
 * pipe. */
#ifndef KTSTR_GUEST_WORKER_H
#define KTSTR_GUEST_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest.pb-c.h"
#include "work.h"
#include "wreport.h"

#define WORKER_COLLECT_MS 5000
#define WORKER_START_GATE_MS 10000
/* After this long, silent workers whose live counter has not moved since
 * they were asked to stop are given up on (see worker_collect). */
#define WORKER_STUCK_GRACE_MS 1000
/* All killed workers together get this long to be reaped; when every one
 * of them never ran, this much (see worker_collect). */
#define WORKER_REAP_MS 2000
#define WORKER_STARVED_REAP_MS 100

struct worker_opts {
	struct work_cfg cfg;		   /* by value; fds in it go to the child */
	const char *cgroup_path;	   /* NULL = stay in PID 1's cgroup */
	const struct cpuset_bits *affinity; /* NULL = inherit the cgroup's */
	Ktstr__SchedPolicy policy;
	unsigned priority; /* FIFO/RR */
	bool has_nice;
	int nice;
};

struct worker {
	pid_t pid;
	int report_fd; /* owned: read end of the report pipe, -1 once read */
	bool have_report;
	bool killed; /* did not report within the collect deadline */
	struct worker_report rep;
	/* Its live iteration counter (the shared page; NULL = none), which
	 * tells worker_collect a starved worker from a slow one, and the value
	 * when the scenario started (the judge: none since is starvation). */
	const uint64_t *live;
	uint64_t live_at_start;
};

/* Fork one worker, move it into o->cgroup_path, then let it start. The
 * caller keeps ownership of o->cfg's pipe fds in the parent (close them once
 * every worker that needs them is forked). Returns 0 or -errno with a
 * message; on error no child is left running. */
int worker_spawn(const struct worker_opts *o, struct worker *w, char *err, size_t errlen);

/* Ask a worker to stop (SIGUSR1). */
void worker_stop(struct worker *w);

/* Read the reports of ws[0..n) that were asked to stop, waiting at most
 * deadline_ms in total, or WORKER_STUCK_GRACE_MS when every worker still
 * silent then has made no progress since the stop request (a starving
 * scheduler: waiting longer cannot help, and would push the verdict past the
 * test's duration + 5 s). Workers still silent are killed (their process
 * group, SIGKILL) and marked killed; every child is reaped within
 * WORKER_REAP_MS altogether, WORKER_STARVED_REAP_MS when all the killed ones
 * were stuck (a starved one dies only once the scheduler is gone: PID 1
 * reaps it then). */
void worker_collect(struct worker **ws, size_t n, int deadline_ms);

#endif
