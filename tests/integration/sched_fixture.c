/* scx_ktstr, the fixture scheduler, through the real `ktstr-orch run`:
 * healthy it passes; each knob is caught with the right verdict and
 * message (tests/suites/sched-fixture.yaml, one `--filter` run per knob).
 * Negative cases are decisive by construction (a scheduler that exits, is
 * rejected, never attaches, stalls a CPU, starves a cgroup for the whole
 * scenario, or gives half the workers 1/8 of the CPU). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ktstr/util.h"
#include "lib/vmtest.h"

#include "lib/suite_run.h"

/* Run one test of sched-fixture.yaml; returns its JSON record. */
static char *fixture_run(struct suite_env *e, const char *name, int want_rc, char **out)
{
	char line[256];
	int rc;

	suite_env_init(e, true);
	rc = run_suite(e, "sched-fixture.yaml", name, NULL, out);
	cr_assert_eq(rc, want_rc, "exit %d, want %d:\n%s", rc, want_rc, *out);
	snprintf(line, sizeof(line), "%s  %s  (", want_rc ? "FAIL" : "PASS", name);
	assert_has(*out, line);
	assert_has(*out, want_rc ? "\n0 passed, 1 failed, 0 skipped\n"
				 : "\n1 passed, 0 failed, 0 skipped\n");
	return json_record(e, name);
}

Test(sched_fixture, healthy_passes, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "healthy", 0, &out);

	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"sched_ext_ops\":\"ktstr\"");
	assert_has(rec, "\"result_source\":\"ring\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, exit_after_is_scheduler_died_with_the_sched_ext_reason, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "exit_after", 1, &out);

	assert_has(out, "SCHED_DIED: scheduler died: scheduler process died unexpectedly");
	/* the kernel's reason and the exit message it carried */
	assert_has(out, "disabled (unregistered from BPF)");
	assert_has(out, "injected exit: --exit-after 1000 ms elapsed");
	assert_has(rec, "\"verdict\":\"SCHED_DIED\"");
	assert_has(rec, "\"sched_exit_reason\":");
	assert_has(rec, "scx_ktstr: ejected: kind=65"); /* scheduler log tail */
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, fail_verify_never_attaches_and_shows_the_verifier_log, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "fail_verify", 1, &out);

	assert_has(out, "SCHED_NOT_ATTACHED: scheduler never attached to sched_ext: scheduler "
			"exited with status 2");
	assert_has(out, "--- scheduler log (tail) ---");
	assert_has(out, "R0 invalid mem access 'scalar'");
	assert_has(rec, "\"verdict\":\"SCHED_NOT_ATTACHED\"");
	assert_has(rec, "-- BEGIN PROG LOAD LOG --");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, never_attach_is_not_attached, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "never_attach", 1, &out);

	assert_has(out, "SCHED_NOT_ATTACHED: scheduler never attached to sched_ext: timeout: "
			"sched_ext state \"disabled\"");
	assert_has(rec, "\"verdict\":\"SCHED_NOT_ATTACHED\"");
	assert_has(rec, "loaded, not attaching (--never-attach)");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, stall_is_reported_with_the_stalled_cpu, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "stall", 1, &out);

	/* sched_ext's watchdog ejects it; the verdict names the stall and the
	 * CPU the stalled task is stuck on (the fixture stalls CPU 1). */
	assert_has(out, "SCHED_DIED: scheduler died: scheduler process died unexpectedly");
	assert_has(out, "disabled (runnable task stall)");
	assert_has(out, "failed to run for");
	assert_has(out, "is on cpu1)");
	assert_has(rec, "\"verdict\":\"SCHED_DIED\"");
	assert_has(rec, "reason=\\\"runnable task stall\\\""); /* loader's log tail */
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, starve_cgroup_names_the_starved_workers, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "starve", 1, &out);
	const char *p;
	unsigned starved = 0;

	assert_has(out, "FAIL: tid ");
	/* both workers of cg0, and only they */
	for (p = rec; (p = strstr(p, "{\"check\":\"starvation\"")); p++) {
		const char *cg = strstr(p, "\"cgroup\":\"");

		cr_assert(cg && !strncmp(cg + 10, "cg0\"", 4), "a starved worker outside cg0:\n%s",
			  rec);
		starved++;
	}
	cr_assert_eq(starved, 2, "want 2 starvation failures (cg0's workers), got %u:\n%s",
		     starved, rec);
	assert_has(rec, "starved (0 work units");
	assert_has(rec, "\"verdict\":\"FAIL\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, degrade_is_a_fairness_failure, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "degrade", 1, &out);

	assert_has(out, "FAIL: unfair cgroup: spread=");
	assert_has(rec, "{\"check\":\"spread\"");
	assert_has(rec, "\"verdict\":\"FAIL\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
