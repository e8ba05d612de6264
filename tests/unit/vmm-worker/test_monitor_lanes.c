/* The monitor's lanes (monitor_lanes.c): each CPU's most runnable tasks
 * and stuck-clock samples per bucket of time, the bucket doubling so a run
 * of any length fits in MONITOR_LANE_BUCKETS, and the lanes across the
 * wire. */
#include "test_monitor_guest.h"

static void sample(struct fake_guest *g, struct monitor *m, uint64_t t_ms, uint32_t nr1,
		   uint64_t clock1)
{
	fg_cpu(g, 0, 3, t_ms * FG_MS + 1, 0);
	fg_cpu(g, 1, nr1, clock1, 0);
	cr_assert_eq(monitor_sample(m, t_ms * FG_MS, NULL), 0);
}

Test(monitor_lanes, buckets_hold_peaks_and_stuck_samples_and_fold_as_the_run_grows)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;
	Ktstr__MonitorReport *r;

	fg_init_72(&g, 2);
	fg_boot(&g);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	/* 0..1500 ms every 100 ms; cpu1's clock stops at 500 ms while two
	 * tasks are runnable, and moves again at 900 ms. */
	for (uint64_t t = 0; t <= 1500; t += 100)
		sample(&g, m, t, t >= 500 && t < 900 ? 2 : 1,
		       t >= 500 && t < 900 ? 500 * FG_MS : t * FG_MS + 2);
	monitor_summarize(m, &s);
	cr_assert_eq(s.lane_bucket_ns, MONITOR_LANE_BUCKET0_NS);
	cr_assert_eq(s.lane_n, 7, "1500 ms is in bucket 6 of 250 ms");
	cr_assert_eq(s.lanes[0][0].max_nr_running, 3);
	cr_assert_eq(s.lanes[0][2].stuck_samples, 0, "cpu0's clock moves");
	cr_assert_eq(s.lanes[1][2].max_nr_running, 2);
	/* Stuck at 600 and 700 (bucket 2: 500..749 ms) and 800 (bucket 3). */
	cr_assert_eq(s.lanes[1][2].stuck_samples, 2);
	cr_assert_eq(s.lanes[1][3].stuck_samples, 1);
	cr_assert_eq(s.lanes[1][1].stuck_samples, 0);
	cr_assert_eq(s.lanes[1][4].stuck_samples, 0);
	/* At 20 s the 250 ms buckets end at 16 s: one fold, 500 ms each. */
	sample(&g, m, 20000, 1, 20000 * FG_MS);
	monitor_summarize(m, &s);
	cr_assert_eq(s.lane_bucket_ns, 2 * MONITOR_LANE_BUCKET0_NS);
	cr_assert_eq(s.lane_n, 41);
	cr_assert_eq(s.lanes[1][1].stuck_samples, 3, "500..999 ms: both buckets together");
	cr_assert_eq(s.lanes[1][1].max_nr_running, 2);
	cr_assert_eq(s.lanes[1][40].max_nr_running, 1);
	/* An hour: folded until it fits, 64 s a bucket. */
	sample(&g, m, 3600000, 1, 3600000 * FG_MS);
	monitor_summarize(m, &s);
	cr_assert_eq(s.lane_bucket_ns, 256 * MONITOR_LANE_BUCKET0_NS);
	cr_assert_leq(s.lane_n, MONITOR_LANE_BUCKETS);
	cr_assert_eq(s.lanes[1][0].stuck_samples, 3, "nothing lost in the folds");
	cr_assert_eq(monitor_report_fill(m, &r), 0);
	cr_assert_eq(r->n_cpu_lanes, 2);
	cr_assert(r->has_lane_bucket_ns && r->lane_bucket_ns == 64000000000ull);
	cr_assert_eq(r->cpu_lanes[1]->cpu, 1);
	cr_assert_eq(r->cpu_lanes[1]->n_max_nr_running, s.lane_n);
	cr_assert_eq(r->cpu_lanes[1]->n_stuck_samples, s.lane_n);
	cr_assert_eq(r->cpu_lanes[1]->stuck_samples[0], 3);
	ktstr__monitor_report__free_unpacked(r, NULL);
	monitor_free(m);
	fg_free(&g);
}
