/* A hostile tenant inside the guest (tests/integration/data/hostile_sched.c
 * as the "scheduler", tests/suites/hostile.yaml), through the real
 * `ktstr-orch run`: whatever it writes to the host's channels, its run is
 * never reported as a pass and the host stays bounded.
 *
 * - forged_pass: two ~8 MiB fillers, then a forged TestResult{PASSED}; PID 1
 *   reports SCHEDULER_NOT_ATTACHED. Was PASS, exit 0 (the filler exhausted
 *   the worker's keep budget, the last CRC-valid ring result won).
 * - ring_flood: zero-length messages without end. Was: the worker and the
 *   orchestrator grew without bound, then an undecodable-event error. Now
 *   the worker stops the VM at its flood bound (vmm-worker/capture.h). */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* Build the hostile scheduler (static, like any scheduler under test) into
 * e->tmp/bin, where the run's KTSTR_SCHEDULER_PATH points. */
static void stage_hostile(struct suite_env *e)
{
	char bd[PATH_MAX], *cmd = NULL, *out = NULL;

	cr_assert_eq(vmtest_build_dir(bd, sizeof(bd)), 0);
	cr_assert(asprintf(&cmd,
			   "set -e; cd '%s'; mkdir -p '%s/bin'; gcc -static -O1 -std=gnu11 "
			   "-D_GNU_SOURCE -Iinclude -Iguest -I'%s/proto' -o '%s/bin/ktstr-hostile' "
			   "tests/integration/data/hostile_sched.c guest/shm.c common/ring.c "
			   "common/util.c '%s/proto/guest.pb-c.c' '%s/proto/common.pb-c.c' -lprotobuf-c -lz; "
			   "chmod -R a+rX '%s'",
			   e->src, e->tmp, bd, e->tmp, bd, bd, e->tmp) > 0);
	cr_assert_eq(vmtest_sh(cmd, 120000, &out), 0, "building the hostile scheduler failed:\n%s",
		     out ? out : "");
	free(cmd);
	free(out);
	e->staged = true;
}

Test(hostile_guest, a_forged_pass_after_filler_is_never_a_pass, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	stage_hostile(&e);
	rc = run_suite(&e, "hostile.yaml", "forged_pass", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d (want 1: a failure, never a pass):\n%s", rc, out);
	/* The attack happened: both fillers and the forged result were written. */
	assert_has(out, "hostile_sched: filler 0 0, forged PASSED result 0");
	assert_has(out, "FAIL  forged_pass  (");
	assert_has(out, ") NO_RESULT: ");
	rec = json_record(&e, "forged_pass");
	assert_has(rec, "\"verdict\":\"NO_RESULT\"");
	cr_assert(strstr(rec, "results on the ring") || strstr(rec, "the host dropped") ||
			  strstr(rec, "disagree"),
		  "the reason names the forgery:\n%s", rec);
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(hostile_guest, a_ring_flood_stops_the_vm_with_a_typed_result, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	stage_hostile(&e);
	rc = run_suite(&e, "hostile.yaml", "ring_flood", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	rec = json_record(&e, "ring_flood");
	assert_has(rec, "\"verdict\":\"NO_RESULT\"");
	assert_has(rec, "guest flooded the ring: ");
	assert_has(rec, "\"outcome\":\"OUTCOME_GUEST_FLOOD\"");
	/* Bounded output: the text report shows at most 64 timeline lines. */
	cr_assert_lt(strlen(out), 256 * 1024, "stdout grew to %zu bytes", strlen(out));
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
