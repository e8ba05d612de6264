/* C tests (docs/c-api.md): the test body is a function of a C test binary
 * that the scenario ran as its one payload. After scenario_run, the
 * function's own result (written by the binary to KTSTR_CTEST_RESULT_PATH)
 * becomes the test's. */
#ifndef KTSTR_GUEST_CTEST_H
#define KTSTR_GUEST_CTEST_H

#include "guest.pb-c.h"
#include "result.h"

/* Before the scenario: remove a stale result file (none should exist). */
void ctest_prepare(void);

/* After the scenario: when the run ended as it must for a result to exist
 * (res still PASSED: the binary exited 0, nothing else failed), read the
 * binary's TestResult and take its status, detail, checks and telemetry.
 * A binary that exited 0 without a readable result fails the test
 * (SETUP_FAILED, naming the function). Other endings (a signal, an exit
 * status, the timeout, the scheduler's death) already failed it with the
 * payload's check and output tail: they are left as they are. */
void ctest_merge(const Ktstr__CTestSpec *ct, struct result *res);
/* ctest_merge with the result file at path (tests). */
void ctest_merge_from(const Ktstr__CTestSpec *ct, struct result *res, const char *path);

#endif
