/* fork+exec with fd hygiene. Every ktstr child starts with fds 0-2 plus
 * exactly the fds it was handed (as 3, 4, ...), and a caller-chosen
 * environment: no inherited secrets, no stray descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/spawn.h"
#include "ktstr/util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Runs in the child after fork: only async-signal-safe calls. On failure the
 * errno goes up the error pipe and the child exits 127. */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], const struct spawn_opts *o, int errfd)
{
	static char *const empty_env[] = { NULL };
	int high[16];
	size_t nkeep = o->nkeep;
	int err, devnull = -1;

	sigset_t none;

	if (nkeep > 16) {
		err = E2BIG;
		goto fail;
	}
	/* A child starts with no signal blocked, whatever its parent had
	 * blocked for its own handling (ktstr-orch blocks SIGINT/SIGTERM in
	 * every thread: orchestrator/stop.h). */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		goto fail_errno;
	if (o->child_hook) {
		err = -o->child_hook(o->child_hook_arg);
		if (err)
			goto fail;
	}
	if (o->set_ids && (setgroups(0, NULL) < 0 || setresgid(o->gid, o->gid, o->gid) < 0 ||
			   setresuid(o->uid, o->uid, o->uid) < 0))
		goto fail_errno;
	/* After the id change: a uid change clears the parent-death signal. */
	if (o->pdeathsig && prctl(PR_SET_PDEATHSIG, o->pdeathsig) < 0)
		goto fail_errno;
	if (o->new_pgrp && setpgid(0, 0) < 0)
		goto fail_errno;
	/* Move the kept fds out of the way first: a kept fd may already sit on
	 * one of the target numbers 3.. . */
	for (size_t i = 0; i < nkeep; i++) {
		high[i] = fcntl(o->keep[i], F_DUPFD_CLOEXEC, 100);
		if (high[i] < 0)
			goto fail_errno;
	}
	if (o->stdin_fd < 0 || o->stdout_fd == -1 || o->stderr_fd == -1) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0)
			goto fail_errno;
	}
	if (dup2(o->stdin_fd >= 0 ? o->stdin_fd : devnull, 0) < 0)
		goto fail_errno;
	if (o->stdout_fd != -2 && dup2(o->stdout_fd >= 0 ? o->stdout_fd : devnull, 1) < 0)
		goto fail_errno;
	if (o->stderr_fd != -2 && dup2(o->stderr_fd >= 0 ? o->stderr_fd : devnull, 2) < 0)
		goto fail_errno;
	for (size_t i = 0; i < nkeep; i++)
		if (dup2(high[i], 3 + (int)i) < 0)
			goto fail_errno;
	/* Everything above the kept range is marked close-on-exec, including
	 * the error pipe, which then closes on a successful exec. */
	if (syscall(SYS_close_range, 3 + (unsigned)nkeep, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3 + (int)nkeep; fd < 1024; fd++)
			if (fd != errfd)
				close(fd);
		fcntl(errfd, F_SETFD, FD_CLOEXEC);
	}
	execve(path, argv, o->env ? o->env : empty_env);
fail_errno:
	err = errno;
fail:
	if (write(errfd, &err, sizeof(err)) < 0) {
	}
	_exit(127);
}

int ktstr_spawn(const char *path, char *const argv[], const struct spawn_opts *o, pid_t *pid)
{
	int pfd[2], err = 0;
	ssize_t n;
	pid_t child;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (child == 0) {
		close(pfd[0]);
		child_exec(path, argv, o, pfd[1]);
	}
	close(pfd[1]);
	/* Bounded: the pipe closes at exec or carries an errno before exit. */
	do {
		n = read(pfd[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(child, NULL, 0);
		return -err;
	}
	*pid = child;
	return 0;
}

int ktstr_wait_timeout(pid_t pid, int *status, int timeout_ms)
{
	uint64_t deadline = ktstr_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		uint64_t now;

		if (r == pid) {
			if (pidfd >= 0)
				close(pidfd);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			int e = -errno;

			if (pidfd >= 0)
				close(pidfd);
			return e;
		}
		now = ktstr_now_ms();
		if (now >= deadline) {
			if (pidfd >= 0)
				close(pidfd);
			return -ETIMEDOUT;
		}
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			poll(&p, 1, (int)(deadline - now));
		} else {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

int ktstr_self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	return 0;
}
