/* After the watch loop: end QEMU (its whole process group), reap it with a
 * bound, read what it left in its sockets and pipes, drain the SHM ring one
 * last time, and turn what the engine saw into the outcome and, for an
 * engine error, the text that says why. Confined: waits use the pidfd
 * opened before confinement, never a new one. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "capture.h"
#include "qemu_priv.h"

#define REAP_MS 5000
#define DRAIN_MS 2000

void qemu_kill_group(struct qemu_vm *q)
{
	if (q->pid > 0) {
		/* The group: QEMU may not spawn (-sandbox spawn=deny), but a
		 * helper it started before the filter must not outlive it. */
		if (kill(-q->pid, SIGKILL) != 0)
			kill(q->pid, SIGKILL);
	}
}

/* Wait for QEMU with a bound, on the pidfd opened before confinement (or
 * 10 ms naps without one). Not ktstr_wait_timeout(): it opens a new pidfd,
 * which the confined worker may not. Returns 0 with the wait status,
 * -ETIMEDOUT, or -errno. */
static int wait_qemu(struct qemu_vm *q, int *status, int timeout_ms)
{
	uint64_t deadline = ktstr_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		pid_t r = waitpid(q->pid, status, WNOHANG);
		if (r == q->pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		uint64_t now = ktstr_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (q->fd[Q_PID] >= 0) {
			struct pollfd p = { .fd = q->fd[Q_PID], .events = POLLIN };
			poll(&p, 1, (int)(deadline - now));
		} else {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

void qemu_reap(struct qemu_vm *q)
{
	if (q->pid <= 0)
		return;
	int status = 0;
	int rc = wait_qemu(q, &status, REAP_MS);
	if (rc == -ETIMEDOUT) {
		qemu_kill_group(q);
		rc = wait_qemu(q, &status, REAP_MS);
	}
	if (rc == 0 && !q->seen.exited) {
		q->seen.exit_status = status;
	}
	if (rc < 0)
		kerr("qemu: could not reap QEMU pid %d: %s (it got SIGKILL)", (int)q->pid,
		     strerror(-rc));
	q->pid = 0;
}

/* After QEMU is gone: read what it left in the sockets and pipes until EOF. */
static void drain_rest(struct qemu_vm *q)
{
	uint64_t until = ktstr_now_ms() + DRAIN_MS;
	for (;;) {
		struct pollfd pfd[Q_N];
		int map[Q_N], n = 0;
		for (int i = Q_COM1; i <= Q_ERR; i++)
			if (q->fd[i] >= 0) {
				pfd[n] = (struct pollfd){ .fd = q->fd[i], .events = POLLIN };
				map[n++] = i;
			}
		uint64_t now = ktstr_now_ms();
		if (!n || now >= until)
			break;
		int r = poll(pfd, (nfds_t)n, (int)(until - now));
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++)
			if (pfd[i].revents)
				qemu_pump(q, map[i]);
	}
}

/* ENGINE_ERROR: what failed, from the most specific thing seen. The end of
 * QEMU's stderr says why it gave up; error_why holds 256 bytes, so keep the
 * last 160. */
static void engine_error_text(struct qemu_vm *q)
{
	const struct qemu_seen *s = &q->seen;
	uint32_t timeout_ms = q->in->spec->timeout_ms;
	char tailbuf[QEMU_ERR_TAIL + 1], why[512];

	memcpy(tailbuf, q->err_tail, q->err_len);
	tailbuf[q->err_len] = '\0';
	const char *tail = q->err_len > 160 ? tailbuf + q->err_len - 160 : tailbuf;
	const char *what = s->unresponsive
				   ? "QEMU did not answer QMP within 2 s at the watchdog "
				     "deadline (stopped or hung): the timeout is the engine's, "
				     "not the guest's"
			   : s->live_status[0] ? "QEMU had the guest stopped at the watchdog deadline"
			   : s->unexpected_stop ? "QEMU paused the guest and did not exit"
			   : s->shutdown_event ? "QEMU shut down for a host-side reason"
					       : "QEMU exited without a guest shutdown";
	if (s->unresponsive)
		snprintf(why, sizeof(why),
			 "no reply to query-status within %u ms after the %u ms timeout; QEMU "
			 "was then killed (a host that stopped or starved it, or a QEMU bug)",
			 QEMU_QMP_LIVENESS_MS, timeout_ms);
	else if (s->live_status[0])
		snprintf(why, sizeof(why), "query-status said '%.31s' at the %u ms timeout",
			 s->live_status, timeout_ms);
	else if (s->shutdown_event)
		snprintf(why, sizeof(why), "SHUTDOWN reason %.40s; stderr: %.160s",
			 s->shutdown_reason, tail[0] ? tail : "(empty)");
	else if (WIFEXITED(s->exit_status) || WIFSIGNALED(s->exit_status))
		snprintf(why, sizeof(why), "%s %d; stderr: %.160s",
			 WIFEXITED(s->exit_status) ? "exit status" : "signal",
			 WIFEXITED(s->exit_status) ? WEXITSTATUS(s->exit_status)
						   : WTERMSIG(s->exit_status),
			 tail[0] ? tail : "(empty)");
	else
		snprintf(why, sizeof(why), "stderr: %.160s", tail[0] ? tail : "(empty)");
	qemu_set_error(q->end, 0, what, why,
		       s->unresponsive
			       ? "check what on the host stopped or starved QEMU (a debugger, "
				 "SIGSTOP, a cgroup freezer, CPU overload); the run may be retried"
			       : "run with KTSTR_LOG=debug to see QEMU's argv and stderr; check the "
				 "kernel image and QEMU version");
}

void qemu_collect(struct qemu_vm *q)
{
	struct vm_end *end = q->end;
	Ktstr__Outcome forced = q->forced;

	if (!q->seen.exited)
		qemu_kill_group(q);
	qemu_reap(q);
	drain_rest(q);
	if (capture_saw_panic(q->cap))
		q->seen.panic = true;
	qemu_ring_drain(q, false);
	end->end_us = ktstr_now_us();

	if (forced == KTSTR__OUTCOME__OUTCOME_TIMEOUT && q->seen.panic)
		forced = KTSTR__OUTCOME__OUTCOME_GUEST_PANIC; /* the cause, not the symptom */
	end->outcome = forced != KTSTR__OUTCOME__OUTCOME_UNKNOWN ? forced : qemu_outcome(&q->seen);
	if (end->outcome == KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD) {
		/* The guest's doing, not an engine error: only the text is set. */
		char why[512];

		capture_flood_text(q->cap, why, sizeof(why));
		ktstr_error_note(&end->error, "the guest flooded the SHM ring", NULL,
				 CAPTURE_FLOOD_HINT, "%s", why);
	}
	if (end->outcome == KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR)
		engine_error_text(q);
}
