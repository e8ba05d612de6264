/* Issue 16: --kernel repeated makes the kernel a dimension of the plan.
 * One EEVDF test and one sched_ext test (the fixture scheduler scx_ktstr)
 * on sid's 7.x kernel and bookworm's 6.12, which has no sched_ext: per
 * kernel results under names ending in "/k=LABEL", the sched_ext test a
 * skip on 6.12 with the reason naming that kernel, and the planned kernel
 * in every JSON record and JUnit testcase. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* The label list prints for image (" k=LABEL IMAGE (sched_ext ...)" in
 * its host line) into buf. */
static void label_of(const char *list, const char *image, char *buf, size_t len)
{
	char key[1200];
	const char *hit, *k;

	snprintf(key, sizeof(key), " %s (sched_ext ", image);
	hit = strstr(list, key);
	cr_assert_not_null(hit, "no '%s' in the list's host line:\n%s", key, list);
	for (k = hit; k > list && strncmp(k, " k=", 3); k--)
		;
	cr_assert(!strncmp(k, " k=", 3), "no label before %s:\n%s", image, list);
	snprintf(buf, len, "%.*s", (int)(hit - k - 3), k + 3);
}

Test(orch_kernels, two_kernels_give_per_kernel_results_and_skip_sched_ext_on_6_12,
     .timeout = 900)
{
	const char *noscx = getenv("KTSTR_TEST_KERNEL_NOSCX");
	struct suite_env e;
	char args[4096], cmd[8192], l7[64], l6[64], name[256], want[1400], *out = NULL, *rec;
	char *xml = NULL;
	size_t n = 0;
	int rc;

	if (!noscx || !*noscx)
		test_missing("KTSTR_TEST_KERNEL_NOSCX unset (scripts/run-tests fetches bookworm's "
			     "6.12 kernel for it)");
	suite_env_init(&e, true);
	/* The labels, as `list` shows them (they come from the kernels'
	 * directory names, which the cache decides). */
	snprintf(cmd, sizeof(cmd), "KTSTR_SCHEDULER_PATH=%s/bin %s list %s/tests/suites/kernels.yaml "
				   "--kernel %s --kernel %s 2>&1",
		 e.tmp, e.orch, e.src, e.kernel, noscx);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "list failed: %s", out ? out : "");
	label_of(out, e.kernel, l7, sizeof(l7));
	label_of(out, noscx, l6, sizeof(l6));
	cr_assert_str_neq(l7, l6);
	free(out);
	out = NULL;

	snprintf(args, sizeof(args), " --kernel %s --junit %s/r.xml", noscx, e.tmp);
	rc = run_suite_args(&e, "kernels.yaml", NULL, NULL, args, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	snprintf(want, sizeof(want), "PASS  eevdf_steady/k=%s  (", l7);
	assert_has(out, want);
	snprintf(want, sizeof(want), "PASS  eevdf_steady/k=%s  (", l6);
	assert_has(out, want);
	snprintf(want, sizeof(want), "PASS  scx_steady/k=%s  (", l7);
	assert_has(out, want);
	snprintf(want, sizeof(want),
		 "SKIP  scx_steady/k=%s  (kernel %.200s has no sched_ext (CONFIG_SCHED_CLASS_EXT); "
		 "scheduler 'ktstr' needs it)", l6, noscx);
	assert_has(out, want);
	assert_has(out, "3 passed, 0 failed, 1 skipped");

	/* JSON: one record per test and kernel, each with its kernel. */
	snprintf(name, sizeof(name), "scx_steady/k=%s", l6);
	rec = json_record(&e, name);
	snprintf(want, sizeof(want), "\"kernel\":\"%s\"", noscx);
	assert_has(rec, want);
	assert_has(rec, "\"verdict\":\"SKIP\"");
	free(rec);
	snprintf(name, sizeof(name), "scx_steady/k=%s", l7);
	rec = json_record(&e, name);
	snprintf(want, sizeof(want), "\"kernel\":\"%s\"", e.kernel);
	assert_has(rec, want);
	assert_has(rec, "\"verdict\":\"PASS\"");
	free(rec);

	/* JUnit: the kernel as a property of each testcase. */
	snprintf(cmd, sizeof(cmd), "%s/r.xml", e.tmp);
	cr_assert_eq(read_file(cmd, &xml, &n, 16u << 20), 0, "no JUnit report at %s", cmd);
	snprintf(want, sizeof(want), "name=\"eevdf_steady/k=%s\"", l6);
	assert_has(xml, want);
	snprintf(want, sizeof(want), "<property name=\"kernel\" value=\"%s\"/>", noscx);
	assert_has(xml, want);
	assert_has(xml, "tests=\"4\" failures=\"0\" errors=\"0\" skipped=\"1\"");
	free(xml);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The same kernel twice (here by path and by a link to it) is refused
 * before anything starts: exit 2 with both arguments named. */
Test(orch_kernels, the_same_kernel_twice_is_refused, .timeout = 120)
{
	struct suite_env e;
	char cmd[8192], *out = NULL;

	suite_env_init(&e, false);
	snprintf(cmd, sizeof(cmd), "ln -s %s %s/again && %s list %s/tests/suites/kernels.yaml "
				   "--kernel %s --kernel %s/again 2>&1; echo rc=$?",
		 e.kernel, e.tmp, e.orch, e.src, e.kernel, e.tmp);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s", out ? out : "");
	assert_has(out, "are the same kernel");
	assert_has(out, "rc=2");
	free(out);
	vmtest_rm_rf(e.tmp);
}
