/* The monitor's bounded memory and its report (monitor_sample.c's ring,
 * monitor_summary.c's MonitorReport): the ring keeps the newest samples up
 * to its cap, the report lists at most 64 CPUs and 8 violations with counts
 * of the rest, and survives the wire. */
#include <math.h>

#include "test_monitor_guest.h"

static void tick_all(struct fake_guest *g, struct monitor *m, uint64_t t_ms, uint32_t nr0,
		     uint32_t nr_rest)
{
	for (uint32_t c = 0; c < g->ncpu; c++)
		fg_cpu(g, c, c ? nr_rest : nr0, t_ms * FG_MS + c + 1, c % 7);
	cr_assert_eq(monitor_sample(m, t_ms * FG_MS, NULL), 0);
}

Test(monitor_report, the_ring_keeps_the_newest_samples_up_to_its_cap)
{
	struct fake_guest g;
	struct monitor *m;
	const struct monitor_sample_hdr *h;
	const struct monitor_cpu_sample *c;

	fg_init_72(&g, 2);
	fg_boot(&g);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	cr_assert_eq(monitor_ring_depth(m), MONITOR_RING_SAMPLES, "600 samples for 2 CPUs");
	for (uint64_t t = 0; t < 700; t++)
		tick_all(&g, m, t * 100, 1, 1);
	cr_assert_eq(monitor_ring_len(m), 600);
	cr_assert_eq(monitor_ring_get(m, 0, &h, &c, NULL), 0);
	cr_assert_eq(h->seq, 100, "the oldest kept");
	cr_assert_eq(h->t_ns, 10000 * FG_MS);
	cr_assert_eq(c[1].clock, 10000 * FG_MS + 2);
	cr_assert_eq(monitor_ring_get(m, 599, &h, &c, NULL), 0);
	cr_assert_eq(h->seq, 699, "the newest");
	cr_assert_eq(monitor_ring_get(m, 600, &h, NULL, NULL), -ERANGE);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_report, the_ring_shrinks_with_many_cpus)
{
	struct fake_guest g;
	struct monitor *m;

	/* 100 CPUs: 38400 / 100 = 384 samples; 1024 CPUs would get 37. */
	fg_init_72(&g, 100);
	fg_boot(&g);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_ring_depth(m), MONITOR_RING_CPU_RECORDS / 100);
	cr_assert(monitor_ring_depth(m) * 100 <= MONITOR_RING_CPU_RECORDS);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	for (uint64_t t = 0; t < 400; t++)
		tick_all(&g, m, t * 100, 2, 2);
	cr_assert_eq(monitor_ring_len(m), 384);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_report, a_failing_run_becomes_a_bounded_report)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;
	Ktstr__MonitorReport *r, *back;
	uint8_t *wire;
	size_t n;
	uint64_t t = 0;

	fg_init_72(&g, 100);
	fg_boot(&g);
	fg_enable(&g, 1);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	/* Ten separate runs of 5 imbalanced samples (after the warm-up),
	 * each broken by a balanced one: ten violations. */
	for (; t < 10; t++)
		tick_all(&g, m, t * 100, 2, 2);
	for (int run = 0; run < 10; run++) {
		for (int i = 0; i < 5; i++, t++)
			tick_all(&g, m, t * 100, 9 + run, 0);
		tick_all(&g, m, t++ * 100, 2, 2);
	}
	monitor_summarize(m, &s);
	cr_assert_eq(s.verdict, MONITOR_VERDICT_FAIL);
	cr_assert_eq(s.nr_violations, MONITOR_VIOLATIONS_MAX);
	cr_assert_eq(s.violations_total, 10);
	cr_assert_str_eq(s.violations[0].msg,
			 "imbalance ratio 9.0 > 4.0 for 5 consecutive samples (cpu0 nr_running 9, "
			 "cpu1 0), ending at +1.4 s");

	cr_assert_eq(monitor_report_fill(m, &r), 0);
	cr_assert_eq(r->verdict, KTSTR__MONITOR_VERDICT__MONITOR_FAIL);
	cr_assert_str_eq(r->summary, s.why);
	cr_assert_eq(r->samples, 70);
	cr_assert_eq(r->evaluated, 60);
	cr_assert_eq(r->nr_cpus, 100);
	cr_assert_eq(r->n_cpu_peaks, MONITOR_REPORT_CPUS_MAX);
	cr_assert_eq(r->cpu_peaks_omitted, 36);
	cr_assert_eq(r->cpu_peaks[0]->max_nr_running, 18);
	cr_assert_eq(r->cpu_peaks[63]->cpu, 63);
	cr_assert_eq(r->cpu_peaks[63]->max_local_dsq, 63 % 7);
	cr_assert_eq(r->n_violations, 8);
	cr_assert_eq(r->violations_omitted, 2);
	cr_assert_eq(r->violations[0]->check, KTSTR__MONITOR_CHECK__MONITOR_CHECK_IMBALANCE);
	cr_assert_eq(r->violations[0]->start_ns, 1000 * FG_MS);
	cr_assert_eq(r->violations[0]->end_ns, 1400 * FG_MS);
	cr_assert_eq(r->violations[0]->start_sample, 10);
	cr_assert_eq(r->violations[0]->end_sample, 14);
	cr_assert_float_eq(r->worst_imbalance_ratio, 18.0, 1e-9);
	cr_assert(r->has_ready_at_ns && r->has_scx_enabled_at_ns);
	cr_assert_eq(r->sustained_samples, 5);
	cr_assert_float_eq(r->max_imbalance_ratio, 4.0, 1e-9);
	cr_assert_eq(r->n_events, 0, "no scheduler attached: no counters read");

	/* Across the wire and back, whole. */
	n = ktstr__monitor_report__get_packed_size(r);
	wire = malloc(n);
	cr_assert(wire);
	ktstr__monitor_report__pack(r, wire);
	back = ktstr__monitor_report__unpack(NULL, n, wire);
	cr_assert(back);
	cr_assert_eq(back->n_violations, 8);
	cr_assert_str_eq(back->violations[7]->message, s.violations[7].msg);
	cr_assert_eq(back->n_cpu_peaks, 64);
	ktstr__monitor_report__free_unpacked(back, NULL);
	free(wire);
	ktstr__monitor_report__free_unpacked(r, NULL);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_report, a_monitor_that_never_got_ready_still_reports)
{
	struct fake_guest g;
	struct monitor *m;
	Ktstr__MonitorReport *r;

	fg_init_72(&g, 2);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert_eq(monitor_report_fill(m, &r), 0);
	cr_assert_eq(r->verdict, KTSTR__MONITOR_VERDICT__MONITOR_NOT_READY);
	cr_assert_str_eq(r->summary, "monitor: not yet initialized (kernel image not in memory yet "
				     "(linux_banner reads as zeros))");
	cr_assert_not(r->has_ready_at_ns);
	cr_assert_not(r->has_worst_imbalance_ratio);
	cr_assert_eq(r->samples, 0);
	ktstr__monitor_report__free_unpacked(r, NULL);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_report, events_and_notes_reach_the_report)
{
	struct fake_guest g;
	struct monitor *m;
	Ktstr__MonitorReport *r;

	fg_init_72(&g, 2);
	fg_boot(&g);
	fg_enable(&g, 1);
	fg_attach(&g);
	fg_event(&g, 0, 1, 5);
	fg_event(&g, 1, 1, 6);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	tick_all(&g, m, 0, 1, 1);
	fg_put32(&g, fg_rq(&g, 0) + g.l.rq_nr_running->offset, 123456);
	cr_assert_eq(monitor_sample(m, 100 * FG_MS, NULL), 0);
	cr_assert_eq(monitor_report_fill(m, &r), 0);
	cr_assert_eq(r->verdict, KTSTR__MONITOR_VERDICT__MONITOR_NOT_INITIALIZED);
	cr_assert_eq(r->n_events, 13);
	cr_assert_str_eq(r->events[1]->name, "SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE");
	cr_assert_eq(r->events[1]->value, 11);
	cr_assert_eq(r->n_notes, 1);
	cr_assert_str_eq(r->notes[0], "monitor: implausible sample (cpu0 nr_running 123456 > 100000)");
	cr_assert_str_eq(r->first_implausible, "cpu0 nr_running 123456 > 100000");
	ktstr__monitor_report__free_unpacked(r, NULL);
	monitor_free(m);
	fg_free(&g);
}
