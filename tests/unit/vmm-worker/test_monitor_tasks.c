/* The runnable-task check (vmm-worker/monitor/monitor_tasks.c) on a booted
 * fake 7.2 guest with a scheduler attached: sched_ext's own rule (a task on
 * a CPU's runnable list for longer than the watchdog timeout) confirmed over
 * two samples, the task named, and the watchdog plan then aging the
 * check-in stamp so the kernel ejects the scheduler before its first check.
 * Hostile lists (cycles, pointers out of RAM, garbage names) cost a bounded
 * walk and never a false report. Timeout 1000 jiffies (4 s at HZ 250). */
#include "test_monitor_guest.h"

#define T_GPA (FG_SCHED_GPA + 840)
#define IV_KVA 0xffffffff83e4b000ull
#define TS_KVA 0xffffffff83e4b008ull

struct tscene {
	struct fake_guest g;
	struct monitor *m;
	uint64_t t_ms, jif;
};

static void tscene_init(struct tscene *s, uint32_t ncpu, const struct monitor_thresholds *th)
{
	memset(s, 0, sizeof(*s));
	fg_init_72(&s->g, ncpu);
	fg_tasks_layout(&s->g);
	s->g.l.has_scx_watchdog_interval = s->g.l.has_scx_watchdog_timestamp = 1;
	s->g.l.scx_watchdog_interval = IV_KVA;
	s->g.l.scx_watchdog_timestamp = TS_KVA;
	fg_boot(&s->g);
	fg_enable(&s->g, 1);
	fg_attach(&s->g);
	fg_put64(&s->g, T_GPA, 1000);
	for (uint32_t c = 0; c < ncpu; c++)
		fg_runnable(&s->g, c, NULL, 0);
	s->jif = 100000;
	s->m = fg_monitor(&s->g, th);
	cr_assert_eq(monitor_try_ready(s->m, 0), 0, "%s", monitor_not_ready_reason(s->m));
}

/* One sample at t_ms with the guest's jiffies at jif; then +100 ms (25
 * jiffies at HZ 250). */
static void ttick(struct tscene *s)
{
	for (uint32_t c = 0; c < s->g.ncpu; c++)
		fg_cpu(&s->g, c, 1, s->t_ms * FG_MS + c + 1, 0);
	fg_jiffies(&s->g, s->jif);
	cr_assert_eq(monitor_sample(s->m, s->t_ms * FG_MS, NULL), 0);
	s->t_ms += 100;
	s->jif += 25;
}

static void tscene_free(struct tscene *s)
{
	monitor_free(s->m);
	fg_free(&s->g);
}

static uint32_t task_violations(const struct monitor *m, const struct monitor_violation **first)
{
	struct monitor_summary sum;
	uint32_t n = 0;

	monitor_summarize(m, &sum);
	*first = NULL;
	for (uint32_t i = 0; i < sum.nr_violations; i++) {
		if (sum.violations[i].check != MONITOR_CHECK_TASK_STALL)
			continue;
		if (!n++)
			*first = &sum.violations[i];
	}
	return n;
}

Test(monitor_tasks, a_task_waiting_past_the_timeout_is_named_after_two_samples)
{
	struct tscene s;
	const struct monitor_violation *v;
	const uint32_t fresh[] = { 1 }, stale[] = { 2, 3 };

	tscene_init(&s, 2, NULL);
	/* cpu0: a task runnable for 10 jiffies; cpu1: its oldest has waited
	 * 1200 (4.8 s) behind a fresher one at the head: the walk finds it. */
	fg_task(&s.g, 1, 101, "fresh", s.jif - 10);
	fg_task(&s.g, 3, 303, "dropped_w", s.jif - 1200);
	fg_task(&s.g, 2, 202, "other", s.jif - 5);
	fg_runnable(&s.g, 0, fresh, 1);
	fg_runnable(&s.g, 1, stale, 2);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 0, "one sample is not a confirmation");
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 1);
	cr_assert(strstr(v->msg, "task dropped_w[303] on cpu1 runnable for 4.9 s without running "
				 "(sched_ext watchdog timeout 4.0 s)"),
		  "%s", v->msg);
	cr_assert_eq(v->end_seq, 1);
	cr_assert_eq(v->start_seq, 0);
	/* Still there: one report per stuck task, not one per sample. */
	ttick(&s);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 1);
	{
		struct monitor_summary sum;

		monitor_summarize(s.m, &sum);
		cr_assert_eq(sum.verdict, MONITOR_VERDICT_FAIL, "a stuck task fails the monitor");
	}
	tscene_free(&s);
}

Test(monitor_tasks, tasks_within_the_timeout_or_seen_stale_once_pass)
{
	struct tscene s;
	const struct monitor_violation *v;
	const uint32_t one[] = { 1 };

	tscene_init(&s, 2, NULL);
	/* Exactly at the timeout is not past it (the kernel's time_after). */
	fg_task(&s.g, 1, 11, "edge", s.jif - 1000);
	fg_runnable(&s.g, 0, one, 1);
	ttick(&s);
	fg_task(&s.g, 1, 11, "edge", s.jif - 1000);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 0);
	/* Stale in one sample, then it ran and became runnable again (a new
	 * runnable_at): a list caught mid-change is never a report. */
	fg_task(&s.g, 1, 11, "flip", s.jif - 5000);
	ttick(&s);
	fg_task(&s.g, 1, 11, "flip", s.jif - 3);
	ttick(&s);
	fg_task(&s.g, 1, 11, "flip", s.jif - 6000);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 0);
	/* The same stale task in two consecutive samples: reported. */
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 1);
	tscene_free(&s);
}

Test(monitor_tasks, fail_on_stall_off_or_a_layout_without_task_fields_checks_nothing)
{
	struct tscene s;
	struct monitor_thresholds th;
	const struct monitor_violation *v;
	const uint32_t one[] = { 1 };

	monitor_thresholds_default(&th);
	th.fail_on_stall = false;
	tscene_init(&s, 1, &th);
	fg_task(&s.g, 1, 7, "stuck", s.jif - 9000);
	fg_runnable(&s.g, 0, one, 1);
	ttick(&s);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 0, "fail_on_stall: false");
	tscene_free(&s);

	tscene_init(&s, 1, NULL);
	monitor_free(s.m);
	s.g.l.task_comm = NULL; /* an older layout: the check is off, not wrong */
	s.m = fg_monitor(&s.g, NULL);
	cr_assert_eq(monitor_try_ready(s.m, 0), 0);
	fg_task(&s.g, 1, 7, "stuck", s.jif - 9000);
	fg_runnable(&s.g, 0, one, 1);
	ttick(&s);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 0);
	tscene_free(&s);
}

Test(monitor_tasks, hostile_lists_cost_a_bounded_walk_and_no_report)
{
	struct tscene s;
	const struct monitor_violation *v;
	unsigned long before;

	tscene_init(&s, 2, NULL);
	/* cpu0: a task whose next points at itself (a cycle that never
	 * reaches the head), runnable "forever". */
	fg_task(&s.g, 1, 1, "loop", s.jif - 10);
	fg_put64(&s.g, fg_list_head_kva(&s.g, 0) - s.g.page_offset, fg_task_node_kva(&s.g, 1));
	fg_put64(&s.g, fg_task_node_kva(&s.g, 1) - s.g.page_offset, fg_task_node_kva(&s.g, 1));
	/* cpu1: the head points outside guest RAM. */
	fg_put64(&s.g, fg_list_head_kva(&s.g, 1) - s.g.page_offset,
		 s.g.page_offset + FG_RAM + 4096);
	before = s.g.reads;
	ttick(&s);
	/* 2 CPUs x (at most 64 entries x 2 reads + the head) + the sample's
	 * own reads: bounded whatever the list says. */
	cr_assert_lt(s.g.reads - before, 400ul, "%lu reads", s.g.reads - before);
	ttick(&s);
	cr_assert_eq(task_violations(s.m, &v), 0);

	/* A stale task with a garbage name and a pid it made up: reported,
	 * its name made printable. */
	{
		const uint32_t one[] = { 2 };
		char junk[16] = { 'a', '\n', '\033', 'b', (char)0xff, 'c' };

		fg_task(&s.g, 2, -5, "x", s.jif - 2000);
		fg_put(&s.g, fg_task_gpa(2) + 3344, junk, sizeof(junk));
		fg_runnable(&s.g, 0, one, 1);
		fg_runnable(&s.g, 1, NULL, 0);
		ttick(&s);
		fg_task(&s.g, 2, -5, "x", s.jif - 2025);
		fg_put(&s.g, fg_task_gpa(2) + 3344, junk, sizeof(junk));
		ttick(&s);
	}
	cr_assert_eq(task_violations(s.m, &v), 1);
	cr_assert(strstr(v->msg, "task a??b?c[-5] on cpu0"), "%s", v->msg);
	/* runnable_at in the future, or a wait beyond a day: not what the
	 * kernel's watchdog keeps; no further report. */
	{
		const uint32_t fut[] = { 3 }, old[] = { 4 };

		fg_runnable(&s.g, 0, fut, 1);
		fg_runnable(&s.g, 1, old, 1);
		for (int i = 0; i < 3; i++) {
			fg_task(&s.g, 3, 3, "future", s.jif + 5000);
			fg_task(&s.g, 4, 4, "ancient", s.jif - 86400ull * 1000 - 10);
			ttick(&s);
		}
	}
	cr_assert_eq(task_violations(s.m, &v), 1);
	tscene_free(&s);
}

/* The kernel's first watchdog check after an attach comes at the old
 * interval (15 s); the plan covers that window by refreshing the check-in
 * stamp. A confirmed stuck task inside the window makes it age the stamp
 * instead, so the kernel's next tick ejects the scheduler. */
Test(monitor_tasks, a_stuck_task_in_the_window_makes_the_kernel_eject_now)
{
	struct tscene s;
	struct monitor_wd_state st = { 0 };
	struct monitor_write w[MONITOR_WD_WRITES];
	const uint32_t one[] = { 1 };
	size_t n;

	tscene_init(&s, 2, NULL);
	/* As the kernel leaves it at attach: 30 s, interval 15 s, stamp now. */
	fg_put64(&s.g, T_GPA, 7500);
	fg_put64(&s.g, fg_img(IV_KVA), 3750);
	fg_put64(&s.g, fg_img(TS_KVA), s.jif);
	fg_jiffies(&s.g, s.jif);
	cr_assert_eq(monitor_watchdog_plan(s.m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		fg_put64(&s.g, w[i].gpa, w[i].value);
	cr_assert(st.window);
	/* A task dropped at attach: after 4 s it has waited past 1000. */
	fg_task(&s.g, 1, 42, "victim", s.jif);
	fg_runnable(&s.g, 1, one, 1);
	s.jif += 1001;
	ttick(&s);
	cr_assert_eq(monitor_watchdog_plan(s.m, 4000, 0, &st, w, &n), 0);
	cr_assert(n == 1 && w[0].gpa == fg_img(TS_KVA), "still refreshing the stamp");
	fg_put64(&s.g, w[0].gpa, w[0].value);
	ttick(&s); /* confirmed */
	fg_jiffies(&s.g, s.jif - 25);
	cr_assert_eq(monitor_watchdog_plan(s.m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(w[0].gpa, fg_img(TS_KVA));
	cr_assert_eq(w[0].value, s.jif - 25 - 1000 - 1,
		     "aged by a timeout: time_after(jiffies, stamp + timeout) at the next tick");
	cr_assert_not(st.window);
	cr_assert_eq(st.forced, 1);
	/* Once out of the window the kernel's own check is in charge. */
	ttick(&s);
	cr_assert_eq(monitor_watchdog_plan(s.m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(n, 0);
	tscene_free(&s);
}
