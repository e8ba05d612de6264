/* The timeline: samples joined to the scenario's steps. The guest announces
 * each step on the ring (STIMULUS); the engine passes it on when it drains
 * the ring (vm_monitor_ring), so a phase starts up to one drain interval
 * after the guest's step did. Each phase keeps counts and peaks only, so the
 * memory is fixed (MONITOR_PHASES_MAX records) however long the run. */
#include <string.h>

#include "monitor_priv.h"

/* phases[0], before the first step, exists from monitor_new on. */
static struct monitor_phase *current(struct monitor *m)
{
	return &m->phases[m->nr_phases - 1];
}

void monitor_mark_phase(struct monitor *m, uint64_t now_ns, uint32_t step, uint32_t elapsed_ms)
{
	struct monitor_phase *p;

	if (m->nr_phases >= MONITOR_PHASES_MAX) {
		m->phases_omitted++;
		return;
	}
	p = &m->phases[m->nr_phases++];
	memset(p, 0, sizeof(*p));
	p->has_step = true;
	p->step = step;
	p->guest_elapsed_ms = elapsed_ms;
	p->start_ns = now_ns > m->t0_ns && m->started ? now_ns - m->t0_ns : 0;
}

void monitor_phase_account(struct monitor *m, const struct monitor_sample_hdr *h,
			   const struct monitor_cpu_sample *cpus)
{
	struct monitor_phase *p = current(m);
	uint32_t lo = UINT32_MAX, hi = 0;
	double ratio;

	p->samples++;
	if (h->flags & MONITOR_SAMPLE_EVALUATED)
		p->evaluated++;
	if (h->flags & MONITOR_SAMPLE_IMPLAUSIBLE)
		return;
	for (uint32_t c = 0; c < m->nr_cpus; c++) {
		lo = cpus[c].nr_running < lo ? cpus[c].nr_running : lo;
		hi = cpus[c].nr_running > hi ? cpus[c].nr_running : hi;
		if (cpus[c].local_dsq > p->max_local_dsq)
			p->max_local_dsq = cpus[c].local_dsq;
	}
	if (hi > p->max_nr_running)
		p->max_nr_running = hi;
	ratio = (double)hi / (double)(lo ? lo : 1);
	if (ratio > p->worst_imbalance)
		p->worst_imbalance = ratio;
}

void monitor_phase_violation(struct monitor *m)
{
	current(m)->violations++;
}

