/* Judging samples as they come, against the thresholds monitor.h explains:
 * each check keeps its run of consecutive bad samples, and a run that
 * reaches its length becomes one violation (carrying its numbers). Memory
 * and time per sample are O(CPUs): nothing looks back into the ring. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/log.h>

#include "monitor_priv.h"

/* Advance a run; true exactly once per run, when it reaches need. */
static bool streak_step(struct monitor_streak *s, bool bad, const struct monitor_sample_hdr *h,
			uint32_t need)
{
	if (!bad) {
		memset(s, 0, sizeof(*s));
		return false;
	}
	if (!s->n) {
		s->start_seq = h->seq;
		s->start_ns = h->t_ns;
	}
	if (s->n < UINT32_MAX)
		s->n++;
	if (s->n >= need && !s->reported) {
		s->reported = true;
		return true;
	}
	return false;
}

void monitor_violation(struct monitor *m, enum monitor_check check,
		       const struct monitor_streak *s, const struct monitor_sample_hdr *h,
		       const char *fmt, ...)
{
	struct monitor_violation *v;
	char what[MONITOR_MSG_MAX - 32];
	va_list ap;

	m->violations_total++;
	monitor_phase_violation(m);
	if (m->nr_violations >= MONITOR_VIOLATIONS_MAX)
		return;
	v = &m->violations[m->nr_violations++];
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	v->check = check;
	v->start_seq = s->start_seq;
	v->start_ns = s->start_ns;
	v->end_seq = h->seq;
	v->end_ns = h->t_ns;
	snprintf(v->msg, sizeof(v->msg), "%s, ending at +%.1f s", what, monitor_sec(h->t_ns));
	kwarn("monitor: %s", v->msg);
}

static void reset_global(struct monitor *m)
{
	memset(&m->imbalance, 0, sizeof(m->imbalance));
	memset(&m->dsq, 0, sizeof(m->dsq));
	memset(&m->fallback, 0, sizeof(m->fallback));
	memset(&m->keep_last, 0, sizeof(m->keep_last));
}

/* The stall check of one CPU against the previous sample. Exempt (run
 * broken): a CPU that was idle in either sample, a vCPU the host did not
 * run for half the interval. Unknown vCPU time feeds only the blind run. */
static void judge_stall(struct monitor *m, uint32_t c, const struct monitor_cpu_sample *cur,
			const struct monitor_sample_hdr *h, const uint64_t *vcpu, uint64_t dt,
			bool judged)
{
	struct monitor_cpu_state *cs = &m->cs[c];
	/* dt 0: two samples at one instant say nothing about a clock. */
	bool stuck = judged && m->th.fail_on_stall && dt && cur->clock == cs->prev_clock &&
		     cur->nr_running > 0 && cs->prev_nr_running > 0;
	bool known = vcpu && cs->prev_vcpu_known, ran = false;

	if (stuck && known)
		ran = vcpu[c] >= cs->prev_vcpu_ns && vcpu[c] - cs->prev_vcpu_ns >= dt / 2;
	if (stuck && known && !ran)
		stuck = false; /* descheduled: the guest could not tick */
	if (streak_step(&cs->stall, stuck && known, h, m->th.sustained_samples)) {
		cs->stall_blind.reported = true; /* the same run: one violation */
		monitor_violation(m, MONITOR_CHECK_RQ_CLOCK_STALL, &cs->stall, h,
			  "rq clock of cpu%u stuck for %u samples while %u tasks were runnable", c,
			  cs->stall.n, cur->nr_running);
	}
	if (streak_step(&cs->stall_blind, stuck, h, m->th.stall_blind_samples))
		monitor_violation(m, MONITOR_CHECK_RQ_CLOCK_STALL, &cs->stall_blind, h,
			  "rq clock of cpu%u stuck for %u samples while %u tasks were runnable "
			  "(vCPU run time unknown)",
			  c, cs->stall_blind.n, cur->nr_running);
}

/* Tasks waiting somewhere: a CPU with more than the one it runs. */
/* dispatch_keep_last events per second charged to CPUs that had other
 * runnable tasks. Keeping the last task is what a CPU with one runnable task
 * does at every slice's end and at every sched_yield() (one spinner per CPU:
 * ~50/s each; a lone yield-heavy worker: tens of thousands per second);
 * it is a symptom only where the CPU kept it while another task on its own
 * runqueue waited, i.e. its dispatch failed to hand it the queued work. A
 * waiter on another CPU says nothing about this one (the C example
 * ktstr_steps: a yielding worker alone on CPU 0, two pinned spinners on
 * CPU 1). nr_running is the sample's: the count a CPU had when read. */
static double keep_last_rate(const struct monitor *m, const struct monitor_cpu_sample *cpus,
			     double dt)
{
	uint64_t n = 0;

	for (uint32_t c = 0; c < m->nr_cpus; c++) {
		uint64_t cur = cpus[c].keep_last, prev = m->cs[c].prev_keep_last;

		/* A counter that went down belongs to a new scheduler. */
		if (cpus[c].nr_running > 1 && cur >= prev)
			n += cur - prev;
	}
	return (double)n / dt;
}

static void judge_rates(struct monitor *m, const struct monitor_sample_hdr *h, const uint64_t *ev,
			const struct monitor_cpu_sample *cpus, bool judged)
{
	const struct monitor_layout *l = &m->l;
	bool have = h->flags & MONITOR_SAMPLE_EVENTS;
	double dt;

	if (!judged || !have || !m->prev_events_valid || h->t_ns <= m->prev_events_t_ns) {
		memset(&m->fallback, 0, sizeof(m->fallback));
		memset(&m->keep_last, 0, sizeof(m->keep_last));
		goto out;
	}
	dt = monitor_sec(h->t_ns - m->prev_events_t_ns);
	/* A counter that went down belongs to a new scheduler: no rate. */
	if (l->ev_fallback >= 0 && m->th.max_fallback_rate > 0) {
		uint64_t cur = ev[l->ev_fallback];
		double rate = cur >= m->prev_fallback ? (double)(cur - m->prev_fallback) / dt : 0;

		if (streak_step(&m->fallback, rate > m->th.max_fallback_rate, h,
				m->th.sustained_samples))
			monitor_violation(m, MONITOR_CHECK_FALLBACK_RATE, &m->fallback, h,
				  "select_cpu_fallback rate %.0f/s > %.0f/s for %u consecutive samples",
				  rate, m->th.max_fallback_rate, m->fallback.n);
	}
	if (l->ev_keep_last >= 0 && m->th.max_keep_last_rate > 0) {
		double rate = keep_last_rate(m, cpus, dt);

		if (streak_step(&m->keep_last, rate > m->th.max_keep_last_rate, h,
				m->th.sustained_samples))
			monitor_violation(m, MONITOR_CHECK_KEEP_LAST_RATE, &m->keep_last, h,
				  "dispatch_keep_last rate %.0f/s on CPUs with waiting tasks > %.0f/s "
				  "for %u consecutive samples",
				  rate, m->th.max_keep_last_rate, m->keep_last.n);
	}
out:
	m->prev_events_valid = have;
	if (have) {
		m->prev_events_t_ns = h->t_ns;
		m->prev_fallback = l->ev_fallback >= 0 ? ev[l->ev_fallback] : 0;
		for (uint32_t c = 0; c < m->nr_cpus; c++)
			m->cs[c].prev_keep_last = cpus[c].keep_last;
	}
}

static void judge_sample(struct monitor *m, const struct monitor_sample_hdr *h,
			 const struct monitor_cpu_sample *cpus)
{
	uint32_t lo = UINT32_MAX, hi = 0, lo_cpu = 0, hi_cpu = 0, dsq = 0, dsq_cpu = 0;
	double ratio;

	for (uint32_t c = 0; c < m->nr_cpus; c++) {
		if (cpus[c].nr_running < lo) {
			lo = cpus[c].nr_running;
			lo_cpu = c;
		}
		if (cpus[c].nr_running > hi) {
			hi = cpus[c].nr_running;
			hi_cpu = c;
		}
		if (cpus[c].local_dsq > dsq) {
			dsq = cpus[c].local_dsq;
			dsq_cpu = c;
		}
	}
	ratio = (double)hi / (double)(lo ? lo : 1);
	if (streak_step(&m->imbalance, m->th.max_imbalance_ratio > 0 && ratio > m->th.max_imbalance_ratio,
			h, m->th.sustained_samples))
		monitor_violation(m, MONITOR_CHECK_IMBALANCE, &m->imbalance, h,
			  "imbalance ratio %.1f > %.1f for %u consecutive samples (cpu%u nr_running "
			  "%u, cpu%u %u)",
			  ratio, m->th.max_imbalance_ratio, m->imbalance.n, hi_cpu, hi, lo_cpu, lo);
	if (streak_step(&m->dsq, m->th.max_local_dsq_depth && dsq > m->th.max_local_dsq_depth, h,
			m->th.sustained_samples))
		monitor_violation(m, MONITOR_CHECK_LOCAL_DSQ_DEPTH, &m->dsq, h,
			  "local DSQ depth %u > %u on cpu%u for %u consecutive samples", dsq,
			  m->th.max_local_dsq_depth, dsq_cpu, m->dsq.n);
}

void monitor_eval_sample(struct monitor *m, struct monitor_sample_hdr *h,
			 const struct monitor_cpu_sample *cpus, const uint64_t *events,
			 const uint64_t *vcpu_cpu_ns)
{
	bool enabled = h->flags & MONITOR_SAMPLE_SCX_ENABLED, judged;
	uint64_t start, dt;

	if (h->flags & MONITOR_SAMPLE_IMPLAUSIBLE) {
		/* Nothing read here is trusted: every run starts again. */
		reset_global(m);
		for (uint32_t c = 0; c < m->nr_cpus; c++)
		{
			memset(&m->cs[c].stall, 0, sizeof(m->cs[c].stall));
			memset(&m->cs[c].stall_blind, 0, sizeof(m->cs[c].stall_blind));
		}
		m->has_prev = false;
		m->prev_events_valid = false;
		return;
	}
	if (enabled && !m->scx_enabled_now) {
		m->enabled_since_ns = h->t_ns;
		if (!m->scx_seen_enabled) {
			m->scx_seen_enabled = true;
			m->scx_enabled_first_ns = h->t_ns;
		}
	}
	m->scx_enabled_now = enabled;
	/* Warm-up from the later of ready and enabled (t_ns is never before
	 * either: both were taken from earlier samples or the ready call). */
	start = m->enabled_since_ns > m->ready_ns ? m->enabled_since_ns : m->ready_ns;
	judged = enabled && h->t_ns >= start && h->t_ns - start >= m->th.warmup_ns;
	if (judged) {
		h->flags |= MONITOR_SAMPLE_EVALUATED;
		m->evaluated++;
		judge_sample(m, h, cpus);
	} else {
		reset_global(m);
	}
	dt = m->has_prev && h->t_ns > m->prev_t_ns ? h->t_ns - m->prev_t_ns : 0;
	monitor_lane_account(m, h, cpus, vcpu_cpu_ns, dt);
	for (uint32_t c = 0; c < m->nr_cpus; c++) {
		struct monitor_cpu_state *cs = &m->cs[c];

		if (m->has_prev)
			judge_stall(m, c, &cpus[c], h, vcpu_cpu_ns, dt, judged);
		cs->prev_clock = cpus[c].clock;
		cs->prev_nr_running = cpus[c].nr_running;
		cs->prev_vcpu_known = vcpu_cpu_ns != NULL;
		cs->prev_vcpu_ns = vcpu_cpu_ns ? vcpu_cpu_ns[c] : 0;
	}
	m->has_prev = true;
	m->prev_t_ns = h->t_ns;
	judge_rates(m, h, events, cpus, judged);
}
