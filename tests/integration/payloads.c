/* Payloads through the real `ktstr-orch run` (tests/suites/payloads.yaml):
 * a payload that exits 3 fails its test with that status and its output in
 * the report and the JSON; expected exits and a background run in the
 * scenario's cgroup pass. The payload is the host's /bin/sh, so its libc
 * reaches the guest through the builder's library closure. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

Test(payloads, exit_3_fails_with_status_and_output, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "payloads.yaml", "payload_exit3", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL  payload_exit3  (");
	assert_has(out, "FAIL: payload sh: exit 3, expected 0");
	assert_has(out, "--- payload sh ---\n  exit 3 (expected exit 0)");
	assert_has(out, "  | payload-says-hello\n");
	assert_has(out, "  | payload-stderr\n");
	rec = json_record(&e, "payload_exit3");
	assert_has(rec, "{\"check\":\"payload\",\"message\":\"payload sh: exit 3, expected 0\"");
	assert_has(rec, "\"exit_status\":3");
	assert_has(rec, "payload-says-hello\\npayload-stderr\\n");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(payloads, expected_exit_and_background_in_a_cgroup_pass, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "payloads.yaml", "payload_pass", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  payload_pass  (");
	rec = json_record(&e, "payload_pass");
	assert_has(rec, "\"exit_status\":4");
	/* The background run lived in the scenario's cgroup. */
	assert_has(rec, "/cg0\\n");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
