/* One sample: every CPU's runqueue numbers, the sched_ext enable state and
 * event counters, stored in the fixed ring and then judged. Every value is
 * read from hostile guest memory at an address proven at ready time (the
 * whole struct rq lies in RAM), and checked against the plausibility bounds
 * before anything trusts it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor_priv.h"

/* Read one CPU into *c; on anything implausible fill why and return -1. */
static int read_cpu(struct monitor *m, uint32_t cpu, struct monitor_cpu_sample *c, char *why,
		    size_t whylen)
{
	const struct monitor_layout *l = &m->l;
	uint64_t rq = m->cs[cpu].rq_gpa;
	int32_t self;
	int ret;

	ret = monitor_read_u32(m, rq + l->rq_nr_running, &c->nr_running);
	if (!ret)
		ret = monitor_read_u64(m, rq + l->rq_clock, &c->clock);
	if (!ret)
		ret = m->read(m->ctx, rq + l->rq_cpu, &self, sizeof(self));
	if (!ret && l->has_scx) {
		ret = monitor_read_u32(m, rq + l->scx_nr_running, &c->scx_nr_running);
		if (!ret)
			ret = monitor_read_u32(m, rq + l->scx_local_dsq_nr, &c->local_dsq);
		if (!ret && l->has_scx_flags)
			ret = monitor_read_u32(m, rq + l->scx_flags, &c->scx_flags);
	}
	if (ret) {
		snprintf(why, whylen, "read fault on cpu%u's runqueue (%s)", cpu, strerror(-ret));
		return -1;
	}
	if (self != (int32_t)cpu) {
		snprintf(why, whylen, "rq->cpu of cpu%u reads %d", cpu, self);
		return -1;
	}
	if (c->nr_running > MONITOR_PLAUSIBLE_NR_RUNNING) {
		snprintf(why, whylen, "cpu%u nr_running %u > %u", cpu, c->nr_running,
			 MONITOR_PLAUSIBLE_NR_RUNNING);
		return -1;
	}
	if (c->scx_nr_running > MONITOR_PLAUSIBLE_NR_RUNNING) {
		snprintf(why, whylen, "cpu%u scx nr_running %u > %u", cpu, c->scx_nr_running,
			 MONITOR_PLAUSIBLE_NR_RUNNING);
		return -1;
	}
	if (c->local_dsq > MONITOR_PLAUSIBLE_DSQ) {
		snprintf(why, whylen, "cpu%u local DSQ depth %u > %u", cpu, c->local_dsq,
			 MONITOR_PLAUSIBLE_DSQ);
		return -1;
	}
	return 0;
}

/* The enable state: -1 without sched_ext, INT32_MIN when unreadable. */
static int32_t read_enable_state(struct monitor *m)
{
	int32_t st;

	if (!m->l.has_scx)
		return -1;
	if (m->read(m->ctx, m->enable_state_gpa, &st, sizeof(st)))
		return INT32_MIN;
	return st;
}

static void account(struct monitor *m, const struct monitor_cpu_sample *cpus)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	double ratio;

	for (uint32_t c = 0; c < m->nr_cpus; c++) {
		struct monitor_cpu_peak *p = &m->peaks[c];

		if (cpus[c].nr_running > p->max_nr_running)
			p->max_nr_running = cpus[c].nr_running;
		if (cpus[c].local_dsq > p->max_local_dsq)
			p->max_local_dsq = cpus[c].local_dsq;
		lo = cpus[c].nr_running < lo ? cpus[c].nr_running : lo;
		hi = cpus[c].nr_running > hi ? cpus[c].nr_running : hi;
		/* The validity rule's "all rq clocks identical": a monitor
		 * reading zeros (or one stale word) sees one value forever. */
		if (!m->clock_seen) {
			m->clock_seen = true;
			m->clock_first = cpus[c].clock;
		} else if (cpus[c].clock != m->clock_first) {
			m->clock_varied = true;
		}
	}
	ratio = (double)hi / (double)(lo ? lo : 1);
	if (ratio > m->worst_imbalance)
		m->worst_imbalance = ratio;
}

int monitor_sample(struct monitor *m, uint64_t now_ns, const uint64_t *vcpu_cpu_ns)
{
	struct monitor_sample_hdr *h;
	struct monitor_cpu_sample *cpus;
	uint64_t *ev;
	char why[MONITOR_MSG_MAX] = "";
	bool bad = false;
	int32_t st;

	if (!m->ready)
		return -EAGAIN;
	/* One slot of the ring, overwritten in place: the oldest goes. */
	h = &m->hdrs[m->head];
	cpus = &m->cpus[(size_t)m->head * m->nr_vcpus];
	ev = &m->events[(size_t)m->head * MONITOR_MAX_EVENTS];
	m->head = (m->head + 1) % m->depth;
	if (m->len < m->depth)
		m->len++;
	memset(h, 0, sizeof(*h));
	memset(cpus, 0, (size_t)m->nr_vcpus * sizeof(*cpus));
	h->t_ns = now_ns > m->t0_ns ? now_ns - m->t0_ns : 0;
	h->seq = m->seq++;

	st = read_enable_state(m);
	h->enable_state = st;
	if (st == INT32_MIN) {
		snprintf(why, sizeof(why), "read fault on the sched_ext enable state");
		bad = true;
	} else if (m->l.has_scx && st == m->l.scx_enabled_value) {
		h->flags |= MONITOR_SAMPLE_SCX_ENABLED;
	}
	for (uint32_t c = 0; !bad && c < m->nr_cpus; c++)
		bad = read_cpu(m, c, &cpus[c], why, sizeof(why)) != 0;
	if (bad) {
		h->flags |= MONITOR_SAMPLE_IMPLAUSIBLE;
		if (!m->implausible++) {
			snprintf(m->first_implausible, sizeof(m->first_implausible), "%s", why);
			monitor_note(m, "monitor: implausible sample (%s)", why);
		}
	} else {
		account(m, cpus);
		if ((h->flags & MONITOR_SAMPLE_SCX_ENABLED) && m->l.nr_events) {
			if (!monitor_read_events(m, ev, cpus)) {
				h->flags |= MONITOR_SAMPLE_EVENTS;
				memcpy(m->last_events, ev, m->l.nr_events * sizeof(*ev));
				m->events_valid = true;
			}
		}
	}
	/* Before the judging below moves prev_t_ns to this sample. */
	if (!bad && (h->flags & MONITOR_SAMPLE_SCX_ENABLED))
		monitor_check_tasks(m, h);
	else
		m->task_stall_now = false;
	monitor_eval_sample(m, h, cpus, ev, vcpu_cpu_ns);
	monitor_phase_account(m, h, cpus);
	return 0;
}

uint32_t monitor_ring_len(const struct monitor *m)
{
	return m->len;
}

uint32_t monitor_ring_depth(const struct monitor *m)
{
	return m->depth;
}

int monitor_ring_get(const struct monitor *m, uint32_t i, const struct monitor_sample_hdr **hdr,
		     const struct monitor_cpu_sample **cpus, const uint64_t **events)
{
	uint32_t slot;

	if (i >= m->len)
		return -ERANGE;
	/* The oldest kept sample sits at head once the ring has wrapped. */
	slot = (m->head + m->depth - m->len + i) % m->depth;
	if (hdr)
		*hdr = &m->hdrs[slot];
	if (cpus)
		*cpus = &m->cpus[(size_t)slot * m->nr_vcpus];
	if (events)
		*events = &m->events[(size_t)slot * MONITOR_MAX_EVENTS];
	return 0;
}
