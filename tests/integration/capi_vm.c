/* The VM builder (ktstr_vm_run, docs/c-api.md) end to end: the example
 * examples/c/vm_run.c, linked with libktstr as a user links it (static and
 * shared), runs the static
 * capi-vm-prog in a QEMU VM through ktstr-orch (found by $KTSTR_ORCH) on
 * topology 1,1,2,1, and prints the typed result. Proven from inside the
 * guest: the program prints its argv (words with spaces, quotes and shell
 * metacharacters arrive exactly) and the 2 CPUs it sees; its exit code is
 * the result's; a program still running at the timeout is timed_out; a
 * missing kernel is an infra error with a message, not an exit code; a
 * crash reads 128 + the signal. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

struct vm_env {
	char orch[1024], kernel[1024], runner[1100], prog[1100], tmp[1024];
};

/* The built programs, and the guest program copied into a world-readable
 * directory: ktstr-orch may read it as the user it drops root to. */
static void vm_env_init(struct vm_env *e, bool shared)
{
	char build[1024], cmd[4096];

	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", e->kernel, sizeof(e->kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	cr_assert_eq(vmtest_build_dir(build, sizeof(build)), 0);
	snprintf(e->runner, sizeof(e->runner), "%.900s/examples/ktstr-example-vm_run%s", build,
		 shared ? "-shared" : "");
	if (access(e->runner, X_OK))
		test_missing("ktstr-example-vm_run not built (make examples)");
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
	chmod(e->tmp, 0755);
	snprintf(e->prog, sizeof(e->prog), "%s/capi-vm-prog", e->tmp);
	snprintf(cmd, sizeof(cmd), "cp %.1000s/tests/capi-vm-prog %s && chmod 0755 %s", build,
		 e->prog, e->prog);
	if (vmtest_sh(cmd, 10000, NULL))
		test_missing("capi-vm-prog not built (make tests-build)");
	setenv("KTSTR_ORCH", e->orch, 1);
}

/* ktstr-example-vm_run -k KERNEL -t TIMEOUT -T 1,1,2,1 -e qemu
 * -E CAPI_VM_ENV=.. PROG ARGS...; its output in *out, its exit status
 * returned. */
static int vm_run(struct vm_env *e, const char *kernel, const char *timeout,
		  const char *const *args, char **out)
{
	char *argv[24] = { e->runner, "-k", (char *)kernel, "-t", (char *)timeout, "-T", "1,1,2,1",
			   "-e", "qemu", "-E", "CAPI_VM_ENV=x y'z", e->prog };
	int n = 12, status = 0;

	for (; args && *args && n < 23; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	cr_assert_eq(vmtest_run(argv, RUN_TIMEOUT_MS, out, &status), 0, "did not finish");
	cr_assert(WIFEXITED(status), "%s", *out);
	return WEXITSTATUS(status);
}

static void exact_argv(bool shared)
{
	struct vm_env e;
	const char *args[] = { "exit:7", "two words", "it's \"quoted\"", "$(touch /x);`id` *",
			       "", NULL };
	char *out = NULL;

	vm_env_init(&e, shared);
	cr_assert_eq(vm_run(&e, e.kernel, "240", args, &out), 0, "%s", out);
	assert_has(out, "rc=0\noutcome=exited\nexit=7\nengine=qemu\nerror=\n");
	assert_has(out, "\narg1=[exit:7]\narg2=[two words]\narg3=[it's \"quoted\"]\n"
			"arg4=[$(touch /x);`id` *]\narg5=[]\n");
	/* No extra word: the empty one was the last. */
	cr_assert_null(strstr(out, "arg6="), "%s", out);
	assert_has(out, "affinity_cpus=2\nonline_cpus=2\n");
	assert_has(out, "\nenv:[CAPI_VM_ENV=x y'z]\n");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi_vm, exact_argv_cpus_and_exit_code, .timeout = 600)
{
	exact_argv(false);
}

Test(capi_vm, exact_argv_cpus_and_exit_code_shared_lib, .timeout = 600)
{
	exact_argv(true);
}

Test(capi_vm, still_running_at_timeout_is_timed_out, .timeout = 600)
{
	struct vm_env e;
	const char *args[] = { "sleep", NULL };
	char *out = NULL;

	vm_env_init(&e, false);
	/* Long enough to boot under TCG on a loaded host; the program then
	 * sleeps for ever. */
	cr_assert_eq(vm_run(&e, e.kernel, "120", args, &out), 0, "%s", out);
	assert_has(out, "rc=0\noutcome=timed_out\n");
	/* It ran: its first lines came back before the VM was stopped. */
	assert_has(out, "arg1=[sleep]\n");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi_vm, missing_kernel_is_an_infra_error, .timeout = 120)
{
	struct vm_env e;
	char *out = NULL, missing[1100];

	vm_env_init(&e, false);
	snprintf(missing, sizeof(missing), "%s/no-such-vmlinux", e.tmp);
	cr_assert_eq(vm_run(&e, missing, "60", NULL, &out), 0, "%s", out);
	assert_has(out, "rc=0\noutcome=infra_error\nexit=0\n");
	assert_has(out, "no-such-vmlinux");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi_vm, no_orchestrator_is_an_error_not_a_result, .timeout = 60)
{
	struct vm_env e;
	char *out = NULL;

	vm_env_init(&e, false);
	setenv("KTSTR_ORCH", "/nonexistent/ktstr-orch", 1);
	cr_assert_eq(vm_run(&e, e.kernel, "60", NULL, &out), 3, "%s", out);
	assert_has(out, "rc=-2\noutcome=infra_error\n");
	assert_has(out, "cannot run /nonexistent/ktstr-orch");
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* A crash is an exit status the guest's shell reports as 128 + the signal:
 * typed as exited (the program ended), not as an infra error. */
Test(capi_vm, crash_reads_128_plus_the_signal, .timeout = 600)
{
	struct vm_env e;
	const char *args[] = { "segv", NULL };
	char *out = NULL;

	vm_env_init(&e, false);
	cr_assert_eq(vm_run(&e, e.kernel, "240", args, &out), 0, "%s", out);
	assert_has(out, "rc=0\noutcome=exited\nexit=139\n");
	assert_has(out, "arg1=[segv]\n");
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* SIGTERM to ktstr-orch (a killed CI job) while it boots or runs the VM:
 * interrupted, with ktstr-orch's word for it, not an infra error. */
Test(capi_vm, a_stopped_orchestrator_is_interrupted, .timeout = 600)
{
	struct vm_env e;
	char cmd[8192], *out = NULL;

	vm_env_init(&e, false);
	/* The example's only child is ktstr-orch; it alone gets the signal. */
	snprintf(cmd, sizeof(cmd),
		 "%s -k %s -t 240 %s sleep > %s/out 2>&1 & p=$!; sleep 3; "
		 "kill -TERM $(pgrep -P $p); wait $p; echo status=$?; cat %s/out",
		 e.runner, e.kernel, e.prog, e.tmp, e.tmp);
	cr_assert_eq(sh_status(cmd, RUN_TIMEOUT_MS, &out), 0, "%s", out);
	assert_has(out, "status=0\n");
	assert_has(out, "rc=0\noutcome=interrupted\n");
	assert_has(out, "error=Terminated\n");
	free(out);
	vmtest_rm_rf(e.tmp);
}
