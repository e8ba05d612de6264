/* See payload.h. */
#include "payload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "ktstr/util.h"
#include "ktstr/utf8.h"
#include "reaper.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Bytes one pump reads from one run before moving on: a payload that
 * floods its output cannot keep PID 1 from its other duties. */
#define PAYLOAD_PUMP_READ_MAX (1u << 20)
/* How long payload_stop waits for a SIGKILLed group to be reaped. */
#define PAYLOAD_REAP_MS 2000u

static __attribute__((noreturn)) void child(const char *path, char *const *argv, int start_rd,
					    int out_wr, int err_wr)
{
	sigset_t none;
	char go;
	int e, nul;

	/* PID 1 blocks and ignores signals for its own reasons; a payload
	 * starts as it would from a shell. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* Its own process group: a stop reaches the children it forks. */
	setpgid(0, 0);
	/* Until PID 1 has moved us into the cgroup: nothing of the payload
	 * runs outside it. */
	if (read(start_rd, &go, 1) != 1)
		_exit(127);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_wr, 1) < 0 || dup2(out_wr, 2) < 0)
		goto fail;
	/* Whatever else PID 1 holds open (COM2, the ring) is not the
	 * payload's: closed at exec, err_wr included. */
	syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
	if (chdir("/tmp") && chdir("/"))
		goto fail;
	execv(path, argv);
fail:
	e = errno;
	if (write(err_wr, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0) {
			close(fd[i]);
			fd[i] = -1;
		}
}

int payload_start(struct payload_run *p, const Ktstr__PayloadSpec *spec, const Ktstr__PayloadOp *op,
		  const char *cgroup_path, uint32_t timeout_ms, char *err, size_t errlen)
{
	size_t nargs = spec->n_args + op->n_args;
	char **argv = calloc(nargs + 2, sizeof(*argv));
	const char *base = strrchr(spec->path, '/');
	int start[2] = { -1, -1 }, out[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int ret, e = 0;
	ssize_t n;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->out_fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", spec->name);
	p->tail = malloc(KTSTR_PAYLOAD_TAIL_BYTES);
	if (!argv || !p->tail) {
		snprintf(err, errlen, "payload %s: out of memory", spec->name);
		ret = -ENOMEM;
		goto err_mem;
	}
	argv[0] = (char *)(base ? base + 1 : spec->path);
	for (size_t i = 0; i < spec->n_args; i++)
		argv[1 + i] = spec->args[i];
	for (size_t i = 0; i < op->n_args; i++)
		argv[1 + spec->n_args + i] = op->args[i];
	if (pipe2(start, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "payload %s: pipe: %s", spec->name, strerror(-ret));
		goto err_pipes;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "payload %s: fork: %s", spec->name, strerror(-ret));
		goto err_pipes;
	}
	if (pid == 0) {
		close(start[1]);
		close(out[0]);
		close(ep[0]);
		child(spec->path, argv, start[0], out[1], ep[1]);
	}
	reaper_track(pid);
	/* Both sides set the group, so a stop before the child ran reaches it. */
	setpgid(pid, pid);
	close(start[0]);
	close(out[1]);
	close(ep[1]);
	start[0] = out[1] = ep[1] = -1;
	p->pid = pid;
	p->t_start = ktstr_now_ms();
	if (cgroup_path && (ret = cg_move_pid(cgroup_path, pid, err, errlen))) {
		kill(pid, SIGKILL);
		reaper_wait(pid, NULL, PAYLOAD_REAP_MS);
		goto err_pipes;
	}
	if (write(start[1], "g", 1) != 1) {
		ret = -errno;
		snprintf(err, errlen, "payload %s: start pipe: %s", spec->name, strerror(-ret));
		kill(pid, SIGKILL);
		reaper_wait(pid, NULL, PAYLOAD_REAP_MS);
		goto err_pipes;
	}
	close_pair(start);
	/* EOF: exec succeeded (the pipe is close-on-exec); an int: its errno. */
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close_pair(ep);
	if (n == (ssize_t)sizeof(e)) {
		ret = -e;
		snprintf(err, errlen, "payload %s: exec %s: %s", spec->name, spec->path,
			 strerror(e));
		reaper_wait(pid, NULL, PAYLOAD_REAP_MS);
		goto err_pipes;
	}
	if (fcntl(out[0], F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		snprintf(err, errlen, "payload %s: output pipe: %s", spec->name, strerror(-ret));
		kill(-pid, SIGKILL);
		reaper_wait(pid, NULL, PAYLOAD_REAP_MS);
		goto err_pipes;
	}
	p->out_fd = out[0];
	p->background = op->background;
	p->expect_exit = op->expect_exit;
	p->deadline = timeout_ms ? p->t_start + timeout_ms : 0;
	free(argv);
	return 0;
err_pipes:
	close_pair(start);
	close_pair(out);
	close_pair(ep);
err_mem:
	free(argv);
	free(p->tail);
	p->tail = NULL;
	p->pid = 0;
	return ret;
}

/* Append len bytes to p's ring of the newest KTSTR_PAYLOAD_TAIL_BYTES. */
static void keep(struct payload_run *p, const char *buf, size_t len)
{
	const size_t cap = KTSTR_PAYLOAD_TAIL_BYTES;

	if (len > cap) {
		p->total += len - cap;
		buf += len - cap;
		len = cap;
	}
	while (len) {
		size_t at = (size_t)(p->total % cap), n = cap - at < len ? cap - at : len;

		memcpy(p->tail + at, buf, n);
		p->total += n;
		buf += n;
		len -= n;
	}
}

static void drain(struct payload_run *p)
{
	char buf[16384];
	size_t got = 0;

	while (p->out_fd >= 0 && got < PAYLOAD_PUMP_READ_MAX) {
		ssize_t n = read(p->out_fd, buf, sizeof(buf));

		if (n > 0) {
			keep(p, buf, (size_t)n);
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(p->out_fd);
			p->out_fd = -1;
		}
		break;
	}
}

static void check(struct payload_run *p, uint64_t now)
{
	int st = 0;

	if (p->done || !p->pid)
		return;
	if (reaper_status(p->pid, &st) != 0) {
		/* Reaped (or untracked: treated as gone). What it wrote last
		 * is in the pipe; a child it left behind may hold the pipe
		 * open, so no more than what is there now is read. */
		p->done = true;
		p->status = st;
		p->t_end = now;
		drain(p);
		if (p->out_fd >= 0) {
			close(p->out_fd);
			p->out_fd = -1;
		}
		/* Its group may outlive it: nothing of a payload stays behind. */
		kill(-p->pid, SIGKILL);
		return;
	}
	if (p->deadline && now >= p->deadline && !p->term_at) {
		p->timed_out = true;
		p->term_at = now;
		kill(-p->pid, SIGTERM);
	}
	if (p->term_at && now >= p->term_at + KTSTR_PAYLOAD_KILL_GRACE_MS)
		kill(-p->pid, SIGKILL);
}

void payload_pump(struct payload_run *const *v, size_t n, int timeout_ms)
{
	struct pollfd pfd[KTSTR_PAYLOAD_RUNS_MAX];
	size_t idx[KTSTR_PAYLOAD_RUNS_MAX], k = 0;
	uint64_t now;

	for (size_t i = 0; i < n && k < KTSTR_PAYLOAD_RUNS_MAX; i++)
		if (v[i]->out_fd >= 0 && !v[i]->done) {
			pfd[k].fd = v[i]->out_fd;
			pfd[k].events = POLLIN;
			idx[k++] = i;
		}
	if (k) {
		if (poll(pfd, k, timeout_ms) > 0)
			for (size_t j = 0; j < k; j++)
				if (pfd[j].revents)
					drain(v[idx[j]]);
	} else if (timeout_ms > 0) {
		struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	now = ktstr_now_ms();
	for (size_t i = 0; i < n; i++)
		check(v[i], now);
}

/* Pump slices: short enough that an exit is seen within them even when
 * the pipe stays silent (its writer may be a child left behind). */
#define PAYLOAD_SLICE_MS 20

int payload_wait(struct payload_run *p, uint64_t until_ms)
{
	struct payload_run *one[1] = { p };

	for (;;) {
		uint64_t now = ktstr_now_ms();

		check(p, now);
		if (p->done)
			return 0;
		if (until_ms && now >= until_ms)
			return -ETIMEDOUT;
		payload_pump(one, 1, PAYLOAD_SLICE_MS);
	}
}

void payload_stop(struct payload_run *p, const char *note)
{
	uint64_t now = ktstr_now_ms();

	check(p, now);
	if (p->done || !p->pid)
		return;
	p->stopped = true;
	p->note = note;
	if (!p->term_at) {
		p->term_at = now;
		kill(-p->pid, SIGTERM);
	}
	/* check() escalates to SIGKILL once the grace is over. */
	if (payload_wait(p, p->term_at + KTSTR_PAYLOAD_KILL_GRACE_MS + PAYLOAD_REAP_MS))
		p->note = "did not end after SIGKILL (left running)";
}

bool payload_failed(const struct payload_run *p, char *why, size_t whylen)
{
	uint64_t ran = (p->t_end ? p->t_end : ktstr_now_ms()) - p->t_start;

	if (p->stopped && !p->timed_out)
		return false;
	if (p->timed_out) {
		snprintf(why, whylen, "payload %s: timed out after %llu ms (killed)", p->name,
			 (unsigned long long)ran);
		return true;
	}
	if (!p->done)
		return false;
	if (WIFSIGNALED(p->status)) {
		snprintf(why, whylen, "payload %s: killed by signal %d (%s), expected exit %u",
			 p->name, WTERMSIG(p->status), strsignal(WTERMSIG(p->status)),
			 p->expect_exit);
		return true;
	}
	if (WIFEXITED(p->status) && (uint32_t)WEXITSTATUS(p->status) != p->expect_exit) {
		snprintf(why, whylen, "payload %s: exit %d, expected %u", p->name,
			 WEXITSTATUS(p->status), p->expect_exit);
		return true;
	}
	return false;
}

char *payload_tail(const struct payload_run *p, size_t *len)
{
	const size_t cap = KTSTR_PAYLOAD_TAIL_BYTES;
	size_t n = p->total < cap ? (size_t)p->total : cap;
	size_t start = p->total < cap ? 0 : (size_t)(p->total % cap);
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (p->tail) {
		memcpy(s, p->tail + start, n - start);
		memcpy(s + (n - start), p->tail, start);
	} else {
		n = 0;
	}
	s[n] = '\0';
	*len = n;
	return s;
}

/* Bytes that are not UTF-8 (a cut through a character at the tail's start,
 * binary output) and NULs become '?': PayloadResult.output is a string. */
static void clean_utf8(char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)s + i, len - i, &cp);

		if (!n || !s[i]) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

Ktstr__PayloadResult *payload_result(const struct payload_run *p)
{
	Ktstr__PayloadResult *r = calloc(1, sizeof(*r));
	size_t len;

	if (!r)
		return NULL;
	ktstr__payload_result__init(r);
	r->name = strdup(p->name);
	r->output = payload_tail(p, &len);
	if (!r->name || !r->output) {
		ktstr__payload_result__free_unpacked(r, NULL);
		return NULL;
	}
	clean_utf8(r->output, len);
	if (p->done && WIFEXITED(p->status)) {
		r->has_exit_status = 1;
		r->exit_status = WEXITSTATUS(p->status);
	} else if (p->done && WIFSIGNALED(p->status)) {
		r->has_signal = 1;
		r->signal = (uint32_t)WTERMSIG(p->status);
	}
	r->has_duration_ms = 1;
	r->duration_ms = (p->t_end ? p->t_end : ktstr_now_ms()) - p->t_start;
	r->has_output_bytes = 1;
	r->output_bytes = p->total;
	r->has_expect_exit = 1;
	r->expect_exit = p->expect_exit;
	r->has_background = 1;
	r->background = p->background;
	r->has_timed_out = 1;
	r->timed_out = p->timed_out;
	r->has_step = 1;
	r->step = p->step;
	r->has_judged = 1;
	r->judged = !p->stopped || p->timed_out;
	if (p->note && !(r->note = strdup(p->note))) {
		ktstr__payload_result__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

void payload_release(struct payload_run *p)
{
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	free(p->tail);
	p->tail = NULL;
}
