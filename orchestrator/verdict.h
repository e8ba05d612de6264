/* One test's verdict from what its VM left behind (VmResult): the guest's
 * TestResult, which PID 1 writes once to the SHM ring and once to COM2
 * (base64 between the result sentinels), believed only when nothing says it
 * was forged or displaced (verdict.c, pick_result: one copy per channel, the
 * two alike, nothing dropped by the host); a COM2 copy alone counts (the
 * ring may be off). When there is none, the way the VM ended and how far
 * the guest got decide a distinct verdict. */
#ifndef KTSTR_ORCH_VERDICT_H
#define KTSTR_ORCH_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "guest.pb-c.h"
#include "worker.pb-c.h"

enum verdict_kind {
	V_PASS = 0,
	V_FAIL,			/* checks failed */
	V_SKIP,
	V_SCHED_DIED,
	V_SCHED_NOT_ATTACHED,
	V_SETUP_FAILED,		/* guest could not set up cgroups/mounts/spec */
	V_GUEST_PANIC,		/* kernel panic, triple fault or init crash */
	V_TIMEOUT,
	V_INIT_NEVER_STARTED,
	V_PAYLOAD_NEVER_RAN,
	V_NO_RESULT,
	V_STOPPED,		/* interrupted by the user */
	V_INFRA,		/* worker/engine failure: not the test's fault */
	V_XFAIL,		/* ended as its expect_failure said (expect.h): not a failure */
	V_XPASS,		/* passed although expect_failure said it would not */
	V_KIND_COUNT
};

struct payload_metric_value;

struct verdict {
	enum verdict_kind kind;
	Ktstr__TestResult *tr;	/* owned (free_unpacked NULL), may be NULL */
	const char *source;	/* "ring", "com2" or NULL */
	char *detail;		/* one line, owned */
	Ktstr__Stimulus **stimuli; /* owned, in ring order */
	size_t nstimuli;
	Ktstr__SchedExit *sched_exit; /* owned, may be NULL */
	char *crash;		/* CRASH text from the ring, owned */
	/* What the host read from the payload runs' output (payload_metric.h,
	 * payload_metrics_judge): owned, flat. */
	struct payload_metric_value *metrics;
	size_t nmetrics;
};

/* Judge vr. infra_error != NULL means there was no usable VmResult (the
 * worker crashed, hung or sent garbage): vr is then ignored. */
int verdict_from_result(const Ktstr__VmResult *vr, const char *infra_error, struct verdict *out);
void verdict_free(struct verdict *v);
/* Judging could not finish (out of memory reading metrics, applying
 * expect_failure, ...): whatever v said is not trustworthy, so it becomes an
 * infrastructure error (exit 3) saying why, never a pass with a check left
 * out. */
void verdict_unknown(struct verdict *v, const char *why);

/* The host-side monitor judged the run failed (VmResult.monitor), and the
 * first violation's message (docs/monitor.md). */
bool monitor_failed(const Ktstr__VmResult *vr);
const char *monitor_first_violation(const Ktstr__VmResult *vr);

const char *verdict_name(enum verdict_kind k);	/* "PASS", "FAIL", "SCHED_DIED", ... */
int verdict_is_failure(enum verdict_kind k);	/* counts as failed */
int verdict_is_infra(enum verdict_kind k);

/* Text between start and end markers in buf (last occurrence), malloc'd;
 * NULL if absent. */
char *text_between(const char *buf, size_t len, const char *start, const char *end);
/* The last max_lines lines of buf, malloc'd. */
char *text_tail_lines(const char *buf, size_t len, unsigned max_lines);

#endif
