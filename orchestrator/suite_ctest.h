/* A test's `c_test: {binary: PATH, function: NAME}` (docs/c-api.md,
 * docs/suite-format.md "C tests"): the binary becomes one of the suite's
 * payloads (packed with its DT_NEEDED closure like any other) and the test's
 * scenario is one foreground run of it, `PATH --ktstr-guest-run NAME`,
 * bounded by the test's duration. */
#ifndef KTSTR_ORCH_SUITE_CTEST_H
#define KTSTR_ORCH_SUITE_CTEST_H

#include "suite.h"
#include "yaml_schema.h"

/* How long the function may run in the guest when the test sets no
 * `duration:` (its scenarios hold for their own durations inside it). */
#define CTEST_DEFAULT_DURATION_MS 10000u
/* A C identifier: what the binary's registry can hold (ktstr/ktstr.h). */
#define CTEST_FUNCTION_MAX 64

/* Parse n (the c_test mapping) into t (c_test_payload/function, scenario)
 * and s (a payload for the binary, shared by every test naming the same
 * file). t->scenario must be NULL. Errors name file:line:col. */
int suite_ctest_parse(struct ys_ctx *c, const struct ynode *n, struct suite *s,
		      struct test_def *t);

/* Room for payloads declared later (c_test binaries): s->payloads and
 * s->pspecs always hold KTSTR_PAYLOAD_MAX entries. */
int suite_payloads_alloc(struct suite *s);

#endif
