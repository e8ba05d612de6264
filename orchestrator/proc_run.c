#include "proc_run.h"
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/spawn.h>
#include <ktstr/util.h>

#define PROC_OUT_MAX (256u << 20)

static int find_tool(const char *name, char *buf, size_t len)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (snprintf(buf, len, "%s/%s", dirs[i], name) >= (int)len)
			return -ENAMETOOLONG;
		if (!access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

int proc_drain(int fd, uint64_t deadline_ms, bool stoppable,
	       int (*sink)(void *ctx, const char *buf, size_t n), void *ctx)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(deadline_ms - ktstr_now_ms());
		char buf[65536];
		ssize_t n;
		int r;

		if (stoppable && stop_signal())
			return -EINTR;
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(left > 500 ? 500 : left)) < 0 && errno != EINTR)
			return -errno;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if ((r = sink(ctx, buf, (size_t)n)))
			return r;
	}
}

/* proc_run's sink: everything into out, bounded. */
static int sink_out(void *ctx, const char *buf, size_t n)
{
	struct strbuf *out = ctx;

	if (out->len + n > PROC_OUT_MAX)
		return -EFBIG;
	return sb_append(out, buf, n);
}

int proc_run(char *const argv[], int timeout_ms, struct strbuf *out, int quiet)
{
	static char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	char path[PATH_MAX];
	int pfd[2] = { -1, -1 }, status = 0, ret;
	struct spawn_opts so = { .env = env, .stdin_fd = -1, .stdout_fd = -2,
				 .stderr_fd = quiet ? -1 : -2, .pdeathsig = SIGKILL };
	uint64_t deadline = ktstr_now_ms() + (uint64_t)timeout_ms;
	pid_t pid;

	ret = find_tool(argv[0], path, sizeof(path));
	if (ret)
		return ret;
	if (out) {
		if (pipe2(pfd, O_CLOEXEC))
			return -errno;
		so.stdout_fd = pfd[1];
	} else {
		so.stdout_fd = STDERR_FILENO;
	}
	ret = ktstr_spawn(path, argv, &so, &pid);
	if (!ret)
		stop_watch_child(pid, false); /* a stop signal ends the tool at once */
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (ret) {
		if (pfd[0] >= 0)
			close(pfd[0]);
		return ret;
	}
	if (pfd[0] >= 0)
		ret = proc_drain(pfd[0], deadline, false, sink_out, out);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (ret) {
		kill(pid, SIGKILL);
		ktstr_wait_timeout(pid, &status, 5000);
		stop_watch_child(0, false);
		return ret;
	}
	{
		int64_t left = (int64_t)(deadline - ktstr_now_ms());

		ret = ktstr_wait_timeout(pid, &status, left > 0 ? (int)left : 1);
	}
	if (ret == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		ktstr_wait_timeout(pid, &status, 5000);
	}
	/* Reaped (or hopeless): its pid may be reused from here on. */
	stop_watch_child(0, false);
	if (ret)
		return ret;
	if (out && sb_append(out, "", 1) == 0)
		out->len--; /* keep it NUL-terminated for the parsers */
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
