/* A KVM engine's watchdog verdicts (vm_watch.h). */
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/log.h"

#include "capture.h"
#include "ktstr/util.h"
#include "vm_watch.h"

void vm_watch_init(struct vm_watch *w, const struct vm_inputs *in, struct vm_capture *cap)
{
	w->in = in;
	w->cap = cap;
	w->deadline_ms = ktstr_now_ms() + in->spec->timeout_ms;
	w->soft_sent = false;
}

Ktstr__Outcome vm_watch_verdict(struct vm_watch *w, uint64_t now_ms, char *why, size_t len)
{
	if (capture_saw_panic(w->cap)) {
		snprintf(why, len, "kernel panic on the console");
		return KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	}
	if (capture_saw_sched_exit(w->cap)) {
		snprintf(why, len, "guest reported SCHED_EXIT");
		return KTSTR__OUTCOME__OUTCOME_SCHED_EXIT;
	}
	if (capture_flooded(w->cap)) {
		capture_flood_text(w->cap, why, len);
		return KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD;
	}
	if (w->in->stop_requested && *w->in->stop_requested) {
		snprintf(why, len, "stop requested");
		return KTSTR__OUTCOME__OUTCOME_STOPPED;
	}
	if (now_ms >= w->deadline_ms) {
		snprintf(why, len, "watchdog: the VM ran for its whole %u ms", w->in->spec->timeout_ms);
		return KTSTR__OUTCOME__OUTCOME_TIMEOUT;
	}
	return KTSTR__OUTCOME__OUTCOME_UNKNOWN;
}

bool vm_watch_soft_stop_due(struct vm_watch *w, uint64_t now_ms, bool have_ring)
{
	if (w->soft_sent || !have_ring || w->in->spec->timeout_ms <= 2 * VM_WATCH_SOFT_STOP_LEAD_MS ||
	    now_ms + VM_WATCH_SOFT_STOP_LEAD_MS < w->deadline_ms)
		return false;
	w->soft_sent = true;
	return true;
}

void vm_watch_service_ctl(const struct vm_inputs *in)
{
	struct pollfd p = { .fd = in->ctl_sock, .events = POLLIN };

	if (in->ctl_sock >= 0 && poll(&p, 1, 0) > 0)
		worker_ctl_service(in);
}

void vm_watch_note_end(struct vm_end *end, Ktstr__Outcome o, const char *why,
		       const char *kvm_hint)
{
	if (o == KTSTR__OUTCOME__OUTCOME_KVM_ERROR || o == KTSTR__OUTCOME__OUTCOME_EMULATION_FAILURE)
		ktstr_error_note(&end->error,
				 o == KTSTR__OUTCOME__OUTCOME_KVM_ERROR ? "KVM error while the guest ran"
									 : "KVM emulation failure",
				 NULL, kvm_hint, "%s", why);
	if (o == KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD)
		ktstr_error_note(&end->error, "the guest flooded the SHM ring", NULL,
				 CAPTURE_FLOOD_HINT, "%s", why);
}

void vm_watch_run(const struct vm_watch_loop *l)
{
	struct vm_watch w;

	vm_watch_init(&w, l->in, l->cap);
	pthread_mutex_lock(l->lock);
	while (!*l->ended) {
		uint64_t now = ktstr_now_ms();
		struct timespec ts;
		Ktstr__Outcome o;
		char why[256];

		l->drain(l->ctx);
		vm_monitor_tick(l->mon, now * 1000000ull, vcpu_pool_times(l->pool, l->vcpu_ns));
		if (*l->have_ring && vm_monitor_take_dump_request(l->mon))
			ring_slot_set(l->ring, 12, 'D');
		if (l->vcpu_end && l->vcpu_end(l->ctx))
			break;
		o = vm_watch_verdict(&w, now, why, sizeof(why));
		if (o != KTSTR__OUTCOME__OUTCOME_UNKNOWN) {
			l->end(l->ctx, o, why);
			break;
		}
		if (vm_watch_soft_stop_due(&w, now, *l->have_ring))
			ring_slot_set(l->ring, 14, KTSTR_SLOT0_SHUTDOWN);
		if (vcpu_pool_all_done(l->pool)) {
			l->end(l->ctx, KTSTR__OUTCOME__OUTCOME_KVM_ERROR,
			       "every vCPU thread stopped without an outcome");
			break;
		}
		pthread_mutex_unlock(l->lock);
		if (l->in->stdin_fd >= 0)
			l->feed_stdin(l->ctx);
		vm_watch_service_ctl(l->in);
		pthread_mutex_lock(l->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += VM_WATCH_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(l->cond, l->lock, &ts);
	}
	pthread_mutex_unlock(l->lock);
}

struct ring_ctx {
	uint32_t *crc_errors;
	struct vm_monitor *mon;
	struct vm_capture *cap;
	bool live;
};

static int ring_cb(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len, bool crc_ok)
{
	struct ring_ctx *c = ctx;

	if (!crc_ok)
		(*c->crc_errors)++;
	else
		vm_monitor_ring(c->mon, type, payload, len, ktstr_now_us() * 1000ull);
	return capture_ring(c->cap, type, payload, len, crc_ok, c->live);
}

void vm_watch_drain_ring(struct ktstr_ring *ring, bool *have_ring, uint32_t *crc_errors,
			 struct vm_monitor *mon, struct vm_capture *cap, bool live, const char *who)
{
	struct ring_ctx c = { .crc_errors = crc_errors, .mon = mon, .cap = cap, .live = live };

	if (*have_ring && ring_drain(ring, ring_cb, &c, true) < 0) {
		kwarn("%s: SHM ring header corrupt; ignoring the ring from now on", who);
		*have_ring = false;
	}
}

size_t vm_watch_read_stdin(const struct vm_inputs *in, struct vm_capture *cap, size_t room,
			   uint8_t *buf)
{
	struct pollfd p = { .fd = in->stdin_fd, .events = POLLIN };
	ssize_t n;

	if (!room || !capture_shell_ready(cap) || poll(&p, 1, 0) <= 0)
		return 0;
	n = read(in->stdin_fd, buf, room);
	return n > 0 ? (size_t)n : 0;
}
