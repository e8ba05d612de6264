#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/wait.h>

#include "child.h"

/* Pipes for child_pause(): set in the parent before fork, inherited. */
static int pause_ready[2] = { -1, -1 };
static int pause_go[2] = { -1, -1 };

static int wait_bounded(pid_t pid, bool *timed_out)
{
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	int status = 0;

	*timed_out = false;
	for (int waited = 0; waited < CHILD_TIMEOUT_MS; waited += 2) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		nanosleep(&tick, NULL);
	}
	*timed_out = true;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

int child_run(child_fn fn, void *arg, bool *timed_out)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn(arg);
		_exit(CHILD_EXIT_OK);
	}
	return wait_bounded(pid, timed_out);
}

void child_pause(void)
{
	char c = 'r';

	/* write/read are in every role's base rules */
	if (write(pause_ready[1], &c, 1) != 1 || read(pause_go[0], &c, 1) != 1)
		_exit(CHILD_EXIT_PROBE_FAILED);
}

int child_run_paused(child_fn fn, void *arg, char *status_buf, size_t len, bool *timed_out)
{
	char path[64], c = 'g';
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	FILE *f;
	size_t n;
	pid_t pid;
	int status;

	status_buf[0] = '\0';
	if (pipe(pause_ready) < 0 || pipe(pause_go) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn(arg);
		_exit(CHILD_EXIT_OK);
	}
	close(pause_ready[1]);
	close(pause_go[0]);
	/* Wait (bounded) for the child to say it is confined. */
	for (int waited = 0; waited < CHILD_TIMEOUT_MS; waited += 2) {
		struct timespec zero = { 0, 0 };
		fd_set rf;

		FD_ZERO(&rf);
		FD_SET(pause_ready[0], &rf);
		if (pselect(pause_ready[0] + 1, &rf, NULL, NULL, &zero, NULL) > 0) {
			if (read(pause_ready[0], &c, 1) == 1) {
				snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
				f = fopen(path, "re");
				if (f) {
					n = fread(status_buf, 1, len - 1, f);
					status_buf[n] = '\0';
					fclose(f);
				}
			}
			break;
		}
		nanosleep(&tick, NULL);
	}
	c = 'g';
	/* A child that died before pausing has no reader left: EPIPE, not a
	 * SIGPIPE that would kill the test runner. */
	signal(SIGPIPE, SIG_IGN);
	if (write(pause_go[1], &c, 1) < 0) {
		/* child already gone: its status tells why */
	}
	close(pause_ready[0]);
	close(pause_go[1]);
	status = wait_bounded(pid, timed_out);
	return status;
}

const char *status_field(const char *status, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = status;

	out[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			const char *v = p + klen + 1;
			size_t n = 0;

			while (*v == ' ' || *v == '\t')
				v++;
			while (v[n] && v[n] != '\n' && n + 1 < len)
				n++;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return out;
}

const char *wait_text(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "wait failed");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s (%d)", strsignal(WTERMSIG(status)), WTERMSIG(status));
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
}

bool killed_by_sigsys(int status)
{
	return status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

void child_confine(enum sandbox_role role, pid_t child_pid, int cache_dirfd)
{
	struct sandbox_opts o;
	char err[1024];
	int ret;

	sandbox_opts_init(&o);
	o.child_pid = child_pid;
	o.cache_dirfd = cache_dirfd;
	ret = sandbox_confine(role, &o, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "child_confine(%s): %s\n", sandbox_role_name(role), err);
		_exit(CHILD_EXIT_CONFINE_FAILED);
	}
}
