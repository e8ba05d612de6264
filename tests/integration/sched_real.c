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

static void scheduler_passes(const char *name)
{
	struct suite_env e;
	char filter[64], line[128], ops[128], *out = NULL;
	static const char *const topo[2][2] = { { "1llc", "1n1l2c1t" }, { "2llc", "1n2l2c1t" } };
	int rc;

	suite_env_init(&e, true);
	snprintf(filter, sizeof(filter), "%s_", name);
	rc = run_suite(&e, "sched-real.yaml", filter, NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "\n2 passed, 0 failed, 0 skipped\n");
	snprintf(ops, sizeof(ops), "\"sched_ext_ops\":\"%s", name);
	for (int i = 0; i < 2; i++) {
		char test[64], want[64], *rec;

		snprintf(test, sizeof(test), "%s_%s", name, topo[i][0]);
		snprintf(line, sizeof(line), "PASS  %s  (", test);
		assert_has(out, line);
		rec = json_record(&e, test);
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

Test(sched_real, scx_simple, .timeout = 600) { scheduler_passes("simple"); }
Test(sched_real, scx_central, .timeout = 600) { scheduler_passes("central"); }
Test(sched_real, scx_flatcg, .timeout = 600) { scheduler_passes("flatcg"); }
Test(sched_real, scx_cpu0, .timeout = 600) { scheduler_passes("cpu0"); }
/* scx_userland is ejected by sched_ext's own stall detectors ("runnable task
 * stall" ~30 s in, or "RCU CPU stall detected!") in the steady scenario on
 * both topologies. The cause is upstream: its BPF side loses the wake-up of
 * its own user-space scheduler thread (usersched_needed consumed by a
 * dispatch that cannot take effect, never re-armed when that thread is
 * enqueued, nr_queued never incremented), reproduced without ktstr's
 * scenario engine; see docs/schedulers.md. ktstr must not hide it, so this
 * test pins what ktstr must do either way: each run is a PASS, or a
 * SCHED_DIED that carries the kernel's own disable line and stall reason —
 * never an infrastructure error, a timeout or a misattributed verdict. */
static void scheduler_passes_or_ejection_is_reported(const char *name)
{
	struct suite_env e;
	char filter[64], *out = NULL;
	static const char *const topo[2] = { "1llc", "2llc" };
	int rc;

	suite_env_init(&e, true);
	snprintf(filter, sizeof(filter), "%s_", name);
	rc = run_suite(&e, "sched-real.yaml", filter, NULL, &out);
	cr_assert(rc == 0 || rc == 1, "exit %d (only 0 or 1 = test failures are acceptable):\n%s",
		  rc, out);
	for (int i = 0; i < 2; i++) {
		char test[64], pass[96], died[96], *rec;

		snprintf(test, sizeof(test), "%s_%s", name, topo[i]);
		snprintf(pass, sizeof(pass), "PASS  %s  (", test);
		snprintf(died, sizeof(died), "FAIL  %s  (", test);
		rec = json_record(&e, test);
		if (strstr(out, pass)) {
			assert_has(rec, "\"verdict\":\"PASS\"");
		} else {
			assert_has(out, died);
			assert_has(rec, "\"verdict\":\"SCHED_DIED\"");
			/* The kernel's own disable line, read by the guest from
			 * sched_ext, naming one of its stall detectors: seen so
			 * far "runnable task stall" (sched_ext watchdog) and
			 * "RCU CPU stall detected!". */
			assert_has(rec, "BPF scheduler \\\"userland\\\" disabled (");
			cr_assert(strstr(rec, "runnable task stall") || strstr(rec, "RCU CPU stall"),
				  "the ejection reason names no stall detector:\n%s", rec);
			cr_log_info("%s: ejected by sched_ext's watchdog (known, see docs/schedulers.md)",
				    test);
		}
		free(rec);
	}
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_real, scx_userland, .timeout = 600) { scheduler_passes_or_ejection_is_reported("userland"); }
Test(sched_real, scx_pair, .timeout = 600) { scheduler_passes("pair"); }
Test(sched_real, scx_sdt, .timeout = 600) { scheduler_passes("sdt"); }
