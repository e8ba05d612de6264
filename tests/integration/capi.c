/* The C API end to end (docs/c-api.md): a test program built with libktstr
 * runs its own functions in QEMU VMs through `PROG run`, which renders its
 * tests as a suite and runs ktstr-orch on it. examples/c/sched_tests.c
 * passes under scx_simple (with a required flag whose profile is on the
 * command line) and the fixture scheduler, both statically and dynamically
 * linked (the shared libktstr reaches the guest through the image's
 * library closure), and its expected failure is XFAIL with its message;
 * tests/integration/data/capi_faults.c shows a failed check's message, a
 * SIGSEGV as a typed failure with the signal and output tail, a function
 * that never returns ending at its bound, and a scheduler that dies while
 * the function runs as SCHED_DIED. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* PROG run --kernel K --json tmp/r.json --filter F, with ktstr-orch found
 * through KTSTR_ORCH and the staged schedulers. PROG is under the build
 * directory (bin/../REL). */
static int run_prog(const struct suite_env *e, const char *rel, const char *filter, char **out)
{
	char prog[2048], cmd[8192], *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int status = 0;

	snprintf(prog, sizeof(prog), "%.1000s", e->orch);
	*strrchr(prog, '/') = '\0'; /* BUILD/bin */
	snprintf(prog + strlen(prog), sizeof(prog) - strlen(prog), "/../%.900s", rel);
	if (access(prog, X_OK))
		test_missing("no test program built at that path (make tests-build)");
	snprintf(cmd, sizeof(cmd),
		 "KTSTR_ORCH=%s KTSTR_SCHEDULER_PATH=%s/bin %s run --workers 1 --kernel %s --json %s/r.json "
		 "--filter %s 2>&1",
		 e->orch, e->tmp, prog, e->kernel, e->tmp, filter);
	cr_assert_eq(vmtest_run(argv, RUN_TIMEOUT_MS, out, &status), 0,
		     "did not finish within %d s: %s", RUN_TIMEOUT_MS / 1000, cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void examples_pass(const char *prog)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, true);
	rc = run_prog(&e, prog, "_", &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  simple_custom_workload  (");
	assert_has(out, "PASS  simple_cpuset  (");
	assert_has(out, "PASS  ktstr_custom_workload  (");
	assert_has(out, "PASS  ktstr_cpuset  (");
	assert_has(out, "PASS  ktstr_steps  (");
	assert_has(out, "XFAIL eevdf_expected_failure  (");
	assert_has(out, "queue depth 3 > limit 2");
	assert_has(out, "5 passed, 0 failed, 0 skipped, 1 expected failure\n");
	/* The function's telemetry is the test's: its cgroups' workers are
	 * in the record, judged by the guest's checks. */
	rec = json_record(&e, "ktstr_cpuset");
	assert_has(rec, "\"cgroup\":\"a\"");
	assert_has(rec, "\"cgroup\":\"b\"");
	free(rec);
	/* The required flag's profile reached the scheduler's command line. */
	rec = json_record(&e, "simple_custom_workload");
	assert_has(rec, "\"cgroup\":\"mixed\"");
	free(rec);
	rec = json_record(&e, "ktstr_steps");
	assert_has(rec, "\"cgroup\":\"added\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi, examples_pass_static, .timeout = 900)
{
	examples_pass("examples/ktstr-example-sched_tests");
}

/* The shared variant finds libktstr.so.0 through its RUNPATH, the build's
 * lib directory, packed at that path. A checkout under /tmp or /run (CI's
 * fresh clone is /tmp/ci-clone) packs it there: the guest keeps image files
 * in those directories visible instead of hiding them under a tmpfs
 * (guest/mounts.c). */
Test(capi, examples_pass_shared_library, .timeout = 900)
{
	examples_pass("examples/ktstr-example-sched_tests-shared");
}

Test(capi, failures_crashes_and_hangs_are_typed, .timeout = 900)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, true);
	rc = run_prog(&e, "tests/capi-faults", "fault_", &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	/* A failed check: its message is the verdict's detail. */
	assert_has(out, "FAIL  fault_message  (");
	assert_has(out, "FAIL: widget count 7, expected 8");
	rec = json_record(&e, "fault_message");
	assert_has(rec, "{\"check\":\"widgets\",\"message\":\"widget count 7, expected 8\"");
	assert_has(rec, "\"cgroup\":\"w\"");
	free(rec);
	/* A crash: the signal, and what it printed before it. */
	assert_has(out, "FAIL  fault_segv  (");
	assert_has(out, "killed by signal 11 (Segmentation fault)");
	assert_has(out, "capi-faults: about to dereference NULL");
	rec = json_record(&e, "fault_segv");
	assert_has(rec, "\"signal\":11");
	free(rec);
	/* A function that never returns: ended at its duration (3 s; the
	 * message gives the measured time). */
	assert_has(out, "FAIL  fault_hang  (");
	assert_has(out, "FAIL: payload c_test.capi-faults: timed out after 3");
	assert_has(out, "capi-faults: sleeping forever");
	rec = json_record(&e, "fault_hang");
	assert_has(rec, "\"timed_out\":true");
	free(rec);
	/* A function that skips itself: SKIP with its reason. */
	assert_has(out, "SKIP  fault_skip  (");
	assert_has(out, "needs 64 CPUs, the VM has 2");
	/* The scheduler dying while the function runs: PID 1's verdict. */
	assert_has(out, "SCHED_DIED");
	assert_has(out, "while payload c_test.capi-faults ran");
	cr_assert_null(strstr(out, "the run outlived the scheduler"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The host role without a VM: `PROG list` is ktstr-orch's list of the suite
 * `PROG suite` prints (one semantics), on the host as it is; the guest
 * role refuses to run outside a VM; no command is a usage error. */
static void prog_path(const struct suite_env *e, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%.1000s", e->orch);
	*strrchr(buf, '/') = '\0';
	snprintf(buf + strlen(buf), len - strlen(buf), "/../%.900s", rel);
	if (access(buf, X_OK))
		test_missing("no test program built at that path (make tests-build)");
}

Test(capi, list_is_ktstr_orch_list_of_its_suite, .timeout = 120)
{
	struct suite_env e;
	char prog[2048], cmd[8192], *a = NULL, *b = NULL;

	suite_env_init(&e, false);
	prog_path(&e, "examples/ktstr-example-sched_tests", prog, sizeof(prog));
	snprintf(cmd, sizeof(cmd), "KTSTR_ORCH=%s %s list --kernel %s --gauntlet 2>/dev/null", e.orch,
		 prog, e.kernel);
	cr_assert_eq(vmtest_sh(cmd, 60000, &a), 0, "%s: %s", cmd, a);
	snprintf(cmd, sizeof(cmd),
		 "%s suite > %s/s.yaml && chmod a+r %s/s.yaml && %s list %s/s.yaml --kernel %s "
		 "--gauntlet 2>/dev/null",
		 prog, e.tmp, e.tmp, e.orch, e.tmp, e.kernel);
	cr_assert_eq(vmtest_sh(cmd, 60000, &b), 0, "%s: %s", cmd, b);
	cr_assert_str_eq(a, b);
	assert_has(a, "gauntlet/simple_custom_workload/");
	assert_has(a, "fifo+verbose");
	cr_assert_null(strstr(a, "/verbose "), "verbose alone is not a profile:\n%s", a);
	free(a);
	free(b);
	vmtest_rm_rf(e.tmp);
}

Test(capi, guest_role_refuses_the_host_and_no_command_is_usage, .timeout = 60)
{
	struct suite_env e;
	char prog[2048], *out = NULL;
	int status = 0;

	suite_env_init(&e, false);
	prog_path(&e, "examples/ktstr-example-sched_tests", prog, sizeof(prog));
	{
		char *argv[] = { prog, "--ktstr-guest-run", "simple_cpuset", NULL };

		cr_assert_eq(vmtest_run(argv, 10000, &out, &status), 0);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s", out);
		assert_has(out, "runs only inside a ktstr VM");
		free(out);
	}
	{
		char *argv[] = { prog, "--ktstr-guest-run", "no_such_test", NULL };

		cr_assert_eq(vmtest_run(argv, 10000, &out, &status), 0);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s", out);
		assert_has(out, "no test function 'no_such_test' is registered");
		free(out);
	}
	{
		char *argv[] = { prog, NULL };

		cr_assert_eq(vmtest_run(argv, 10000, &out, &status), 0);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s", out);
		assert_has(out, "usage: ");
		free(out);
	}
	vmtest_rm_rf(e.tmp);
}
