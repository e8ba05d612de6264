/* ktstr-orch shell --exec: the command's output and exit status. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/vmtest.h"

static int orch_shell(const char *exec_cmd, const char *extra, char **out)
{
	char orch[1024], kernel[1024];
	char *argv[16];
	int n = 0, status = 0;

	if (vmtest_bin("ktstr-orch", orch, sizeof(orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", kernel, sizeof(kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	argv[n++] = orch;
	argv[n++] = "shell";
	argv[n++] = "--topology";
	argv[n++] = "1,1,2,1";
	argv[n++] = "--kernel";
	argv[n++] = kernel;
	if (extra) {
		argv[n++] = "--include";
		argv[n++] = (char *)extra;
	}
	argv[n++] = "--exec";
	argv[n++] = (char *)exec_cmd;
	argv[n] = NULL;
	cr_assert_eq(vmtest_run(argv, 300 * 1000, out, &status), 0, "shell hung");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(orch_shell, exec_exit_status_becomes_ours, .timeout = 400)
{
	char *out = NULL;
	int rc = orch_shell("exit 7", NULL, &out);

	cr_assert_eq(rc, 7, "exit %d:\n%s", rc, out);
	free(out);
}

Test(orch_shell, exec_output_is_printed_and_includes_are_there, .timeout = 400)
{
	char *out = NULL;
	char inc[] = "/tmp/ktstr-include-XXXXXX";
	int fd = mkstemp(inc), rc;
	char cmd[256];

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "hello-from-host\n", 16), 16);
	/* mkstemp makes it 0600; started as root, ktstr-orch runs as nobody
	 * and its builder must read the include. */
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "cat /include-files/%s; nproc", strrchr(inc, '/') + 1);
	rc = orch_shell(cmd, inc, &out);
	unlink(inc);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "hello-from-host\n"), "%s", out);
	cr_assert(strstr(out, "\n2\n") || !strncmp(out, "2\n", 2), "two vCPUs:\n%s", out);
	free(out);
}

/* The relay is byte-exact: a CR is the command's own (COM2 is raw in exec
 * mode), a line that looks like the guest's status line is output unless it
 * is the very end, and a last line without a newline is neither lost nor
 * merged with the status. */
Test(orch_shell, exec_output_is_verbatim_to_the_last_byte, .timeout = 400)
{
	static const char want[] = "a\r\nKTSTR_EXEC_EXIT=5\nKTSTR_EXIT=5\nno-newline";
	char orch[1024], kernel[1024];
	char *out = NULL, *err = NULL;
	size_t outlen = 0;
	int status = 0;

	if (vmtest_bin("ktstr-orch", orch, sizeof(orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", kernel, sizeof(kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	char *argv[] = { orch, "shell", "--topology", "1,1,1,1", "--kernel", kernel, "--exec",
			 "printf 'a\\r\\nKTSTR_EXEC_EXIT=5\\nKTSTR_EXIT=5\\nno-newline'; exit 6",
			 NULL };
	cr_assert_eq(vmtest_run_io(argv, NULL, 0, 300 * 1000, &out, &outlen, &err, &status), 0,
		     "shell hung");
	cr_assert(out && err, "out of memory capturing ktstr-orch's output");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 6,
		  "expected exit 6, got status 0x%x\n--- stderr ---\n%s", status, err);
	cr_expect(outlen == sizeof(want) - 1 && !memcmp(out, want, outlen),
		  "stdout is not the command's %zu bytes verbatim (got %zu):\n%s\n--- stderr "
		  "---\n%s",
		  sizeof(want) - 1, outlen, out, err);
	free(out);
	free(err);
}
