/* Worker lifecycle. The start pipe closes the race between fork and cgroup
 * placement: the child blocks until PID 1 has written its pid into
 * cgroup.procs, so no work is ever done (or measured) outside the cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cgroup.h"
#include "ktstr/util.h"
#include "reaper.h"
#include "worker.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int apply_sched(const struct worker_opts *o, struct worker_report *rep)
{
	static const int pol[] = { SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR };
	struct sched_param sp = { 0 };

	if (o->affinity) {
		cpu_set_t set;

		CPU_ZERO(&set);
		for (unsigned c = 0; c < CPU_SETSIZE; c++)
			if (cpuset_has(o->affinity, c))
				CPU_SET(c, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			rep->err = -errno;
			snprintf(rep->errmsg, sizeof(rep->errmsg),
				 "sched_setaffinity: %s (CPUs outside the cgroup cpuset?)",
				 strerror(errno));
			return rep->err;
		}
	}
	if (o->policy != KTSTR__SCHED_POLICY__POLICY_NORMAL && (unsigned)o->policy < 5) {
		if (o->policy == KTSTR__SCHED_POLICY__POLICY_FIFO ||
		    o->policy == KTSTR__SCHED_POLICY__POLICY_RR)
			sp.sched_priority = o->priority ? (int)o->priority : 1;
		if (sched_setscheduler(0, pol[o->policy], &sp)) {
			rep->err = -errno;
			snprintf(rep->errmsg, sizeof(rep->errmsg), "sched_setscheduler(%d): %s",
				 pol[o->policy], strerror(errno));
			return rep->err;
		}
	}
	if (o->has_nice && setpriority(PRIO_PROCESS, 0, o->nice)) {
		rep->err = -errno;
		snprintf(rep->errmsg, sizeof(rep->errmsg), "setpriority(%d): %s", o->nice,
			 strerror(errno));
		return rep->err;
	}
	return 0;
}

/* The start gate: 'g' from PID 1 within WORKER_START_GATE_MS. A stop
 * request (SIGUSR1) while waiting interrupts the poll; it is not a reason to
 * give up, the stop flag is seen once work begins. */
static bool start_gate(int start_fd)
{
	uint64_t end = ktstr_now_ms() + WORKER_START_GATE_MS;
	struct pollfd p = { .fd = start_fd, .events = POLLIN };
	char go = 0;

	for (;;) {
		uint64_t now = ktstr_now_ms();
		int r;

		if (now >= end)
			return false;
		r = poll(&p, 1, (int)(end - now));
		if (r == 1)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		return false;
	}
	return read(start_fd, &go, 1) == 1 && go == 'g';
}

static void __attribute__((noreturn)) child(const struct worker_opts *o, pid_t parent,
					      int start_fd, int report_fd, const sigset_t *mask)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct worker_report rep;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1); /* parent died before PDEATHSIG was armed */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	/* SIGUSR1 was blocked across fork (worker_spawn): a stop that came
	 * before the handler existed is pending, and lands in it now rather
	 * than killing the worker without a report. */
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (!start_gate(start_fd))
		_exit(0); /* PID 1 gave up on us (placement failed) */
	close(start_fd);
	memset(&rep, 0, sizeof(rep));
	rep.magic = WREPORT_MAGIC;
	rep.tid = (uint32_t)getpid();
	if (apply_sched(o, &rep) == 0)
		work_run(&o->cfg, &stop_flag, &rep);
	/* Wait for the stop request even after an early failure, so the
	 * report is read at collect time like every other one. */
	while (!stop_flag)
		pause();
	write_full(report_fd, &rep, sizeof(rep));
	_exit(0);
}

int worker_spawn(const struct worker_opts *o, struct worker *w, char *err, size_t errlen)
{
	int start[2], rep[2], ret;
	pid_t parent = getpid(), pid;
	sigset_t usr1, old;

	memset(w, 0, sizeof(*w));
	w->report_fd = -1;
	if (pipe2(start, O_CLOEXEC))
		goto err_errno;
	if (pipe2(rep, O_CLOEXEC)) {
		ret = -errno;
		goto err_start;
	}
	/* The child inherits the blocked SIGUSR1 and unblocks it once its
	 * handler is installed: PID 1 may ask it to stop at any time. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	pid = fork();
	ret = pid < 0 ? -errno : 0;
	if (pid == 0) {
		close(start[1]);
		close(rep[0]);
		child(o, parent, start[0], rep[1], &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		goto err_rep;
	reaper_track(pid);
	close(start[0]);
	close(rep[1]);
	w->pid = pid;
	w->report_fd = rep[0];
	if (o->cgroup_path) {
		ret = cg_move_pid(o->cgroup_path, pid, err, errlen);
		if (ret) {
			/* Closing the start pipe without 'g' makes the child exit. */
			close(start[1]);
			kill(pid, SIGKILL);
			reaper_wait(pid, NULL, 1000);
			close(w->report_fd);
			w->report_fd = -1;
			w->pid = 0;
			return ret;
		}
	}
	ret = write_full(start[1], "g", 1);
	close(start[1]);
	if (ret) {
		kill(pid, SIGKILL);
		snprintf(err, errlen, "start worker %d: %s", (int)pid, strerror(-ret));
		return ret;
	}
	return 0;

err_rep:
	close(rep[0]);
	close(rep[1]);
err_start:
	close(start[0]);
	close(start[1]);
	snprintf(err, errlen, "fork worker: %s", strerror(-ret));
	return ret;
err_errno:
	ret = -errno;
	snprintf(err, errlen, "pipe for worker: %s", strerror(-ret));
	return ret;
}

void worker_stop(struct worker *w)
{
	if (w->pid > 0)
		kill(w->pid, SIGUSR1);
}

static void read_report(struct worker *w)
{
	struct worker_report r;
	ssize_t n = read_full(w->report_fd, &r, sizeof(r));

	if (n == (ssize_t)sizeof(r) && r.magic == WREPORT_MAGIC) {
		w->rep = r;
		w->have_report = true;
	}
	close(w->report_fd);
	w->report_fd = -1;
}

static uint64_t live_now(const struct worker *w)
{
	return __atomic_load_n(w->live, __ATOMIC_RELAXED);
}

/* No iteration since it was asked to stop: it has no CPU (a scheduler
 * that starves it, from the start or since some point in the scenario),
 * so it runs neither its work nor its stop handler, and will not report.
 * A worker that is merely slow keeps counting. */
static bool stuck(const struct worker *w, uint64_t at_stop)
{
	return w->live && live_now(w) == at_stop;
}

void worker_collect(struct worker **ws, size_t n, int deadline_ms)
{
	uint64_t start = ktstr_now_ms(), end = start + (uint64_t)deadline_ms, reap_end;
	uint64_t grace = start + WORKER_STUCK_GRACE_MS;
	bool all_starved = true;
	struct pollfd *p = calloc(n ? n : 1, sizeof(*p));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	uint64_t *at_stop = calloc(n ? n : 1, sizeof(*at_stop));

	for (size_t i = 0; at_stop && i < n; i++)
		at_stop[i] = ws[i]->live ? live_now(ws[i]) : 0;

	for (;;) {
		size_t np = 0, nstuck = 0;
		uint64_t now = ktstr_now_ms(), until = end;
		int r;

		for (size_t i = 0; p && idx && at_stop && i < n; i++)
			if (ws[i]->report_fd >= 0) {
				p[np].fd = ws[i]->report_fd;
				p[np].events = POLLIN;
				idx[np++] = i;
				nstuck += stuck(ws[i], at_stop[i]);
			}
		if (!np || now >= end || !p || !idx || !at_stop)
			break;
		if (now >= grace && nstuck == np)
			break; /* every one left is starved: it cannot answer */
		if (now < grace && grace < until)
			until = grace; /* look again when the grace ends */
		r = poll(p, np, (int)(until - now));
		if (r < 0 && errno != EINTR)
			break;
		for (size_t k = 0; r > 0 && k < np; k++)
			if (p[k].revents)
				read_report(ws[idx[k]]);
	}
	/* Kill every silent one first, then reap them all against one
	 * deadline: one stuck worker must not cost the next one its time. */
	for (size_t i = 0; i < n; i++) {
		struct worker *w = ws[i];

		if (w->report_fd >= 0) {
			close(w->report_fd);
			w->report_fd = -1;
		}
		if (!w->have_report && w->pid > 0) {
			w->killed = true;
			kill(-w->pid, SIGKILL);
			kill(w->pid, SIGKILL);
			all_starved &= at_stop && stuck(w, at_stop[i]);
		}
	}
	/* A starved worker dies only once it gets a CPU, which the scheduler
	 * that starves it will not give: PID 1 reaps it after the scheduler
	 * is gone; waiting here only delays the verdict. */
	reap_end = ktstr_now_ms() + (all_starved ? WORKER_STARVED_REAP_MS : WORKER_REAP_MS);
	for (size_t i = 0; i < n; i++) {
		uint64_t now = ktstr_now_ms();

		if (ws[i]->pid > 0)
			reaper_wait(ws[i]->pid, NULL, now < reap_end ? (int)(reap_end - now) : 0);
	}
	free(p);
	free(idx);
	free(at_stop);
}
