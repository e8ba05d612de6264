/* Which AssertSpec fields (proto/guest.proto) ktstr judges, and where. One
 * table, read by every side: the guest's verdict (guest/verdict.c)
 * evaluates the fields it is given, the host-side monitor
 * (vmm-worker/monitor/, through MonitorSpec) the fields it is given, and the
 * suite parser (orchestrator/suite_parse.c) refuses every other field a
 * suite sets, so a test never passes on a check that did not run. Unit tests
 * walk the AssertSpec descriptor against this table:
 * tests/unit/guest/verdict_test.c (each guest field fails a violating run),
 * tests/unit/orchestrator/test_semantics.c (each monitor field reaches
 * MonitorSpec, each other field is refused). */
#ifndef KTSTR_ASSERTS_H
#define KTSTR_ASSERTS_H

#include <stdbool.h>

enum ktstr_assert_judge {
	KTSTR_ASSERT_UNJUDGED = 0,	/* refused when a suite sets it */
	KTSTR_ASSERT_BY_GUEST,		/* guest/verdict.c, from worker telemetry */
	KTSTR_ASSERT_BY_MONITOR,	/* the host-side monitor, from the runqueues */
};

/* Who judges the AssertSpec field `name`. */
enum ktstr_assert_judge ktstr_assert_judge(const char *name);
/* True when anyone does. */
bool ktstr_assert_judged(const char *name);


#endif
