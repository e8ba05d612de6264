/* The monitor's timeline (monitor_phases.c): samples and violations joined
 * to the scenario steps the guest announced, the time before the first
 * step kept apart, the fixed cap, and the phases across the wire. */
#include "test_monitor_guest.h"

static void sample(struct fake_guest *g, struct monitor *m, uint64_t t_ms, uint32_t nr0,
		   uint32_t nr1, uint32_t dsq1)
{
	fg_cpu(g, 0, nr0, t_ms * FG_MS + 1, 0);
	fg_cpu(g, 1, nr1, t_ms * FG_MS + 2, dsq1);
	cr_assert_eq(monitor_sample(m, t_ms * FG_MS, NULL), 0);
}

Test(monitor_phases, samples_and_violations_land_in_the_step_they_happened_in)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;
	Ktstr__MonitorReport *r;
	uint64_t t = 0;

	fg_init_72(&g, 2);
	fg_boot(&g);
	fg_enable(&g, 1);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	/* Before the first step: 3 samples, balanced. */
	for (int i = 0; i < 3; i++, t += 100)
		sample(&g, m, t, 2, 2, 0);
	/* Step 0 at +300 ms: balanced until the warm-up ends. */
	monitor_mark_phase(m, t * FG_MS, 0, 0);
	for (int i = 0; i < 8; i++, t += 100)
		sample(&g, m, t, 2, 2, 1);
	/* Step 1: cpu0 9 tasks, cpu1 0: the imbalance window fills here. */
	monitor_mark_phase(m, t * FG_MS, 1, 1100);
	for (int i = 0; i < 6; i++, t += 100)
		sample(&g, m, t, 9, 0, 0);
	monitor_summarize(m, &s);
	cr_assert_eq(s.verdict, MONITOR_VERDICT_FAIL);
	cr_assert_eq(s.nr_phases, 3);
	cr_assert_not(s.phases[0].has_step);
	cr_assert_eq(s.phases[0].samples, 3);
	cr_assert_eq(s.phases[0].max_nr_running, 2);
	cr_assert(s.phases[1].has_step && s.phases[1].step == 0);
	cr_assert_eq(s.phases[1].start_ns, 300 * FG_MS);
	cr_assert_eq(s.phases[1].samples, 8);
	cr_assert_eq(s.phases[1].max_local_dsq, 1);
	cr_assert_eq(s.phases[1].violations, 0);
	cr_assert(s.phases[2].has_step && s.phases[2].step == 1);
	cr_assert_eq(s.phases[2].guest_elapsed_ms, 1100);
	cr_assert_eq(s.phases[2].samples, 6);
	cr_assert_eq(s.phases[2].evaluated, 6);
	cr_assert_eq(s.phases[2].max_nr_running, 9);
	cr_assert_float_eq(s.phases[2].worst_imbalance, 9.0, 1e-9);
	cr_assert_eq(s.phases[2].violations, 1, "the imbalance ended in step 1");
	/* Across the wire. */
	cr_assert_eq(monitor_report_fill(m, &r), 0);
	cr_assert_eq(r->n_phases, 3);
	cr_assert(!r->phases[0]->has_step_index && r->phases[2]->has_step_index);
	cr_assert_eq(r->phases[2]->step_index, 1);
	cr_assert_eq(r->phases[2]->violations, 1);
	cr_assert_eq(r->phases_omitted, 0);
	ktstr__monitor_report__free_unpacked(r, NULL);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_phases, a_guest_that_announces_endless_steps_costs_a_fixed_table)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;

	fg_init_72(&g, 2);
	fg_boot(&g);
	fg_enable(&g, 1);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	for (uint32_t i = 0; i < 1000; i++)
		monitor_mark_phase(m, (uint64_t)i * FG_MS, i, i);
	sample(&g, m, 2000, 1, 1, 0);
	monitor_summarize(m, &s);
	cr_assert_eq(s.nr_phases, MONITOR_PHASES_MAX);
	cr_assert_eq(s.phases_omitted, 1000 - (MONITOR_PHASES_MAX - 1));
	cr_assert_eq(s.phases[MONITOR_PHASES_MAX - 1].step, MONITOR_PHASES_MAX - 2);
	cr_assert_eq(s.phases[MONITOR_PHASES_MAX - 1].samples, 1, "the last kept phase counts on");
	monitor_free(m);
	fg_free(&g);
}
