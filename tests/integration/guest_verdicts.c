/* The guest's verdicts under EEVDF through the real `ktstr-orch run`
 * (tests/suites/guest-verdicts.yaml, noscx.yaml): steady and cpuset runs
 * pass on two topologies; a FIFO hog starving a normal worker and workers
 * moved out of their cpuset behind the scenario's back are caught; a run
 * with the SHM ring off reports through COM2; every work type works (one
 * cgroup each of the last five added); a sched_ext scheduler on a
 * kernel without sched_ext is skipped (config known) or not attached. */
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

Test(guest_verdicts, steady_and_cpuset_pass_on_two_topologies, .timeout = 600)
{
	static const char *const tests[] = { "steady_1llc", "steady_2llc", "cpuset_1llc",
					     "cpuset_2llc" };
	struct suite_env e;
	char *out = NULL;
	int rc;

	suite_env_init(&e, false);
	/* the four names share no substring with the other tests but "_" */
	rc = run_suite(&e, "guest-verdicts.yaml", "llc", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "\n4 passed, 0 failed, 0 skipped\n");
	for (size_t i = 0; i < 4; i++) {
		char line[128], *rec;

		snprintf(line, sizeof(line), "PASS  %s  (", tests[i]);
		assert_has(out, line);
		rec = json_record(&e, tests[i]);
		assert_has(rec, "\"verdict\":\"PASS\"");
		free(rec);
	}
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, a_fifo_hog_starving_a_normal_worker_is_caught, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	const char *m;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "fifo_starves_normal", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	m = strstr(out, "FAIL  fifo_starves_normal  (");
	cr_assert_not_null(m, "%s", out);
	m = strstr(m, "FAIL: tid ");
	cr_assert_not_null(m, "%s", out);
	cr_assert(atoi(m + 10) > 1 && !strncmp(strchr(m + 10, ' '), " starved (0 work units)", 23),
		  "want \"tid N starved (0 work units)\":\n%s", out);
	rec = json_record(&e, "fifo_starves_normal");
	assert_has(rec, "{\"check\":\"starvation\"");
	assert_has(rec, "\"cgroup\":\"normal\"");
	cr_assert_null(strstr(rec, "\"cgroup\":\"rt\",\"tid\""), "the FIFO worker is not starved:\n%s",
		       rec);
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, workers_moved_out_of_their_cpuset_break_isolation, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "isolation_break", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL  isolation_break  (");
	assert_has(out, " ran on unexpected CPUs 1");
	rec = json_record(&e, "isolation_break");
	assert_has(rec, "{\"check\":\"isolation\"");
	assert_has(rec, "\"cgroup\":\"narrow\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* Every WorkerStats of cgroup cg in rec: count them, and fail on one that
 * did no work or ran another type than want. */
static unsigned working_workers(const char *rec, const char *cg, const char *want)
{
	const char *p = strstr(rec, "\"workers\":[");
	unsigned n = 0;

	cr_assert_not_null(p, "no workers in:\n%s", rec);
	while ((p = strstr(p, "{\"tid\":"))) {
		const char *end = strchr(p, '}'), *c = strstr(p, "\"cgroup\":\""), *u, *w;
		char name[64];
		size_t len;

		p++;
		if (!end || !c || c > end)
			continue;
		c += 10;
		len = strcspn(c, "\"");
		if (len != strlen(cg) || strncmp(c, cg, len))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)len, c);
		u = strstr(c, "\"work_units\":");
		w = strstr(c, "\"work\":\"");
		cr_assert(u && u < end && strtoull(u + 13, NULL, 10) > 0,
			  "a worker of %s did no work:\n%s", name, rec);
		cr_assert(w && w < end && !strncmp(w + 8, want, strlen(want)),
			  "a worker of %s does not run %s:\n%s", name, want, rec);
		n++;
	}
	return n;
}

/* The work types the guest gained last, one cgroup each: the run passes
 * (result read from the ring) and every worker of every cgroup worked. */
Test(guest_verdicts, every_work_type_works_in_the_guest, .timeout = 600)
{
	static const struct {
		const char *cg, *type;
		unsigned workers;
	} want[] = {
		{ "cpipe", "WORK_CACHE_PIPE", 2 },	 { "fanout", "WORK_FUTEX_FAN_OUT", 3 },
		{ "mutex", "WORK_MUTEX_CONTENTION", 3 }, { "nice", "WORK_NICE_SWEEP", 1 },
		{ "policy", "WORK_POLICY_CHURN", 1 },
	};
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "worktypes", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  worktypes_mix  (");
	rec = json_record(&e, "worktypes_mix");
	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"result_source\":\"ring\"");
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		cr_assert_eq(working_workers(rec, want[i].cg, want[i].type), want[i].workers,
			     "cgroup %s: want %u workers that worked:\n%s", want[i].cg,
			     want[i].workers, rec);
	/* as root in the guest nothing needed working around */
	cr_assert_null(strstr(rec, "\"note\":"), "%s", rec);
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, with_the_ring_off_the_result_comes_through_com2, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "ring_off", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  ring_off  (");
	rec = json_record(&e, "ring_off");
	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"result_source\":\"com2\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, a_scheduler_on_a_kernel_without_sched_ext_never_attaches, .timeout = 600)
{
	const char *k = getenv("KTSTR_TEST_KERNEL_NOSCX");
	struct suite_env e;
	char cmd[8192], kern[1200], *out = NULL, *rec;
	int rc;

	if (!k || !*k)
		test_missing("KTSTR_TEST_KERNEL_NOSCX unset (scripts/run-tests fetches bookworm's "
			     "6.12 kernel for it)");
	suite_env_init(&e, true);
	/* With its config beside it the orchestrator knows: skipped, no VM. */
	rc = run_suite(&e, "noscx.yaml", NULL, k, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "SKIP  simple_without_sched_ext");
	assert_has(out, "kernel has no sched_ext");
	free(out);
	out = NULL;
	/* Without it (a bare image), the VM boots and the guest must say so. */
	snprintf(kern, sizeof(kern), "%s/vmlinux", e.tmp);
	snprintf(cmd, sizeof(cmd), "ln '%s' %s 2>/dev/null || cp '%s' %s", k, kern, k, kern);
	cr_assert_eq(vmtest_sh(cmd, 60000, NULL), 0, "cannot copy %s to %s", k, kern);
	rc = run_suite(&e, "noscx.yaml", NULL, kern, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL  simple_without_sched_ext  (");
	assert_has(out, "SCHED_NOT_ATTACHED");
	assert_has(out, "sched_ext sysfs absent");
	rec = json_record(&e, "simple_without_sched_ext");
	assert_has(rec, "\"verdict\":\"SCHED_NOT_ATTACHED\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
