/* The guest's side of a C test: the scenario (built by ktstr-orch from the
 * suite's c_test:) runs the binary as a foreground payload, so the
 * scheduler watch, the timeout, the output tail and a crash's signal are
 * the payload machinery's (payload.c, scenario.c). What is left here is
 * taking the function's own verdict. */
#include "ctest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/log.h>
#include <ktstr/util.h>

void ctest_prepare(void)
{
	unlink(KTSTR_CTEST_RESULT_PATH);
}

void ctest_merge(const Ktstr__CTestSpec *ct, struct result *res)
{
	ctest_merge_from(ct, res, KTSTR_CTEST_RESULT_PATH);
}

void ctest_merge_from(const Ktstr__CTestSpec *ct, struct result *res, const char *path)
{
	Ktstr__TestResult *child;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (res->tr.status != KTSTR__TEST_RESULT__STATUS__PASSED)
		return;
	ret = read_file(path, &buf, &len, KTSTR_CTEST_RESULT_MAX);
	if (ret) {
		result_set(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED,
			   "c_test %s (payload %s): exited 0 but left no result at %s (%s%s); "
			   "run it through ktstr_main (libktstr), which writes one",
			   ct->function, ct->payload, path, strerror(-ret),
			   ret == -EFBIG ? ": larger than 1 MiB" : "");
		return;
	}
	child = ktstr__test_result__unpack(NULL, len, (const uint8_t *)buf);
	free(buf);
	unlink(path);
	if (!child) {
		result_set(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED,
			   "c_test %s: its result at %s does not decode as ktstr.TestResult",
			   ct->function, path);
		return;
	}
	if (result_adopt(res, child))
		kwarn("c_test %s: out of memory taking its telemetry", ct->function);
	/* The function's scenario time is the test's, not the payload's. */
	if (child->has_steps_completed) {
		res->tr.has_steps_completed = 1;
		res->tr.steps_completed = child->steps_completed;
	}
	/* Only the statuses a test body may give: SCHEDULER_DIED and the like
	 * are the guest's to say, never the tenant binary's. */
	if (child->status == KTSTR__TEST_RESULT__STATUS__FAILED ||
	    child->status == KTSTR__TEST_RESULT__STATUS__SETUP_FAILED ||
	    child->status == KTSTR__TEST_RESULT__STATUS__SKIPPED)
		result_set(res, child->status, "%s",
			   child->detail && *child->detail ? child->detail : "c_test failed");
	else if (child->status != KTSTR__TEST_RESULT__STATUS__PASSED)
		result_set(res, KTSTR__TEST_RESULT__STATUS__FAILED,
			   "c_test %s: reported status %d, which only the guest may give",
			   ct->function, (int)child->status);
	ktstr__test_result__free_unpacked(child, NULL);
}
