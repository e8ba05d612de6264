/* vmtest_run_io (see vmtest.h): a child with scripted stdin and separate
 * stdout/stderr. Ownership: every pipe end is closed before return; output
 * buffers are handed to the caller. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "lib/vmtest.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reap pid: EOF on its output usually means it is exiting, but a grandchild
 * may still hold the pipes, so the wait is bounded (5 s, then SIGKILL of the
 * group) rather than a blocking waitpid. */
static int reap(pid_t pid, int *st)
{
	for (int i = 0; i < 500; i++) {
		pid_t w = waitpid(pid, st, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0)
			return -errno;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	return waitpid(pid, st, 0) == pid ? 0 : -errno;
}

int vmtest_run_io(char *const argv[], const void *in, size_t inlen, int timeout_ms, char **out,
		  size_t *outlen, char **err, int *status)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	struct strbuf sb[2] = { { 0 } };
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldpipe;
	int rc = 0, st = 0;

	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		rc = -errno;
		goto out_fds;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out_fds;
	}
	if (pid == 0) {
		/* Own process group: the timeout kills the whole tree (ktstr-orch,
		 * its worker and QEMU), not just the direct child. */
		setpgid(0, 0);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	/* A child that exits without reading all of stdin must fail the write
	 * with EPIPE, not kill the test with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &oldpipe);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	if (inlen == 0)
		close_fd(&pin[1]);

	size_t inoff = 0;
	uint64_t deadline = ktstr_now_ms() + (uint64_t)timeout_ms;
	while (pout[0] >= 0 || perr[0] >= 0) {
		uint64_t now = ktstr_now_ms();
		if (now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		struct pollfd pfd[3] = {
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
			{ .fd = pin[1], .events = POLLOUT },
		};
		int r = poll(pfd, 3, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &perr[0] : &pout[0];
			char buf[4096];

			if (!pfd[i].revents)
				continue;
			ssize_t n = read(*fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				close_fd(fd);
			else if (sb_append(&sb[i], buf, (size_t)n))
				rc = -ENOMEM;
		}
		if (pfd[2].revents) {
			ssize_t n = write(pin[1], (const char *)in + inoff, inlen - inoff);
			if (n > 0)
				inoff += (size_t)n;
			/* Done, or the child closed its stdin: either way EOF. */
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || inoff == inlen)
				close_fd(&pin[1]);
		}
		if (rc == -ENOMEM)
			break;
	}
	close_fd(&pin[1]);
	if (rc)
		kill(-pid, SIGKILL);
	int wrc = reap(pid, &st);
	sigaction(SIGPIPE, &oldpipe, NULL);
	if (!rc)
		rc = wrc;
	if (status)
		*status = st;
out_fds:
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	for (int i = 0; i < 2; i++) {
		char **dst = i ? err : out;

		if (i == 0 && outlen)
			*outlen = sb[0].len;
		sb_append(&sb[i], "", 1);
		if (dst)
			*dst = sb[i].buf;
		else
			sb_free(&sb[i]);
	}
	return rc;
}
