/* The run's verdict and the report: the validity rule applied once, at the
 * end, over everything the sampler kept (monitor.h explains the rule). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor_priv.h"

const char *monitor_verdict_name(enum monitor_verdict v)
{
	switch (v) {
	case MONITOR_VERDICT_NOT_READY:
		return "not ready";
	case MONITOR_VERDICT_SKIPPED:
		return "skipped";
	case MONITOR_VERDICT_NOT_INITIALIZED:
		return "not yet initialized";
	case MONITOR_VERDICT_PASS:
		return "pass";
	case MONITOR_VERDICT_FAIL:
		return "fail";
	}
	return "?";
}

const char *monitor_check_name(enum monitor_check c)
{
	switch (c) {
	case MONITOR_CHECK_IMBALANCE:
		return "imbalance";
	case MONITOR_CHECK_LOCAL_DSQ_DEPTH:
		return "local_dsq_depth";
	case MONITOR_CHECK_RQ_CLOCK_STALL:
		return "rq_clock_stall";
	case MONITOR_CHECK_FALLBACK_RATE:
		return "fallback_rate";
	case MONITOR_CHECK_KEEP_LAST_RATE:
		return "keep_last_rate";
	case MONITOR_CHECK_TASK_STALL:
		return "task_stall";
	}
	return "?";
}

#define WHY(...) snprintf(s->why, sizeof(s->why), __VA_ARGS__)

static void verdict(const struct monitor *m, struct monitor_summary *s)
{
	if (!m->ready) {
		s->verdict = MONITOR_VERDICT_NOT_READY;
		WHY("monitor: not yet initialized (%s)", m->not_ready);
	} else if (!m->l.has_scx) {
		s->verdict = MONITOR_VERDICT_SKIPPED;
		WHY("monitor: skipped (kernel without sched_ext: nothing to judge)");
	} else if (m->implausible) {
		s->verdict = MONITOR_VERDICT_NOT_INITIALIZED;
		WHY("monitor: not yet initialized (implausible sample: %s)", m->first_implausible);
	} else if (m->seq && !m->clock_varied) {
		s->verdict = MONITOR_VERDICT_NOT_INITIALIZED;
		WHY("monitor: not yet initialized (all rq clocks identical: %#llx)",
		    (unsigned long long)m->clock_first);
	} else if (!m->scx_seen_enabled) {
		s->verdict = MONITOR_VERDICT_SKIPPED;
		WHY("monitor: skipped (sched_ext never enabled: EEVDF run)");
	} else if (m->nr_violations) {
		/* Before !evaluated: the runnable-task check keeps the
		 * kernel's rule, which has no warm-up. */
		s->verdict = MONITOR_VERDICT_FAIL;
		WHY("monitor: %s", m->violations[0].msg);
	} else if (!m->evaluated) {
		s->verdict = MONITOR_VERDICT_SKIPPED;
		WHY("monitor: skipped (no sample past the %.1f s warm-up)",
		    monitor_sec(m->th.warmup_ns));
	} else {
		s->verdict = MONITOR_VERDICT_PASS;
		WHY("monitor: pass (%llu samples judged)", (unsigned long long)m->evaluated);
	}
}

void monitor_summarize(const struct monitor *m, struct monitor_summary *s)
{
	memset(s, 0, sizeof(*s));
	verdict(m, s);
	s->nr_phases = m->nr_phases;
	s->phases_omitted = m->phases_omitted;
	s->phases = m->phases;
	s->ready = m->ready;
	s->ready_ns = m->ready_ns;
	s->scx_seen_enabled = m->scx_seen_enabled;
	s->scx_enabled_ns = m->scx_enabled_first_ns;
	s->samples = m->seq;
	s->implausible = m->implausible;
	s->evaluated = m->evaluated;
	memcpy(s->first_implausible, m->first_implausible, sizeof(s->first_implausible));
	s->worst_imbalance = m->worst_imbalance;
	s->nr_cpus = m->nr_cpus;
	s->peaks = m->peaks;
	s->nr_violations = m->nr_violations;
	s->violations_total = m->violations_total;
	s->violations = m->violations;
	s->nr_events = m->l.nr_events;
	s->events_valid = m->events_valid;
	s->events = m->last_events;
	s->nr_notes = m->nr_notes;
	s->notes = m->notes;
	s->lanes = (const struct monitor_lane_bucket (*)[MONITOR_LANE_BUCKETS])m->lanes;
	s->lane_n = m->lane_n;
	s->lane_bucket_ns = m->lane_bucket_ns;
	s->th = m->th;
}

/* ---- MonitorReport: every piece malloc'd, so free_unpacked frees it ---- */

static int fill_peaks(const struct monitor_summary *s, Ktstr__MonitorReport *r)
{
	uint32_t n = s->nr_cpus < MONITOR_REPORT_CPUS_MAX ? s->nr_cpus : MONITOR_REPORT_CPUS_MAX;

	r->cpu_peaks = calloc(n ? n : 1, sizeof(*r->cpu_peaks));
	if (!r->cpu_peaks)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		Ktstr__MonitorCpuPeak *p = malloc(sizeof(*p));

		if (!p)
			return -ENOMEM;
		ktstr__monitor_cpu_peak__init(p);
		p->cpu = i;
		p->has_max_nr_running = p->has_max_local_dsq = 1;
		p->max_nr_running = s->peaks[i].max_nr_running;
		p->max_local_dsq = s->peaks[i].max_local_dsq;
		r->cpu_peaks[r->n_cpu_peaks++] = p;
	}
	r->has_cpu_peaks_omitted = 1;
	r->cpu_peaks_omitted = s->nr_cpus - n;
	return 0;
}

static int fill_violations(const struct monitor_summary *s, Ktstr__MonitorReport *r)
{
	r->violations = calloc(s->nr_violations ? s->nr_violations : 1, sizeof(*r->violations));
	if (!r->violations)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nr_violations; i++) {
		const struct monitor_violation *v = &s->violations[i];
		Ktstr__MonitorViolation *p = malloc(sizeof(*p));

		if (!p)
			return -ENOMEM;
		ktstr__monitor_violation__init(p);
		r->violations[r->n_violations++] = p;
		p->check = (Ktstr__MonitorCheck)v->check;
		p->message = strdup(v->msg);
		if (!p->message)
			return -ENOMEM;
		p->has_start_ns = p->has_end_ns = p->has_start_sample = p->has_end_sample = 1;
		p->start_ns = v->start_ns;
		p->end_ns = v->end_ns;
		p->start_sample = v->start_seq;
		p->end_sample = v->end_seq;
	}
	r->has_violations_omitted = 1;
	r->violations_omitted = s->violations_total - s->nr_violations;
	return 0;
}

static int fill_phases(const struct monitor_summary *s, Ktstr__MonitorReport *r)
{
	r->phases = calloc(s->nr_phases ? s->nr_phases : 1, sizeof(*r->phases));
	if (!r->phases)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nr_phases; i++) {
		const struct monitor_phase *ph = &s->phases[i];
		Ktstr__MonitorPhase *p = malloc(sizeof(*p));

		if (!p)
			return -ENOMEM;
		ktstr__monitor_phase__init(p);
		r->phases[r->n_phases++] = p;
		p->has_step_index = p->has_guest_elapsed_ms = ph->has_step;
		p->step_index = ph->step;
		p->guest_elapsed_ms = ph->guest_elapsed_ms;
		p->has_start_ns = p->has_samples = p->has_evaluated = 1;
		p->start_ns = ph->start_ns;
		p->samples = ph->samples;
		p->evaluated = ph->evaluated;
		p->has_worst_imbalance_ratio = p->has_max_nr_running = p->has_max_local_dsq = 1;
		p->worst_imbalance_ratio = ph->worst_imbalance;
		p->max_nr_running = ph->max_nr_running;
		p->max_local_dsq = ph->max_local_dsq;
		p->has_violations = 1;
		p->violations = ph->violations;
	}
	r->has_phases_omitted = 1;
	r->phases_omitted = s->phases_omitted;
	return 0;
}

static int fill_lanes(const struct monitor_summary *s, Ktstr__MonitorReport *r)
{
	uint32_t n = s->nr_cpus < MONITOR_REPORT_CPUS_MAX ? s->nr_cpus : MONITOR_REPORT_CPUS_MAX;

	if (!s->lane_n)
		return 0;
	r->cpu_lanes = calloc(n ? n : 1, sizeof(*r->cpu_lanes));
	if (!r->cpu_lanes)
		return -ENOMEM;
	for (uint32_t c = 0; c < n; c++) {
		Ktstr__MonitorCpuLane *l = malloc(sizeof(*l));

		if (!l)
			return -ENOMEM;
		ktstr__monitor_cpu_lane__init(l);
		r->cpu_lanes[r->n_cpu_lanes++] = l;
		l->cpu = c;
		l->max_nr_running = calloc(s->lane_n, sizeof(*l->max_nr_running));
		if (!l->max_nr_running)
			return -ENOMEM;
		l->n_max_nr_running = s->lane_n;
		l->stuck_samples = calloc(s->lane_n, sizeof(*l->stuck_samples));
		if (!l->stuck_samples)
			return -ENOMEM;
		l->n_stuck_samples = s->lane_n;
		for (uint32_t b = 0; b < s->lane_n; b++) {
			l->max_nr_running[b] = s->lanes[c][b].max_nr_running;
			l->stuck_samples[b] = s->lanes[c][b].stuck_samples;
		}
	}
	r->has_lane_bucket_ns = 1;
	r->lane_bucket_ns = s->lane_bucket_ns;
	return 0;
}

static int fill_lists(const struct monitor *m, const struct monitor_summary *s,
		      Ktstr__MonitorReport *r)
{
	uint32_t ne = s->events_valid ? s->nr_events : 0;

	r->events = calloc(ne ? ne : 1, sizeof(*r->events));
	r->notes = calloc(s->nr_notes ? s->nr_notes : 1, sizeof(*r->notes));
	if (!r->events || !r->notes)
		return -ENOMEM;
	for (uint32_t i = 0; i < ne; i++) {
		Ktstr__MonitorEventTotal *e = malloc(sizeof(*e));

		if (!e)
			return -ENOMEM;
		ktstr__monitor_event_total__init(e);
		r->events[r->n_events++] = e;
		e->name = strdup(monitor_event_name(m, i));
		if (!e->name)
			return -ENOMEM;
		e->value = (int64_t)s->events[i];
	}
	for (uint32_t i = 0; i < s->nr_notes; i++) {
		r->notes[i] = strdup(s->notes[i]);
		if (!r->notes[i])
			return -ENOMEM;
		r->n_notes++;
	}
	return 0;
}

int monitor_report_fill(const struct monitor *m, Ktstr__MonitorReport **out)
{
	struct monitor_summary s;
	Ktstr__MonitorReport *r;

	*out = NULL;
	monitor_summarize(m, &s);
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ktstr__monitor_report__init(r);
	r->verdict = (Ktstr__MonitorVerdict)s.verdict;
	r->summary = strdup(s.why);
	if (!r->summary)
		goto err_free;
	r->has_samples = r->has_implausible = r->has_evaluated = 1;
	r->samples = s.samples;
	r->implausible = s.implausible;
	r->evaluated = s.evaluated;
	if (s.first_implausible[0] && !(r->first_implausible = strdup(s.first_implausible)))
		goto err_free;
	r->has_ready_at_ns = s.ready;
	r->ready_at_ns = s.ready_ns;
	r->has_scx_enabled_at_ns = s.scx_seen_enabled;
	r->scx_enabled_at_ns = s.scx_enabled_ns;
	r->has_worst_imbalance_ratio = s.samples > s.implausible;
	r->worst_imbalance_ratio = s.worst_imbalance;
	r->has_nr_cpus = 1;
	r->nr_cpus = s.nr_cpus;
	r->has_max_imbalance_ratio = r->has_max_local_dsq_depth = r->has_fail_on_stall = 1;
	r->has_sustained_samples = r->has_warmup_ns = 1;
	r->max_imbalance_ratio = s.th.max_imbalance_ratio;
	r->max_local_dsq_depth = s.th.max_local_dsq_depth;
	r->fail_on_stall = s.th.fail_on_stall;
	r->sustained_samples = s.th.sustained_samples;
	r->warmup_ns = s.th.warmup_ns;
	if (fill_peaks(&s, r) || fill_violations(&s, r) || fill_lists(m, &s, r) ||
	    fill_phases(&s, r) || fill_lanes(&s, r))
		goto err_free;
	*out = r;
	return 0;

err_free:
	/* Everything set so far is malloc'd and counted: free_unpacked
	 * releases exactly that. */
	ktstr__monitor_report__free_unpacked(r, NULL);
	return -ENOMEM;
}
