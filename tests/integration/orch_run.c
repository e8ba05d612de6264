/* ktstr-orch end to end: real workers, real builder, real VMs (QEMU TCG
 * here). Each test runs the built ktstr-orch as a user would. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/vmtest.h"

#define ORCH_TIMEOUT_MS (420 * 1000)

struct orch_env {
	char orch[1024], kernel[1024], src[1024], tmp[1024];
};

static void orch_env(struct orch_env *e)
{
	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		cr_skip_test("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", e->kernel, sizeof(e->kernel)))
		cr_skip_test("no kernel to boot (set KTSTR_TEST_KERNEL)");
	cr_assert_eq(vmtest_src_dir(e->src, sizeof(e->src)), 0);
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
}

/* Run a shell command line; returns the exit status, output in *out. */
static int sh(const char *cmd, char **out)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int status = 0;

	cr_assert_eq(vmtest_run(argv, ORCH_TIMEOUT_MS, out, &status), 0, "command hung: %s", cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(orch, eevdf_suite_passes_on_three_topologies_with_two_workers, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	orch_env(&e);
	snprintf(cmd, sizeof(cmd),
		 "%s --workers 2 run %s/examples/eevdf.yaml --kernel %s --junit %s/j.xml "
		 "--json %s/r.json 2>&1",
		 e.orch, e.src, e.kernel, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "PASS  eevdf_steady_1llc"), "%s", out);
	cr_assert(strstr(out, "PASS  eevdf_steady_2llc"), "%s", out);
	cr_assert(strstr(out, "PASS  eevdf_smt"), "%s", out);
	cr_assert(strstr(out, "\n3 passed, 0 failed, 0 skipped\n"), "%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s/j.xml && grep -c '\"topology\"' %s/r.json",
		 e.tmp, e.tmp);
	out = NULL;
	cr_assert_eq(sh(cmd, &out), 0, "JUnit invalid or JSON missing: %s", out);
	cr_assert_eq(atoi(out), 3, "one JSON record per test");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(orch, a_failing_test_exits_1_with_a_useful_report, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	orch_env(&e);
	snprintf(cmd, sizeof(cmd), "%s run %s/examples/failing.yaml --kernel %s 2>&1", e.orch, e.src,
		 e.kernel);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "FAIL  eevdf_impossible_spread"), "%s", out);
	cr_assert(strstr(out, "--- failed checks ---"), "%s", out);
	cr_assert(strstr(out, "--- stats ---"), "%s", out);
	cr_assert(strstr(out, "--- timeline ---"), "%s", out);
	cr_assert(strstr(out, "--- console COM1 (tail) ---"), "%s", out);
	cr_assert(strstr(out, "\n0 passed, 1 failed, 0 skipped\n"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The first worker is killed a few seconds into its VM; the run must report
 * an infrastructure error for that test and still run the other one. */
Test(orch, a_worker_killed_mid_run_is_reported_and_the_run_completes, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], worker[1024], *out = NULL;
	int rc;
	FILE *f;

	orch_env(&e);
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", worker, sizeof(worker)), 0);
	snprintf(cmd, sizeof(cmd), "%s/killer-worker", e.tmp);
	f = fopen(cmd, "w");
	cr_assert_not_null(f);
	/* First call: run the real worker in the background with the control
	 * socket (fd 3), drop our copy so EOF reaches the orchestrator, then
	 * SIGKILL it mid-boot. Later calls: the real worker. */
	fprintf(f, "#!/bin/sh\n"
		   "if mkdir %s/first 2>/dev/null; then\n"
		   "  %s & p=$!\n"
		   "  exec 3<&-\n"
		   "  sleep 3; kill -KILL $p; wait $p; exit 137\n"
		   "fi\n"
		   "exec %s\n",
		e.tmp, worker, worker);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "chmod +x %s/killer-worker && printf 'tests:\\n  - {name: victim, duration: 1s}\\n"
		 "  - {name: survivor, duration: 1s}\\n' > %s/two.yaml && "
		 "KTSTR_VMM_WORKER=%s/killer-worker %s --workers 1 run %s/two.yaml --kernel %s 2>&1",
		 e.tmp, e.tmp, e.tmp, e.orch, e.tmp, e.kernel);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 3, "infrastructure errors exit 3, got %d:\n%s", rc, out);
	cr_assert(strstr(out, "FAIL  victim"), "%s", out);
	cr_assert(strstr(out, "INFRA_ERROR"), "%s", out);
	cr_assert(strstr(out, "PASS  survivor"), "the run went on:\n%s", out);
	cr_assert(strstr(out, "\n1 passed, 1 failed, 0 skipped\n"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* SIGINT mid-run: exit 130 and nothing of the run left behind. */
Test(orch, sigint_stops_every_vm_and_leaves_no_process, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	orch_env(&e);
	/* `&` in a non-interactive sh: the orchestrator is not a group leader,
	 * so setsid makes it one without forking: its pid is the group id that
	 * every worker and QEMU it starts inherits. */
	snprintf(cmd, sizeof(cmd),
		 "setsid %s run %s/examples/eevdf.yaml --kernel %s >%s/out 2>&1 & P=$!; "
		 "sleep 4; kill -INT $P; wait $P; echo rc=$?; sleep 1; "
		 "if pgrep -g $P >/dev/null; then echo LEFTOVER; pgrep -a -g $P; fi; cat %s/out",
		 e.orch, e.src, e.kernel, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "rc=130"), "interrupted runs exit 130:\n%s", out);
	cr_assert_null(strstr(out, "LEFTOVER"), "processes left behind:\n%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}
