/* The kernel's own sched_ext schedulers through the real `ktstr-orch run`
 * (tests/suites/sched-real.yaml): each attaches (sched_ext state enabled,
 * root/ops = the suite's ops_name) and passes a steady scenario on two
 * topologies, 2 CPUs / 1 LLC with default options and 4 CPUs / 2 LLCs with
 * one of its real options. One run (two VMs) per scheduler. scx_userland is
 * the exception (an upstream bug), see below. */
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

/* race: the suite marks the scheduler's tests with an intermittent
 * expect_failure (a proven upstream race, docs/schedulers.md): a record may
 * then be XFAIL with exactly that race's signature instead of PASS. */
static void scheduler_passes_racy(const char *name, const char *race)
{
	struct suite_env e;
	char filter[64], line[128], ops[128], *out = NULL;
	static const char *const topo[2][2] = { { "1llc", "1n1l2c1t" }, { "2llc", "1n2l2c1t" } };
	int rc;

	suite_env_init(&e, true);
	snprintf(filter, sizeof(filter), "%s_", name);
	rc = run_suite(&e, "sched-real.yaml", filter, NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	if (!race)
		assert_has(out, "\n2 passed, 0 failed, 0 skipped\n");
	snprintf(ops, sizeof(ops), "\"sched_ext_ops\":\"%s", name);
	for (int i = 0; i < 2; i++) {
		char test[64], want[64], *rec;

		snprintf(test, sizeof(test), "%s_%s", name, topo[i][0]);
		rec = json_record(&e, test);
		if (race && strstr(rec, "\"verdict\":\"XFAIL\"")) {
			/* The race struck: its own signature, nothing else. */
			assert_has(rec, race);
			cr_assert(strstr(rec, "runnable task stall") || strstr(rec, "RCU CPU stall"),
				  "the ejection reason names no stall detector:\n%s", rec);
			cr_log_info("%s: the known race struck (XFAIL)", test);
			free(rec);
			continue;
		}
		snprintf(line, sizeof(line), "PASS  %s  (", test);
		assert_has(out, line);
		assert_has(rec, "\"verdict\":\"PASS\"");
		/* attached: the guest saw root/ops = ops_name while enabled */
		assert_has(rec, ops);
		snprintf(want, sizeof(want), "\"topology\":\"%s\"", topo[i][1]);
		assert_has(rec, want);
		assert_has(rec, "\"result_source\":\"ring\"");
		free(rec);
	}
	free(out);
	vmtest_rm_rf(e.tmp);
}

static void scheduler_passes(const char *name)
{
	scheduler_passes_racy(name, NULL);
}

Test(sched_real, scx_simple, .timeout = 600) { scheduler_passes("simple"); }
Test(sched_real, scx_central, .timeout = 600) { scheduler_passes("central"); }
Test(sched_real, scx_flatcg, .timeout = 600)
{
	scheduler_passes_racy("flatcg", "expected SCHED_DIED (upstream scx_flatcg lost-cgroup race");
}
Test(sched_real, scx_cpu0, .timeout = 600) { scheduler_passes("cpu0"); }

/* What no worker feels: scx_cpu0 queues every task on CPU 0. Its workers
 * all make progress (the guest's checks pass), and only the host-side
 * monitor, reading the runqueues from outside, fails it: imbalance. The
 * violation also fetches sched_ext's debug dump into the report. */
Test(sched_real, the_monitor_fails_a_scheduler_that_leaves_a_cpu_idle, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, true);
	rc = run_suite(&e, "sched-real.yaml", "imbalance_cpu0", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL  imbalance_cpu0  (");
	assert_has(out, "monitor: imbalance ratio ");
	assert_has(out, "> 4.0 for 5 consecutive samples (cpu0 nr_running ");
	assert_has(out, ", cpu1 ");
	assert_has(out, "), ending at +");
	assert_has(out, "--- monitor ---");
	/* The violation asked the guest for sched_ext's own dump: relayed. */
	assert_has(out, "sched_ext debug dump (SysRq-D), requested on the first violation:");
	/* the dump itself, as the kernel wrote it */
	assert_has(out, "SCX_EV_");
	/* The timeline joins the samples to the scenario's steps: the time
	 * before the first step apart, and the step the violation ended in. */
	assert_has(out, "  before the first step (boot, scheduler attach):\n      monitor: ");
	assert_has(out, " iterations\n      monitor: ");
	assert_has(out, " violation");
	rec = json_record(&e, "imbalance_cpu0");
	assert_has(rec, "\"verdict\":\"FAIL\"");
	assert_has(rec, "\"monitor\":{\"verdict\":\"MONITOR_FAIL\"");
	assert_has(rec, "\"check\":\"MONITOR_CHECK_IMBALANCE\"");
	assert_has(rec, "\"phases\":[{\"start_ns\":");
	/* The event counters live in a vmalloc'd per-CPU chunk on 7.2: read
	 * through the guest's page tables, not skipped. */
	assert_has(rec, "\"events\":[{\"name\":\"SCX_EV_SELECT_CPU_FALLBACK\",\"value\":");
	cr_assert_null(strstr(rec, "event counters not reachable"), "%s", rec);
	assert_has(rec, "{\"step_index\":0,");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
/* scx_userland is ejected by sched_ext's own stall detectors ("runnable task
 * stall" ~30 s in, or "RCU CPU stall detected!") in the steady scenario on
 * both topologies. The cause is upstream: its BPF side loses the wake-up of
 * its own user-space scheduler thread (usersched_needed consumed by a
 * dispatch that cannot take effect, never re-armed when that thread is
 * enqueued, nr_queued never incremented), reproduced without ktstr's
 * scenario engine; see docs/schedulers.md. The suite marks both tests
 * expect_failure (SCHED_DIED with a stall reason): this checks that the
 * scheduler attached, that the ejection is reported as that known bug
 * (XFAIL, run green, JUnit "skipped"), with the kernel's own disable line,
 * and never as an infrastructure error, a timeout or another verdict. Once
 * upstream is fixed the tests turn XPASS and this fails on purpose. */
static void known_upstream_bug_is_xfail(const char *name)
{
	struct suite_env e;
	char filter[64], args[1200], path[1100], *out = NULL;
	static char xml[65536];
	static const char *const topo[2] = { "1llc", "2llc" };
	int rc;

	suite_env_init(&e, true);
	snprintf(filter, sizeof(filter), "%s_", name);
	snprintf(path, sizeof(path), "%s/j.xml", e.tmp);
	snprintf(args, sizeof(args), "--junit %s", path);
	rc = run_suite_args(&e, "sched-real.yaml", filter, NULL, args, &out);
	cr_assert_eq(rc, 0, "exit %d (XFAIL is not a failure):\n%s", rc, out);
	assert_has(out, "\n0 passed, 0 failed, 0 skipped, 2 expected failures\n");
	for (int i = 0; i < 2; i++) {
		char test[64], line[96], *rec;

		snprintf(test, sizeof(test), "%s_%s", name, topo[i]);
		snprintf(line, sizeof(line), "XFAIL %s  (", test);
		assert_has(out, line);
		rec = json_record(&e, test);
		assert_has(rec, "\"verdict\":\"XFAIL\"");
		assert_has(rec, "expected SCHED_DIED (upstream scx_userland lost wake-up");
		/* The kernel's own disable line, read by the guest from
		 * sched_ext, naming one of its stall detectors. */
		assert_has(rec, "BPF scheduler \\\"userland\\\" disabled (");
		cr_assert(strstr(rec, "runnable task stall") || strstr(rec, "RCU CPU stall"),
			  "the ejection reason names no stall detector:\n%s", rec);
		free(rec);
	}
	vmtest_slurp(path, xml, sizeof(xml));
	assert_has(xml, "failures=\"0\" errors=\"0\" skipped=\"2\"");
	assert_has(xml, "<skipped message=\"expected SCHED_DIED");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_real, scx_userland, .timeout = 600) { known_upstream_bug_is_xfail("userland"); }
Test(sched_real, scx_pair, .timeout = 600) { scheduler_passes("pair"); }
Test(sched_real, scx_sdt, .timeout = 600) { scheduler_passes("sdt"); }
