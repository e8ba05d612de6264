/* Payloads through the real `ktstr-orch run` (tests/suites/payloads.yaml):
 * a payload that exits 3 fails its test with that status and its output in
 * the report and the JSON; expected exits and a background run in the
 * scenario's cgroup pass. The payload is the host's /bin/sh, so its libc
 * reaches the guest through the builder's library closure. Metrics
 * (tests/suites/payloads-metrics.yaml): hackbench's time read on the host,
 * a max it breaks and a pattern it never matches each fail the test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"
#include "payload_metric.h"

#define HACKBENCH "/usr/bin/hackbench"

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

/* The value JSON record rec gives metric `key` ("\"time_s\":"), which
 * must be there. */
static double json_metric(const char *rec, const char *key)
{
	const char *m = strstr(rec, "\"metrics\":{");
	char *end;
	double d;

	/* The TestResult's "metrics" comes first; a run's own is inside it. */
	m = m ? strstr(m + 1, "\"metrics\":{") : NULL;
	cr_assert_not_null(m, "no payload metrics in:\n%s", rec);
	m = strstr(m, key);
	cr_assert_not_null(m, "no %s in:\n%s", key, rec);
	d = strtod(m + strlen(key), &end);
	cr_assert_neq(end, m + strlen(key), "%s is not a number in:\n%s", key, rec);
	return d;
}

static void metric_env(struct suite_env *e)
{
	if (access(HACKBENCH, X_OK))
		cr_skip_test(HACKBENCH " missing (Debian rt-tests; scripts/install-deps)");
	suite_env_init(e, false);
}

Test(payloads, hackbench_time_is_read_as_a_metric, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	double t;
	int rc;

	metric_env(&e);
	rc = run_suite(&e, "payloads-metrics.yaml", "metric_hackbench_time", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  metric_hackbench_time  (");
	assert_has(out, ", hackbench time_s=");
	rec = json_record(&e, "metric_hackbench_time");
	t = json_metric(rec, "\"time_s\":");
	/* hackbench printed it, in seconds: positive, and far below the max. */
	cr_assert(t > 0 && t < 600, "time_s %g", t);
	cr_log_info("hackbench time_s in the VM: %g s", t);
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(payloads, a_max_the_time_breaks_fails_with_the_value, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec, num[32], want[96];
	int rc;

	metric_env(&e);
	rc = run_suite(&e, "payloads-metrics.yaml", "metric_max_too_low", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	rec = json_record(&e, "metric_max_too_low");
	payload_metric_num(json_metric(rec, "\"time_s\":"), num, sizeof(num));
	snprintf(want, sizeof(want), "payload hackbench_strict: metric time_s %s > max -1", num);
	assert_has(out, "FAIL  metric_max_too_low  (");
	assert_has(out, want);
	assert_has(rec, want);
	assert_has(rec, "\"verdict\":\"FAIL\"");
	/* The payload itself ran fine: only the metric failed it. */
	assert_has(rec, "\"exit_status\":0");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(payloads, a_pattern_that_never_matches_fails_naming_it, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	metric_env(&e);
	rc = run_suite(&e, "payloads-metrics.yaml", "metric_never_matches", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL: payload hackbench_latency: metric latency_us: no match of "
			"\"^Latency: ([0-9.]+)\" in its output");
	assert_has(out, "--- payload hackbench_latency ---\n  exit 0 (expected exit 0)");
	assert_has(out, "  metrics: latency_us: no match\n");
	assert_has(out, "  | Time: ");
	rec = json_record(&e, "metric_never_matches");
	assert_has(rec, "\"metrics\":{\"latency_us\":null}");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
