/* Which AssertSpec fields (proto/guest.proto) ktstr judges, and where. One
 * table, read by both sides: the guest's verdict (guest/verdict.c) evaluates
 * every field listed as judged, and the suite parser
 * (orchestrator/suite_parse.c) refuses every other field a suite sets, so a
 * test never passes on a check that did not run. Two unit tests walk the
 * AssertSpec descriptor against this table: tests/unit/guest/verdict_test.c
 * (each judged field fails a violating run) and
 * tests/unit/orchestrator/test_semantics.c (each other field is refused). */
#ifndef KTSTR_ASSERTS_H
#define KTSTR_ASSERTS_H

#include <stdbool.h>

/* True when the guest's verdict evaluates the AssertSpec field `name`. */
bool ktstr_assert_judged(const char *name);

/* For a field no code evaluates yet: why, and what to do instead (a
 * sentence for the parse error). NULL for judged or unknown fields. */
const char *ktstr_assert_unjudged_why(const char *name);

#endif
