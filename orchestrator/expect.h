/* Expected failures: a test that documents a known bug in the scheduler
 * under test (e.g. an upstream example scheduler ejected by the kernel's
 * watchdog) says what it must end with, so the suite stays green while the
 * bug is there and turns red the day it is fixed:
 *
 *   expect_failure:
 *     verdict: SCHED_DIED                 # required: the verdict expected
 *     detail_any: ["runnable task stall", "RCU CPU stall"]   # optional
 *     why: "upstream bug: ... (docs/...)" # required: shown in every report
 *
 *     intermittent: true                  # optional: a race that strikes sometimes
 *
 * The outcome is then XFAIL (expected verdict and, if given, one of the
 * substrings in its detail or the scheduler's exit reason: not a failure),
 * XPASS (the test passed: a failure, saying the expectation is stale), or
 * the real verdict when the test failed some other way (with the
 * expectation appended, so a different failure is never hidden). Like
 * pytest's strict xfail; the reference harness calls it expect_err.
 *
 * intermittent: the known bug is a race that some runs do not hit (proven
 * with a reproducer, docs/schedulers.md): a pass stays PASS instead of
 * XPASS, while the failure it documents is still XFAIL and every other
 * failure still fails. The price: nothing notices the day it is fixed, so
 * `why` must say where to check. */
#ifndef KTSTR_ORCH_EXPECT_H
#define KTSTR_ORCH_EXPECT_H

#include <stdbool.h>

#include <ktstr/strv.h>

#include "verdict.h"
#include "yaml_schema.h"

struct expect_failure {
	bool set;
	enum verdict_kind verdict;	/* a failure kind, never PASS/SKIP/XFAIL/XPASS */
	struct strv detail_any;		/* owned; empty = any detail */
	char *why;			/* owned */
	bool intermittent;		/* a pass is PASS, not XPASS */
};

/* Parse the expect_failure mapping n into x (errors name file:line:col
 * through c). 0 or -errno. */
int expect_parse(struct ys_ctx *c, const struct ynode *n, struct expect_failure *x);
void expect_free(struct expect_failure *x);

/* Turn v (the judged attempt) into XFAIL / XPASS / v + a note, per x.
 * 0 or -ENOMEM (v unchanged then). No-op when !x->set. */
int expect_apply(const struct expect_failure *x, struct verdict *v);

#endif
