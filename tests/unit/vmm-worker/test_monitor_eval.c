/* The monitor's judgement (vmm-worker/monitor/monitor_eval.c, the validity
 * rule in monitor_summary.c) on a booted fake 7.2 guest: each threshold with
 * its exact message, the sustained window (4 samples pass, 5 fail), the
 * warm-up, the stall exemptions, EEVDF, and a hostile guest's implausible
 * samples. Ticks are 100 ms apart from t = 0, when the monitor became ready
 * and sched_ext (if enabled) was seen enabled: with the 1 s warm-up the
 * first judged sample is the one at +1.0 s, the fifth at +1.4 s. */
#include "test_monitor_guest.h"

#define NCPU_MAX 8
#define SCX_ENABLED 1
#define SCX_DISABLED 3

struct scene {
	struct fake_guest g;
	struct monitor *m;
	uint32_t nr[NCPU_MAX], dsq[NCPU_MAX];
	bool stuck[NCPU_MAX];		/* clock frozen */
	uint64_t vcpu[NCPU_MAX];	/* host CPU time per vCPU */
	uint64_t vcpu_step[NCPU_MAX];	/* added per tick */
	bool no_vcpu;			/* pass NULL */
	uint64_t t_ms;
};

static void scene_init(struct scene *s, uint32_t ncpu, const struct monitor_thresholds *th,
		       uint32_t state)
{
	memset(s, 0, sizeof(*s));
	fg_init_72(&s->g, ncpu);
	fg_boot(&s->g);
	fg_enable(&s->g, state);
	s->m = fg_monitor(&s->g, th);
	cr_assert_eq(monitor_try_ready(s->m, 0), 0);
	for (uint32_t c = 0; c < ncpu; c++) {
		s->nr[c] = 2;
		s->vcpu_step[c] = 100 * FG_MS; /* ran the whole interval */
	}
}

static void scene_free(struct scene *s)
{
	monitor_free(s->m);
	fg_free(&s->g);
}

/* Write the guest state, take the sample at t_ms, advance 100 ms. */
static void tick(struct scene *s)
{
	for (uint32_t c = 0; c < s->g.ncpu; c++) {
		/* A moving clock: distinct per CPU and per tick. */
		uint64_t clock = s->stuck[c] ? 777 : s->t_ms * FG_MS + c + 1;

		fg_cpu(&s->g, c, s->nr[c], clock, s->dsq[c]);
		s->vcpu[c] += s->vcpu_step[c];
	}
	cr_assert_eq(monitor_sample(s->m, s->t_ms * FG_MS, s->no_vcpu ? NULL : s->vcpu), 0);
	s->t_ms += 100;
}

static void ticks(struct scene *s, unsigned n)
{
	while (n--)
		tick(s);
}

static void summary(struct scene *s, struct monitor_summary *out)
{
	monitor_summarize(s->m, out);
}

static void expect_pass(struct scene *s)
{
	struct monitor_summary r;

	summary(s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_PASS, "%s", r.why);
	cr_assert_eq(r.nr_violations, 0);
}

static void expect_fail(struct scene *s, enum monitor_check check, const char *msg)
{
	struct monitor_summary r;

	summary(s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_FAIL, "%s", r.why);
	cr_assert_eq(r.violations[0].check, check);
	cr_assert_str_eq(r.violations[0].msg, msg);
	cr_assert(!strncmp(r.why, "monitor: ", 9) && !strcmp(r.why + 9, msg), "%s", r.why);
}

/* ---- imbalance ---- */

Test(monitor_eval, imbalance_for_five_samples_fails_with_its_numbers)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 15); /* +0.0 .. +1.4 s */
	expect_fail(&s, MONITOR_CHECK_IMBALANCE,
		    "imbalance ratio 9.0 > 4.0 for 5 consecutive samples (cpu0 nr_running 9, "
		    "cpu1 0), ending at +1.4 s");
	summary(&s, &r);
	cr_assert_eq(r.violations[0].start_seq, 10);
	cr_assert_eq(r.violations[0].end_seq, 14);
	cr_assert_eq(r.violations[0].start_ns, 1000 * FG_MS);
	cr_assert_eq(r.violations[0].end_ns, 1400 * FG_MS);
	cr_assert_eq(r.evaluated, 5);
	cr_assert_float_eq(r.worst_imbalance, 9.0, 1e-9);
	/* The run goes on: one violation per run, not one per sample. */
	ticks(&s, 10);
	summary(&s, &r);
	cr_assert_eq(r.violations_total, 1);
	scene_free(&s);
}

Test(monitor_eval, four_samples_do_not_make_a_violation)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 14); /* judged: +1.0 .. +1.3 s, four */
	s.nr[1] = 3;   /* 9 / 3 = 3.0, within */
	ticks(&s, 1);
	s.nr[1] = 0;
	ticks(&s, 4); /* four more: the run started again */
	expect_pass(&s);
	ticks(&s, 1); /* the fifth of the new run */
	expect_fail(&s, MONITOR_CHECK_IMBALANCE,
		    "imbalance ratio 9.0 > 4.0 for 5 consecutive samples (cpu0 nr_running 9, "
		    "cpu1 0), ending at +1.9 s");
	scene_free(&s);
}

Test(monitor_eval, the_ratio_must_exceed_the_threshold)
{
	struct scene s;

	scene_init(&s, 3, NULL, SCX_ENABLED);
	/* max 8 / min 2 = 4.0: not > 4.0. min 0 counts as 1: 4 / 1 = 4.0. */
	s.nr[0] = 8;
	s.nr[1] = 2;
	s.nr[2] = 5;
	ticks(&s, 20);
	s.nr[0] = 4;
	s.nr[1] = 0;
	s.nr[2] = 4;
	ticks(&s, 20);
	expect_pass(&s);
	scene_free(&s);
}

Test(monitor_eval, a_threshold_from_the_spec_applies)
{
	struct scene s;
	struct monitor_thresholds th;
	Ktstr__MonitorSpec spec = KTSTR__MONITOR_SPEC__INIT;

	spec.max_imbalance_ratio = 10.0;
	spec.sustained_samples = 3;
	monitor_thresholds_from_spec(&spec, &th);
	cr_assert_eq(th.max_local_dsq_depth, 50, "the proto's default");
	cr_assert_eq(th.stall_blind_samples, 50);
	scene_init(&s, 2, &th, SCX_ENABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 20);
	expect_pass(&s);
	s.nr[0] = 11;
	ticks(&s, 3);
	expect_fail(&s, MONITOR_CHECK_IMBALANCE,
		    "imbalance ratio 11.0 > 10.0 for 3 consecutive samples (cpu0 nr_running 11, "
		    "cpu1 0), ending at +2.2 s");
	scene_free(&s);
}

/* ---- local DSQ depth ---- */

Test(monitor_eval, a_deep_local_dsq_fails_with_its_cpu)
{
	struct scene s;

	scene_init(&s, 4, NULL, SCX_ENABLED);
	s.dsq[1] = 73;
	s.dsq[2] = 51;
	ticks(&s, 14);
	expect_pass(&s);
	ticks(&s, 1);
	expect_fail(&s, MONITOR_CHECK_LOCAL_DSQ_DEPTH,
		    "local DSQ depth 73 > 50 on cpu1 for 5 consecutive samples, ending at +1.4 s");
	scene_free(&s);
}

Test(monitor_eval, a_dsq_at_the_threshold_passes)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.dsq[0] = 50;
	ticks(&s, 30);
	expect_pass(&s);
	scene_free(&s);
}

/* ---- warm-up ---- */

Test(monitor_eval, nothing_is_judged_during_the_warm_up)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	s.dsq[0] = 500;
	ticks(&s, 10); /* +0.0 .. +0.9 s: all warm-up */
	s.nr[1] = 9;
	s.dsq[0] = 0;
	ticks(&s, 10);
	expect_pass(&s);
	summary(&s, &r);
	cr_assert_eq(r.evaluated, 10);
	cr_assert_eq(r.samples, 20);
	/* What was seen is still reported: peaks cover every sample. */
	cr_assert_eq(r.peaks[0].max_local_dsq, 500);
	cr_assert_float_eq(r.worst_imbalance, 9.0, 1e-9);
	scene_free(&s);
}

Test(monitor_eval, the_warm_up_counts_from_when_sched_ext_is_enabled)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_DISABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 20); /* EEVDF until +2.0 s */
	fg_enable(&s.g, SCX_ENABLED);
	ticks(&s, 14); /* enabled at +2.0 s: judged from +3.0 s, four */
	expect_pass(&s);
	ticks(&s, 1);
	expect_fail(&s, MONITOR_CHECK_IMBALANCE,
		    "imbalance ratio 9.0 > 4.0 for 5 consecutive samples (cpu0 nr_running 9, "
		    "cpu1 0), ending at +3.4 s");
	summary(&s, &r);
	cr_assert(r.scx_seen_enabled);
	cr_assert_eq(r.scx_enabled_ns, 2000 * FG_MS);
	scene_free(&s);
}

Test(monitor_eval, a_scheduler_that_detaches_and_reattaches_warms_up_again)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	ticks(&s, 12);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 4);
	fg_enable(&s.g, SCX_DISABLED); /* run broken, not judged */
	ticks(&s, 3);
	fg_enable(&s.g, SCX_ENABLED); /* at +1.9 s: warm-up until +2.9 s */
	ticks(&s, 10);
	expect_pass(&s);
	scene_free(&s);
}

/* ---- rq clock stall ---- */

Test(monitor_eval, a_stuck_rq_clock_with_runnable_tasks_fails)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[1] = 3;
	s.stuck[1] = true;
	ticks(&s, 14);
	expect_pass(&s);
	ticks(&s, 1);
	expect_fail(&s, MONITOR_CHECK_RQ_CLOCK_STALL,
		    "rq clock of cpu1 stuck for 5 samples while 3 tasks were runnable, ending at "
		    "+1.4 s");
	scene_free(&s);
}

Test(monitor_eval, an_idle_cpu_is_exempt_from_the_stall_check)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[0] = 1;
	s.nr[1] = 0; /* NOHZ idle: no tick, no clock update */
	s.stuck[1] = true;
	ticks(&s, 40);
	expect_pass(&s);
	/* Busy in one sample of each pair only: still exempt. */
	for (int i = 0; i < 20; i++) {
		s.nr[1] = i % 2 ? 0 : 2;
		tick(&s);
	}
	expect_pass(&s);
	scene_free(&s);
}

Test(monitor_eval, a_descheduled_vcpu_is_exempt_from_the_stall_check)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[1] = 3;
	s.stuck[1] = true;
	s.vcpu_step[1] = 49 * FG_MS; /* under half of the 100 ms interval */
	ticks(&s, 40);
	expect_pass(&s);
	s.vcpu_step[1] = 50 * FG_MS; /* half: it ran, the guest could tick */
	ticks(&s, 5);
	expect_fail(&s, MONITOR_CHECK_RQ_CLOCK_STALL,
		    "rq clock of cpu1 stuck for 5 samples while 3 tasks were runnable, ending at "
		    "+4.4 s");
	scene_free(&s);
}

Test(monitor_eval, without_vcpu_time_a_stall_needs_fifty_samples)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.no_vcpu = true;
	s.nr[1] = 3;
	s.stuck[1] = true;
	ticks(&s, 59); /* judged from +1.0 s: 49 stuck samples */
	expect_pass(&s);
	ticks(&s, 1);
	expect_fail(&s, MONITOR_CHECK_RQ_CLOCK_STALL,
		    "rq clock of cpu1 stuck for 50 samples while 3 tasks were runnable (vCPU run "
		    "time unknown), ending at +5.9 s");
	scene_free(&s);
}

Test(monitor_eval, fail_on_stall_off_disables_the_check)
{
	struct scene s;
	struct monitor_thresholds th;

	monitor_thresholds_default(&th);
	th.fail_on_stall = false;
	scene_init(&s, 2, &th, SCX_ENABLED);
	s.nr[1] = 3;
	s.stuck[1] = true;
	ticks(&s, 80);
	expect_pass(&s);
	scene_free(&s);
}

/* ---- event rates ---- */

Test(monitor_eval, select_cpu_fallback_rate_fails_and_unreachable_counters_are_skipped)
{
	struct scene s;
	struct monitor_summary r;
	uint64_t fb = 0;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	fg_attach(&s.g);
	for (int i = 0; i < 14; i++) {
		/* 30 per CPU per 100 ms: 600/s summed over 2 CPUs. */
		fb += 30;
		fg_event(&s.g, 0, 0, fb);
		fg_event(&s.g, 1, 0, fb);
		fg_event(&s.g, 1, 2, 7); /* keep_last, steady */
		tick(&s);
	}
	expect_pass(&s);
	fb += 30;
	fg_event(&s.g, 0, 0, fb);
	fg_event(&s.g, 1, 0, fb);
	tick(&s);
	expect_fail(&s, MONITOR_CHECK_FALLBACK_RATE,
		    "select_cpu_fallback rate 600/s > 200/s for 5 consecutive samples, ending at "
		    "+1.4 s");
	summary(&s, &r);
	cr_assert(r.events_valid);
	cr_assert_eq(r.nr_events, 13);
	cr_assert_eq(r.events[0], 2 * fb);
	cr_assert_eq(r.events[2], 7);
	cr_assert_eq(r.nr_notes, 0);
	/* The pcpu pointer moves to a vmalloc'd chunk the walk cannot reach
	 * (this fake guest has no page tables): said once, skipped, the rest
	 * of the sample is fine. */
	fg_put64(&s.g, FG_SCHED_GPA + s.g.l.scx_sched_pcpu->offset, 0xffffc90000001000ull);
	ticks(&s, 5);
	summary(&s, &r);
	cr_assert_eq(r.implausible, 0);
	cr_assert_eq(r.nr_notes, 1);
	cr_assert_str_eq(r.notes[0], "monitor: sched_ext event counters not reachable (per-CPU "
				     "counters neither in the direct map nor mapped by the page "
				     "tables): skipped");
	/* scx_root to nowhere: skipped too, not said again. */
	fg_put64(&s.g, fg_img(s.g.l.scx_root), 0x4141414141414141ull);
	ticks(&s, 5);
	summary(&s, &r);
	cr_assert_eq(r.nr_notes, 1);
	cr_assert_eq(r.implausible, 0);
	scene_free(&s);
}

Test(monitor_eval, keep_last_rate_fails)
{
	struct scene s;
	uint64_t kl = 0;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	fg_attach(&s.g);
	for (int i = 0; i < 15; i++) {
		kl += 11; /* 110/s on one CPU */
		fg_event(&s.g, 1, 2, kl);
		tick(&s);
	}
	expect_fail(&s, MONITOR_CHECK_KEEP_LAST_RATE,
		    "dispatch_keep_last rate 110/s on CPUs with waiting tasks > 100/s for 5 "
		    "consecutive samples, ending at +1.4 s");
	scene_free(&s);
}

/* One task per CPU (the scx_sdt false positive seen in CI: 4 spinners on 4
 * CPUs, 110/s summed): keeping the last task is all a CPU can do. */
Test(monitor_eval, keep_last_with_nothing_waiting_passes)
{
	struct scene s;
	struct monitor_summary r;
	uint64_t kl = 0;

	scene_init(&s, 4, NULL, SCX_ENABLED);
	fg_attach(&s.g);
	for (uint32_t c = 0; c < 4; c++)
		s.nr[c] = 1;
	for (int i = 0; i < 15; i++) {
		kl += 3; /* 30/s per CPU, 120/s summed */
		for (uint32_t c = 0; c < 4; c++)
			fg_event(&s.g, c, 2, kl);
		tick(&s);
	}
	summary(&s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_PASS, "%s", r.why);
	scene_free(&s);
}

/* The C example ktstr_steps (a CI false positive under host load): a
 * yield-heavy worker alone on CPU 0 keeps its CPU at every sched_yield()
 * (17 000/s), while two pinned spinners share CPU 1, which switches between
 * them and never keeps the last. Nobody waits on CPU 0: no violation. The
 * same rate on the CPU with the waiter is one. */
Test(monitor_eval, keep_last_counts_only_on_the_cpu_with_waiters)
{
	struct scene s;
	struct monitor_summary r;
	uint64_t kl = 0;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	fg_attach(&s.g);
	s.nr[0] = 1;
	s.nr[1] = 2;
	for (int i = 0; i < 30; i++) {
		kl += 1700;
		fg_event(&s.g, 0, 2, kl);
		tick(&s);
	}
	summary(&s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_PASS, "%s", r.why);
	cr_assert_eq(r.events[2], kl, "the summed counter still reports CPU 0's events");
	scene_free(&s);

	scene_init(&s, 2, NULL, SCX_ENABLED);
	fg_attach(&s.g);
	s.nr[0] = 1;
	s.nr[1] = 2;
	kl = 0;
	for (int i = 0; i < 15; i++) {
		kl += 1700;
		fg_event(&s.g, 1, 2, kl);
		tick(&s);
	}
	expect_fail(&s, MONITOR_CHECK_KEEP_LAST_RATE,
		    "dispatch_keep_last rate 17000/s on CPUs with waiting tasks > 100/s for 5 "
		    "consecutive samples, ending at +1.4 s");
	scene_free(&s);
}

/* ---- nothing to judge ---- */

Test(monitor_eval, an_eevdf_run_is_skipped)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_DISABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	s.dsq[0] = 99;
	s.stuck[0] = true;
	ticks(&s, 50);
	summary(&s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_SKIPPED);
	cr_assert_str_eq(r.why, "monitor: skipped (sched_ext never enabled: EEVDF run)");
	cr_assert_eq(r.evaluated, 0);
	cr_assert_eq(r.nr_violations, 0);
	cr_assert_eq(r.peaks[0].max_nr_running, 9);
	scene_free(&s);
}

Test(monitor_eval, a_kernel_without_sched_ext_is_skipped_but_sampled)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary r;

	fg_init_612(&g, 2);
	fg_boot(&g);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	for (uint64_t t = 0; t < 30; t++) {
		fg_cpu(&g, 0, 9, t * 1000 + 1, 0);
		fg_cpu(&g, 1, 0, t * 1000 + 2, 0);
		cr_assert_eq(monitor_sample(m, t * 100 * FG_MS, NULL), 0);
	}
	monitor_summarize(m, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_SKIPPED);
	cr_assert_str_eq(r.why, "monitor: skipped (kernel without sched_ext: nothing to judge)");
	cr_assert_eq(r.peaks[0].max_nr_running, 9);
	cr_assert_eq(r.samples, 30);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_eval, a_run_shorter_than_the_warm_up_is_skipped)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	ticks(&s, 10);
	summary(&s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_SKIPPED);
	cr_assert_str_eq(r.why, "monitor: skipped (no sample past the 1.0 s warm-up)");
	scene_free(&s);
}

/* ---- the validity rule and a hostile guest ---- */

static void expect_not_initialized(struct scene *s, const char *first, const char *note)
{
	struct monitor_summary r;

	summary(s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_NOT_INITIALIZED, "%s", r.why);
	cr_assert_str_eq(r.first_implausible, first);
	cr_assert_eq(r.nr_notes, 1, "said once");
	cr_assert_str_eq(r.notes[0], note);
}

Test(monitor_eval, a_huge_nr_running_is_implausible_and_voids_the_verdict)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 20); /* a violation ... */
	s.nr[0] = 200000;
	ticks(&s, 3); /* ... voided by the rule */
	s.nr[0] = UINT32_MAX;
	ticks(&s, 1);
	expect_not_initialized(&s, "cpu0 nr_running 200000 > 100000",
			       "monitor: implausible sample (cpu0 nr_running 200000 > 100000)");
	summary(&s, &r);
	cr_assert_eq(r.implausible, 4);
	cr_assert_eq(r.nr_violations, 1, "kept for the report");
	cr_assert_eq(r.peaks[0].max_nr_running, 9, "implausible values are not peaks");
	cr_assert_str_eq(r.why, "monitor: not yet initialized (implausible sample: cpu0 nr_running "
				"200000 > 100000)");
	scene_free(&s);
}

Test(monitor_eval, a_huge_local_dsq_is_implausible)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	ticks(&s, 12);
	s.dsq[1] = 10001;
	ticks(&s, 1);
	s.dsq[1] = 10000; /* the bound itself is plausible (and deep) */
	ticks(&s, 5);
	expect_not_initialized(&s, "cpu1 local DSQ depth 10001 > 10000",
			       "monitor: implausible sample (cpu1 local DSQ depth 10001 > 10000)");
	scene_free(&s);
}

Test(monitor_eval, an_implausible_sample_breaks_every_run)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 14); /* four judged */
	s.nr[1] = 200000;
	ticks(&s, 1);
	s.nr[1] = 0;
	ticks(&s, 4); /* four again */
	summary(&s, &r);
	cr_assert_eq(r.nr_violations, 0);
	scene_free(&s);
}

Test(monitor_eval, a_wrong_rq_cpu_or_a_read_fault_is_implausible)
{
	struct scene s;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	ticks(&s, 3);
	fg_put32(&s.g, fg_rq(&s.g, 1) + s.g.l.rq_cpu->offset, 7);
	ticks(&s, 2);
	expect_not_initialized(&s, "rq->cpu of cpu1 reads 7",
			       "monitor: implausible sample (rq->cpu of cpu1 reads 7)");
	scene_free(&s);

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.g.fault_lo = fg_rq(&s.g, 1);
	s.g.fault_hi = s.g.fault_lo + 1;
	ticks(&s, 2);
	expect_not_initialized(&s, "read fault on cpu1's runqueue (Bad address)",
			       "monitor: implausible sample (read fault on cpu1's runqueue (Bad "
			       "address))");
	scene_free(&s);
}

Test(monitor_eval, per_cpu_offsets_rewritten_after_ready_do_not_move_the_reads)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	for (uint32_t n = 0; n < 2; n++)
		fg_put64(&s.g, fg_img(s.g.l.per_cpu_offset) + 8 * n, 0x4242424242424242ull);
	fg_put64(&s.g, fg_img(s.g.l.page_offset_base), 0);
	ticks(&s, 20);
	summary(&s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_PASS, "%s", r.why);
	cr_assert_eq(r.implausible, 0);
	scene_free(&s);
}

Test(monitor_eval, identical_rq_clocks_void_the_verdict)
{
	struct scene s;
	struct monitor_summary r;

	scene_init(&s, 2, NULL, SCX_ENABLED);
	s.stuck[0] = s.stuck[1] = true;
	s.nr[0] = 9;
	s.nr[1] = 0;
	ticks(&s, 30);
	summary(&s, &r);
	cr_assert_eq(r.verdict, MONITOR_VERDICT_NOT_INITIALIZED, "%s", r.why);
	cr_assert_str_eq(r.why, "monitor: not yet initialized (all rq clocks identical: 0x309)");
	cr_assert(r.nr_violations > 0, "found, but the data cannot carry them");
	scene_free(&s);
}
