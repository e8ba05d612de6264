/* Pass/fail checks over worker telemetry (release thresholds:
 * docs/reference.md, "Assert thresholds").
 * Pure functions: no I/O, so the arithmetic is unit-tested directly. */
#ifndef KTSTR_GUEST_VERDICT_H
#define KTSTR_GUEST_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.pb-c.h"
#include "wreport.h"

#define VERDICT_DEFAULT_SPREAD_PCT 15.0
#define VERDICT_DEFAULT_GAP_MS 2000u

struct verdict_limits {
	bool not_starved;
	double max_spread_pct;	  /* < 0 = off */
	uint32_t max_gap_ms;	  /* 0 = off */
	bool isolation;
	uint64_t max_p99_wake_ns; /* 0 = off */
	double min_iteration_rate; /* per wall second per worker; 0 = off */
	double max_migration_ratio; /* migrations / iterations per cgroup; < 0 = off */
	double max_throughput_cv;   /* σ/μ of work units per CPU second per cgroup; < 0 = off */
	double min_work_rate;	    /* work units per CPU second per worker; 0 = off */
	double max_wake_latency_cv; /* σ/μ of a cgroup's pooled wake latencies; < 0 = off */
};

/* Reference defaults overlaid with every field the (host-merged) spec sets. */
void verdict_limits_from_spec(const Ktstr__AssertSpec *a, struct verdict_limits *l);

struct verdict_worker {
	const struct worker_report *r;
	const char *cgroup;
	const struct cpuset_bits *allowed; /* cgroup cpuset(s) it lived under; NULL = none */
	unsigned group_cpus;		   /* CPUs its cgroup could use, for messages */
};

struct verdict_failure {
	char check[16];
	char message[200];
	char cgroup[64];
	uint32_t tid; /* 0 = cgroup-level */
	double value, limit;
};

struct verdict_result {
	struct verdict_failure *f; /* malloc'd, owned; free with verdict_result_free */
	size_t n, cap;
};

/* off-CPU percentage of one worker: (wall - cpu) / wall * 100, 0 if wall 0. */
double verdict_off_cpu_pct(const struct worker_report *r);

/* Work units per CPU second of one worker, 0 if it had no CPU time. */
double verdict_work_rate(const struct worker_report *r);

/* min/max off-CPU % among workers of `cgroup`; returns how many there are. */
unsigned verdict_cgroup_spread(const struct verdict_worker *w, size_t n, const char *cgroup,
			       double *min_pct, double *max_pct);

/* Run every enabled check. Returns 0 or -ENOMEM. */
int verdict_evaluate(const struct verdict_limits *l, const struct verdict_worker *w, size_t n,
		     struct verdict_result *out);
void verdict_result_free(struct verdict_result *r);

#endif
