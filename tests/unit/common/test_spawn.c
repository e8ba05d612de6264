#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktstr/spawn.h"
#include "ktstr/util.h"

Test(spawn, missing_binary_reports_errno)
{
	char *argv[] = { "nope", NULL };
	struct spawn_opts o = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
	pid_t pid;

	cr_assert_eq(ktstr_spawn("/nonexistent/ktstr-nope", argv, &o, &pid), -ENOENT);
}

Test(spawn, child_sees_only_kept_fds_and_env)
{
	int out[2], extra;
	char buf[512] = { 0 };
	/* the child lists its fds and environment */
	char *argv[] = { "sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; env", NULL };
	char *env[] = { "KTSTR_TEST=1", NULL };
	struct spawn_opts o = { .stdin_fd = -1, .stderr_fd = -1, .env = env };
	pid_t pid;
	int status;
	ssize_t n;

	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	extra = open("/dev/null", O_RDONLY); /* not CLOEXEC: must still not leak */
	o.stdout_fd = out[1];
	o.keep = &extra;
	o.nkeep = 1;
	cr_assert_eq(ktstr_spawn("/bin/sh", argv, &o, &pid), 0);
	close(out[1]);
	n = read_full(out[0], buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	cr_assert_eq(ktstr_wait_timeout(pid, &status, 5000), 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* 0,1,2, the kept fd as 3, and the fd ls uses to read the dir */
	cr_assert(!strncmp(buf, "0 1 2 3 4 \n", 11), "fds: %s", buf);
	cr_assert(strstr(buf, "KTSTR_TEST=1"));
	cr_assert_null(strstr(buf, "HOME="), "environment must be clean: %s", buf);
	close(out[0]);
	close(extra);
}

Test(spawn, wait_timeout_is_bounded)
{
	char *argv[] = { "sleep", "5", NULL };
	struct spawn_opts o = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
	pid_t pid;
	int status;

	cr_assert_eq(ktstr_spawn("/bin/sleep", argv, &o, &pid), 0);
	cr_assert_eq(ktstr_wait_timeout(pid, &status, 50), -ETIMEDOUT);
	kill(pid, SIGKILL);
	cr_assert_eq(ktstr_wait_timeout(pid, &status, 5000), 0);
	cr_assert(WIFSIGNALED(status));
}
