/* The lanes: each CPU over the whole run in MONITOR_LANE_BUCKETS buckets,
 * for the HTML page's per-CPU picture (docs/monitor.md, "Lanes"). The
 * bucket width starts at MONITOR_LANE_BUCKET0_NS and doubles, folding
 * neighbours, whenever a sample falls past the last bucket: the memory is
 * fixed and a long run still fits whole, at a coarser grain. */
#include <string.h>

#include "monitor_priv.h"

/* Halve the resolution: bucket i becomes buckets 2i and 2i+1 together. */
static void fold(struct monitor *m, uint32_t ncpu)
{
	for (uint32_t c = 0; c < ncpu; c++) {
		struct monitor_lane_bucket *l = m->lanes[c];

		for (uint32_t i = 0; i < MONITOR_LANE_BUCKETS / 2; i++) {
			const struct monitor_lane_bucket *a = &l[2 * i], *b = &l[2 * i + 1];
			struct monitor_lane_bucket n = {
				a->max_nr_running > b->max_nr_running ? a->max_nr_running
								      : b->max_nr_running,
				a->stuck_samples + b->stuck_samples,
			};

			l[i] = n;
		}
		memset(&l[MONITOR_LANE_BUCKETS / 2], 0, sizeof(*l) * (MONITOR_LANE_BUCKETS / 2));
	}
	m->lane_bucket_ns *= 2;
	m->lane_n = (m->lane_n + 1) / 2;
}

void monitor_lane_account(struct monitor *m, const struct monitor_sample_hdr *h,
			  const struct monitor_cpu_sample *cpus, const uint64_t *vcpu_cpu_ns,
			  uint64_t dt)
{
	uint32_t ncpu = m->nr_cpus < MONITOR_REPORT_CPUS_MAX ? m->nr_cpus : MONITOR_REPORT_CPUS_MAX;
	uint64_t b;

	if (!m->lane_bucket_ns)
		m->lane_bucket_ns = MONITOR_LANE_BUCKET0_NS;
	/* At most 64 folds: the width is a u64 that doubles. */
	while (h->t_ns / m->lane_bucket_ns >= MONITOR_LANE_BUCKETS &&
	       m->lane_bucket_ns <= UINT64_MAX / 2)
		fold(m, ncpu);
	b = h->t_ns / m->lane_bucket_ns;
	if (b >= MONITOR_LANE_BUCKETS)
		return;
	if (b + 1 > m->lane_n)
		m->lane_n = (uint32_t)b + 1;
	for (uint32_t c = 0; c < ncpu; c++) {
		const struct monitor_cpu_state *cs = &m->cs[c];
		struct monitor_lane_bucket *k = &m->lanes[c][b];
		/* The stall check's condition (monitor_eval.c, judge_stall),
		 * whether or not this sample is judged: the clock did not move
		 * while tasks were runnable in both samples, and the vCPU ran
		 * (when its run time is known). */
		bool stuck = m->has_prev && dt && cpus[c].clock == cs->prev_clock &&
			     cpus[c].nr_running > 0 && cs->prev_nr_running > 0;

		if (stuck && vcpu_cpu_ns && cs->prev_vcpu_known)
			stuck = vcpu_cpu_ns[c] >= cs->prev_vcpu_ns &&
				vcpu_cpu_ns[c] - cs->prev_vcpu_ns >= dt / 2;
		if (cpus[c].nr_running > k->max_nr_running)
			k->max_nr_running = cpus[c].nr_running;
		k->stuck_samples += stuck;
	}
}
