/* Where the sched_ext watchdog override goes (monitor_watchdog.c): the
 * per-root timeout through scx_root on 7.2 (the real image in fake RAM and
 * the synthetic guest), the static one on older kernels, and every refusal
 * of a hostile scx_root. 4000 ms at HZ 250 is 1000 jiffies. */
#include "test_monitor_guest.h"

static int target(struct monitor *m, uint32_t ms, uint32_t hz, uint64_t *gpa, uint64_t *val)
{
	size_t w = 0;
	int ret;

	*gpa = *val = 0;
	ret = monitor_watchdog_target(m, ms, hz, gpa, val, &w);
	if (!ret)
		cr_assert_eq(w, 8);
	return ret;
}

static void attached_72(struct fake_guest *g, struct monitor **m)
{
	fg_boot(g);
	*m = fg_monitor(g, NULL);
	cr_assert_eq(monitor_try_ready(*m, 0), 0, "%s", monitor_not_ready_reason(*m));
}

Test(monitor_watchdog, real_7_2_image_scx_root_watchdog_timeout)
{
	struct fake_guest g;
	struct monitor *m;
	uint64_t gpa, val;

	fg_init_72(&g, 2);
	if (!fg_load_image(&g, "vmlinux"))
		test_missing("no sched_ext test vmlinux (set KTSTR_TEST_KERNEL)");
	if (memcmp(g.ram + fg_img(g.l.linux_banner), g.banner, strlen(g.banner))) {
		cr_log_warn("the test kernel is not " FG_REL_72 ": its layout numbers are unknown");
		fg_free(&g);
		return;
	}
	attached_72(&g, &m);
	/* As the image has it: scx_enable_state_var = SCX_DISABLED, no root. */
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -EAGAIN);
	fg_enable(&g, 1);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -EAGAIN, "enabled, scx_root still NULL");
	fg_attach(&g);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), 0);
	cr_assert_eq(gpa, FG_SCHED_GPA + 840, "scx_root->watchdog_timeout");
	cr_assert_eq(val, 1000, "4 s at the image's CONFIG_HZ 250");
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_watchdog, jiffies_round_up_and_hz_overrides)
{
	struct fake_guest g;
	struct monitor *m;
	uint64_t gpa, val;

	fg_init_72(&g, 2);
	attached_72(&g, &m);
	fg_enable(&g, 1);
	fg_attach(&g);
	cr_assert_eq(target(m, 4000, 1000, &gpa, &val), 0);
	cr_assert_eq(val, 4000);
	cr_assert_eq(target(m, 1, 250, &gpa, &val), 0);
	cr_assert_eq(val, 1, "never 0 jiffies, never shorter than asked");
	cr_assert_eq(target(m, 4001, 250, &gpa, &val), 0);
	cr_assert_eq(val, 1001);
	cr_assert_eq(target(m, UINT32_MAX, 1000, &gpa, &val), 0);
	cr_assert_eq(val, (uint64_t)UINT32_MAX, "no overflow");
	cr_assert_eq(target(m, 0, 250, &gpa, &val), -EINVAL);
	g.l.hz = 0;
	monitor_free(m);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -EINVAL, "no HZ known");
	cr_assert_eq(target(m, 4000, 100, &gpa, &val), -EAGAIN, "not ready");
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_watchdog, a_hostile_scx_root_is_refused)
{
	static const uint64_t bad[] = {
		0xffffffff81000000ull,		    /* the kernel image */
		FG_PO_L5 + FG_RAM - 840 - 4,	    /* the field straddles RAM's end */
		FG_PO_L5 + FG_RAM,		    /* past RAM */
		0xffffc90000000000ull,		    /* vmalloc */
		0x00007fff00000000ull,		    /* user space */
		UINT64_MAX - 100,		    /* wraps */
		FG_PO_L4 + FG_SCHED_GPA,	    /* the other paging depth */
	};
	struct fake_guest g;
	struct monitor *m;
	uint64_t gpa, val;

	fg_init_72(&g, 2);
	attached_72(&g, &m);
	fg_enable(&g, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fg_put64(&g, fg_img(g.l.scx_root), bad[i]);
		cr_assert_eq(target(m, 4000, 0, &gpa, &val), -EFAULT, "scx_root %#lx",
			     (unsigned long)bad[i]);
	}
	/* The last byte that still fits. */
	fg_put64(&g, fg_img(g.l.scx_root), FG_PO_L5 + FG_RAM - 840 - 8);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), 0);
	cr_assert_eq(gpa, FG_RAM - 8);
	/* Any other enable state: no write. */
	fg_enable(&g, 2);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -EAGAIN);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_watchdog, older_kernels_use_the_static_timeout)
{
	struct fake_guest g;
	struct monitor *m;
	uint64_t gpa, val;

	/* 6.12/6.13 shape: no scx_root, a static scx_watchdog_timeout. */
	fg_init_72(&g, 2);
	g.l.has_scx_root = 0;
	g.l.scx_root = 0;
	g.l.scx_sched_watchdog_timeout = NULL;
	g.l.has_scx_watchdog_timeout = 1;
	g.l.scx_watchdog_timeout = 0xffffffff83300040ull;
	attached_72(&g, &m);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -EAGAIN);
	fg_enable(&g, 1);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), 0);
	cr_assert_eq(gpa, fg_img(0xffffffff83300040ull));
	cr_assert_eq(val, 1000);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_watchdog, no_target_without_sched_ext_or_a_timeout_symbol)
{
	struct fake_guest g;
	struct monitor *m;
	uint64_t gpa, val;

	fg_init_612(&g, 2);
	fg_boot(&g);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -ENOENT);
	monitor_free(m);
	fg_free(&g);

	fg_init_72(&g, 2);
	g.l.scx_sched_watchdog_timeout = NULL;
	attached_72(&g, &m);
	fg_enable(&g, 1);
	fg_attach(&g);
	cr_assert_eq(target(m, 4000, 0, &gpa, &val), -ENOENT, "scx_root without its field");
	monitor_free(m);
	fg_free(&g);
}

/* The kernel re-arms its watchdog work with the interval it computed at
 * attach and ejects the scheduler when that work has not checked in for a
 * timeout: lowering the timeout alone ejects a healthy scheduler
 * ("watchdog failed to check in", seen on 7.2 before this plan). The plan
 * lowers timeout and interval, refreshes the check-in stamp until the
 * kernel's own work runs, and never raises a scheduler's shorter timeout. */
Test(monitor_watchdog, plan_lowers_timeout_and_interval_and_covers_the_old_cadence)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_wd_state st = { 0 };
	struct monitor_write w[MONITOR_WD_WRITES];
	const uint64_t iv_kva = 0xffffffff83e4b000ull, ts_kva = 0xffffffff83e4b008ull,
		       jif_kva = 0xffffffff83e4b010ull;
	uint64_t t_gpa = FG_SCHED_GPA + 840;
	size_t n;

	fg_init_72(&g, 2);
	g.l.has_scx_watchdog_interval = g.l.has_scx_watchdog_timestamp = g.l.has_jiffies = 1;
	g.l.scx_watchdog_interval = iv_kva;
	g.l.scx_watchdog_timestamp = ts_kva;
	g.l.jiffies = jif_kva;
	attached_72(&g, &m);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), -EAGAIN, "not attached");
	fg_enable(&g, 1);
	fg_attach(&g);
	/* As the kernel leaves it at attach: 30 s, interval 15 s, stamp = now. */
	fg_put64(&g, t_gpa, 7500);
	fg_put64(&g, fg_img(iv_kva), 3750);
	fg_put64(&g, fg_img(ts_kva), 100000);
	fg_put64(&g, fg_img(jif_kva), 100010);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(n, 3, "timeout, interval, stamp");
	cr_assert(w[0].gpa == t_gpa && w[0].value == 1000);
	cr_assert(w[1].gpa == fg_img(iv_kva) && w[1].value == 500);
	cr_assert(w[2].gpa == fg_img(ts_kva) && w[2].value == 100010);
	for (size_t i = 0; i < n; i++)
		fg_put64(&g, w[i].gpa, w[i].value);
	/* Next tick: the kernel's work has not run yet: only the stamp. */
	fg_put64(&g, fg_img(jif_kva), 100035);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), 0);
	cr_assert(n == 1 && w[0].gpa == fg_img(ts_kva) && w[0].value == 100035);
	fg_put64(&g, w[0].gpa, w[0].value);
	/* The kernel's work ran (the stamp is its own): hands off. */
	fg_put64(&g, fg_img(ts_kva), 100040);
	fg_put64(&g, fg_img(jif_kva), 100060);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(st.lowered, 1);
	/* A scheduler that asks for less keeps it: never raised. */
	fg_put64(&g, t_gpa, 500);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(n, 0, "a shorter timeout stands");
	/* Re-attach with the default again: lowered again, bounded window. */
	fg_put64(&g, t_gpa, 7500);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), 0);
	cr_assert_eq(st.lowered, 2);
	cr_assert_eq(st.until, 100060 + 3750 + 1000, "the old interval plus the timeout");
	/* Without the stamp or jiffies nothing is lowered. */
	monitor_free(m);
	g.l.has_jiffies = 0;
	attached_72(&g, &m);
	cr_assert_eq(monitor_watchdog_plan(m, 4000, 0, &st, w, &n), -ENOENT);
	monitor_free(m);
	fg_free(&g);
}
