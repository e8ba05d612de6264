/* The VM builder (ktstr_vm_run, docs/c-api.md) end to end: capi-vm-run, a
 * program linked with libktstr as a user links it, runs the static
 * capi-vm-prog in a QEMU VM through ktstr-orch (found by $KTSTR_ORCH) on
 * topology 1,1,2,1, and prints the typed result. Proven from inside the
 * guest: the program prints its argv (words with spaces, quotes and shell
 * metacharacters arrive exactly) and the 2 CPUs it sees; its exit code is
 * the result's; a program still running at the timeout is timed_out; a
 * missing kernel is an infra error with a message, not an exit code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

struct vm_env {
	char orch[1024], kernel[1024], runner[1024], prog[1100], tmp[1024];
};

/* The built programs, and the guest program copied into a world-readable
 * directory: ktstr-orch may read it as the user it drops root to. */
static void vm_env_init(struct vm_env *e)
{
	char build[1024], cmd[4096];

	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", e->kernel, sizeof(e->kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	cr_assert_eq(vmtest_build_dir(build, sizeof(build)), 0);
	snprintf(e->runner, sizeof(e->runner), "%.1000s/tests/capi-vm-run", build);
	if (access(e->runner, X_OK))
		test_missing("capi-vm-run not built (make tests-build)");
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
	chmod(e->tmp, 0755);
	snprintf(e->prog, sizeof(e->prog), "%s/capi-vm-prog", e->tmp);
	snprintf(cmd, sizeof(cmd), "cp %.1000s/tests/capi-vm-prog %s && chmod 0755 %s", build,
		 e->prog, e->prog);
	if (vmtest_sh(cmd, 10000, NULL))
		test_missing("capi-vm-prog not built (make tests-build)");
	setenv("KTSTR_ORCH", e->orch, 1);
}

/* capi-vm-run KERNEL TIMEOUT PROG ARGS...; its output in *out. */
static void vm_run(struct vm_env *e, const char *kernel, const char *timeout,
		   const char *const *args, char **out)
{
	char *argv[16] = { e->runner, (char *)kernel, (char *)timeout, e->prog };
	int n = 4, status = 0;

	for (; args && *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	cr_assert_eq(vmtest_run(argv, RUN_TIMEOUT_MS, out, &status), 0, "did not finish");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "capi-vm-run failed:\n%s",
		  *out);
}

Test(capi_vm, exact_argv_cpus_and_exit_code, .timeout = 600)
{
	struct vm_env e;
	const char *args[] = { "exit:7", "two words", "it's \"quoted\"", "$(touch /x);`id` *",
			       "", NULL };
	char *out = NULL;

	vm_env_init(&e);
	vm_run(&e, e.kernel, "240", args, &out);
	assert_has(out, "rc=0\noutcome=1\nexit=7\nengine=qemu\nerror=\n");
	assert_has(out, "\narg1=[exit:7]\narg2=[two words]\narg3=[it's \"quoted\"]\n"
			"arg4=[$(touch /x);`id` *]\narg5=[]\n");
	/* No extra word: the empty one was the last. */
	cr_assert_null(strstr(out, "arg6="), "%s", out);
	assert_has(out, "affinity_cpus=2\nonline_cpus=2\n");
	assert_has(out, "env_KTSTR_VM_TEST=[x y'z]\n");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi_vm, still_running_at_timeout_is_timed_out, .timeout = 600)
{
	struct vm_env e;
	const char *args[] = { "sleep", NULL };
	char *out = NULL;

	vm_env_init(&e);
	/* Long enough to boot under TCG on a loaded host; the program then
	 * sleeps for ever. */
	vm_run(&e, e.kernel, "120", args, &out);
	assert_has(out, "rc=0\noutcome=2\n");
	/* It ran: its first lines came back before the VM was stopped. */
	assert_has(out, "arg1=[sleep]\n");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi_vm, missing_kernel_is_an_infra_error, .timeout = 120)
{
	struct vm_env e;
	char *out = NULL, missing[1100];

	vm_env_init(&e);
	snprintf(missing, sizeof(missing), "%s/no-such-vmlinux", e.tmp);
	vm_run(&e, missing, "60", NULL, &out);
	assert_has(out, "rc=0\noutcome=3\nexit=0\n");
	assert_has(out, "no-such-vmlinux");
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(capi_vm, no_orchestrator_is_an_error_not_a_result, .timeout = 60)
{
	struct vm_env e;
	char *out = NULL;

	vm_env_init(&e);
	setenv("KTSTR_ORCH", "/nonexistent/ktstr-orch", 1);
	vm_run(&e, e.kernel, "60", NULL, &out);
	assert_has(out, "rc=-2\noutcome=3\n");
	assert_has(out, "cannot run /nonexistent/ktstr-orch");
	free(out);
	vmtest_rm_rf(e.tmp);
}
