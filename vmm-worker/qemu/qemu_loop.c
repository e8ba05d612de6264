/* The QEMU engine's watch loop, from QMP "cont" until something ends the VM:
 * QEMU exiting by itself, or one of the reasons below, which sets
 * qemu_vm.forced. Each pass polls every worker-side fd with a bounded wait
 * (the next ring tick or the deadline), so every reason is noticed within
 * TICK_MS. The engine is confined here: it only reads, writes, polls and
 * reaps with the fds it already holds. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "capture.h"
#include "engine.h"
#include "qemu_priv.h"

#define TICK_MS 100 /* ring drain and monitor cadence (docs/reference.md, "SHM ring drain cadence and SCHED_EXIT") */
#define PANIC_GRACE_MS 5000	/* panic=-1 resets at once; this bounds a stuck one */
#define STOP_GRACE_MS 2000	/* a paused QEMU that does not exit on its own */

struct loop_clock {
	uint64_t deadline;	/* the VM's timeout, then the liveness probe's */
	uint64_t next_tick;
	uint64_t panic_at;	/* when the panic was first seen, 0 = not yet */
};

/* QEMU exited: remember how, once. */
static void note_exit(struct qemu_vm *q)
{
	int status;

	if (waitpid(q->pid, &status, WNOHANG) == q->pid) {
		q->seen.exited = true;
		q->seen.exit_status = status;
		q->pid = 0;
	}
}

/* The timeout, asked of QEMU before it is blamed on the guest: a stopped or
 * hung QEMU answers nothing, which is the engine's failure. Sets *again
 * when the probe was just sent (the loop then looks again from the top). */
static Ktstr__Outcome watchdog(struct qemu_vm *q, struct loop_clock *c, uint64_t now,
			       bool *again)
{
	*again = false;
	if (q->live_reply[0]) {
		/* Answered: a running guest had its whole time. */
		if (!strcmp(q->live_reply, "running"))
			return KTSTR__OUTCOME__OUTCOME_TIMEOUT;
		snprintf(q->seen.live_status, sizeof(q->seen.live_status), "%s", q->live_reply);
		return KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	}
	if (now < c->deadline)
		return KTSTR__OUTCOME__OUTCOME_UNKNOWN;
	if (q->live_asked_us) {
		q->seen.unresponsive = true;
		return KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	}
	/* A QMP socket that is gone leaves nothing to ask. */
	if (q->fd[Q_QMP] < 0 || write_full(q->fd[Q_QMP], QEMU_QMP_LIVENESS_QUERY,
					   sizeof(QEMU_QMP_LIVENESS_QUERY) - 1))
		return KTSTR__OUTCOME__OUTCOME_TIMEOUT;
	q->live_asked_us = now;
	c->deadline = now + QEMU_QMP_LIVENESS_MS * 1000ull;
	*again = true;
	return KTSTR__OUTCOME__OUTCOME_UNKNOWN;
}

/* Every other reason to end the VM now; UNKNOWN = none. */
static Ktstr__Outcome end_reason(struct qemu_vm *q, struct loop_clock *c, uint64_t now)
{
	if (*q->in->stop_requested)
		return KTSTR__OUTCOME__OUTCOME_STOPPED;
	/* The host ends the VM on sight of SCHED_EXIT (docs/reference.md). */
	if (capture_saw_sched_exit(q->cap))
		return KTSTR__OUTCOME__OUTCOME_SCHED_EXIT;
	if (capture_flooded(q->cap))
		return KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD;
	if (q->seen.panic && !c->panic_at)
		c->panic_at = now;
	if (c->panic_at && now - c->panic_at > PANIC_GRACE_MS * 1000ull)
		return KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	if (q->stop_event_us && now - q->stop_event_us > STOP_GRACE_MS * 1000ull) {
		q->seen.unexpected_stop = true;
		return KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	}
	return KTSTR__OUTCOME__OUTCOME_UNKNOWN;
}

static void dispatch(struct qemu_vm *q, int idx)
{
	if (idx == Q_PID) {
		note_exit(q);
		qemu_close_fd(&q->fd[Q_PID]);
	} else if (idx == Q_CTL) {
		if (worker_ctl_service(q->in) < 0)
			q->fd[Q_CTL] = -1; /* not ours to close */
	} else if (idx == Q_STDIN) {
		if (!qemu_pump(q, idx))
			q->fd[Q_STDIN] = -1; /* main.c owns it */
	} else {
		qemu_pump(q, idx);
	}
}

/* One bounded poll of every open fd, and what it found. Returns 0 or the
 * -errno of a failed poll. */
static int poll_once(struct qemu_vm *q, const struct loop_clock *c, uint64_t now)
{
	struct pollfd pfd[Q_N];
	int map[Q_N], n = 0;

	for (int i = 0; i < Q_N; i++) {
		/* Terminal input waits in its pipe/tty until the guest shell
		 * said KTSTR_SHELL_READY: bytes sent to COM2 before the guest
		 * opened and set up the port are discarded by the guest.
		 * Bounded: the deadline still applies. */
		if (i == Q_STDIN && !capture_shell_ready(q->cap))
			continue;
		if (q->fd[i] >= 0) {
			pfd[n] = (struct pollfd){ .fd = q->fd[i], .events = POLLIN };
			map[n++] = i;
		}
	}
	uint64_t wake = c->next_tick < c->deadline ? c->next_tick : c->deadline;
	int wait_ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
	int r = poll(pfd, (nfds_t)n, wait_ms);
	if (r < 0 && errno != EINTR) {
		int rc = -errno;

		kerr("qemu: poll failed: %s; stopping the VM", strerror(errno));
		return rc;
	}
	for (int i = 0; r > 0 && i < n; i++)
		if (pfd[i].revents)
			dispatch(q, map[i]);
	return 0;
}

void qemu_loop_run(struct qemu_vm *q)
{
	struct loop_clock c = {
		.deadline = q->end->engine_start_us + (uint64_t)q->in->spec->timeout_ms * 1000,
		.next_tick = ktstr_now_us() + TICK_MS * 1000,
	};

	while (q->forced == KTSTR__OUTCOME__OUTCOME_UNKNOWN && !q->seen.exited) {
		uint64_t now = ktstr_now_us();
		bool again;

		q->forced = watchdog(q, &c, now, &again);
		if (q->forced == KTSTR__OUTCOME__OUTCOME_UNKNOWN && !again)
			q->forced = end_reason(q, &c, now);
		if (q->forced != KTSTR__OUTCOME__OUTCOME_UNKNOWN || again)
			continue;
		if (now >= c.next_tick) {
			qemu_ring_drain(q, true);
			/* No vCPU times: QEMU's threads are another process's. */
			vm_monitor_tick(&q->end->monitor, now * 1000, NULL);
			if (q->ring_ok && vm_monitor_take_dump_request(&q->end->monitor))
				ring_slot_set(&q->ring, 12, 'D');
			c.next_tick = now + TICK_MS * 1000;
		}
		if (poll_once(q, &c, now) < 0) {
			q->forced = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
			break;
		}
		/* No pidfd (old kernel): notice the exit by polling. */
		if (q->fd[Q_PID] < 0 && q->pid > 0 && !q->seen.exited)
			note_exit(q);
	}
	/* Q_STDIN and Q_CTL belong to main.c: forget them before the tear-down. */
	q->fd[Q_STDIN] = -1;
	q->fd[Q_CTL] = -1;
}
