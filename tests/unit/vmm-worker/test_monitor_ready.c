/* The monitor before it trusts the guest (vmm-worker/monitor/monitor_ready.c):
 * RAM of zeros, a different kernel, a kernel that has not set up its per-CPU
 * areas, a guest that writes garbage where the monitor reads offsets; and
 * the real Debian images loaded into a fake RAM, as loaded and as booted. */
#include "test_monitor_guest.h"

Test(monitor_ready, zero_ram_is_not_ready_and_nothing_is_sampled)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;

	fg_init_72(&g, 2);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 5 * FG_MS), -EAGAIN);
	cr_assert_str_eq(monitor_not_ready_reason(m),
			 "kernel image not in memory yet (linux_banner reads as zeros)");
	cr_assert_eq(monitor_sample(m, 6 * FG_MS, NULL), -EAGAIN);
	cr_assert_eq(monitor_ring_len(m), 0);
	monitor_summarize(m, &s);
	cr_assert_eq(s.verdict, MONITOR_VERDICT_NOT_READY);
	cr_assert_str_eq(s.why, "monitor: not yet initialized (kernel image not in memory yet "
				"(linux_banner reads as zeros))");
	cr_assert_eq(s.samples, 0);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, another_kernel_is_a_banner_mismatch)
{
	struct fake_guest g;
	struct monitor *m;

	fg_init_72(&g, 2);
	fg_boot(&g);
	fg_put(&g, fg_img(g.l.linux_banner), "Linux version 6.1.0", 19);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert_str_eq(monitor_not_ready_reason(m), "banner mismatch: wrong vmlinux or KASLR on");
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, a_booting_kernel_becomes_ready_once_its_per_cpu_areas_exist)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;

	fg_init_72(&g, 2);
	/* Image in place, __per_cpu_offset[] still 0 (the boot value on 7.x):
	 * both CPUs would find the image's own copy of runqueues, whose cpu
	 * is 0, so CPU 0's self check alone would pass (and a 1-CPU guest
	 * would be "ready" on init memory): the zero offset is refused. */
	fg_put(&g, fg_img(g.l.linux_banner), g.banner, strlen(g.banner));
	fg_put64(&g, fg_img(g.l.page_offset_base), FG_PO_L4);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 100 * FG_MS), -EAGAIN);
	cr_assert_str_eq(monitor_not_ready_reason(m),
			 "cpu0's __per_cpu_offset is 0: per-CPU areas not set up yet");
	cr_assert_not(monitor_ready(m));
	fg_boot(&g);
	cr_assert_eq(monitor_try_ready(m, 400 * FG_MS), 0);
	cr_assert(monitor_ready(m));
	cr_assert_str_eq(monitor_not_ready_reason(m), "");
	cr_assert_eq(monitor_try_ready(m, 500 * FG_MS), 0, "ready stays ready");
	monitor_summarize(m, &s);
	cr_assert_eq(s.ready_ns, 300 * FG_MS, "ready time counts from the first attempt");
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, garbage_per_cpu_offsets_are_refused)
{
	static const uint64_t bad[] = {
		0xdeadbeef00000000ull,		      /* nowhere */
		FG_PO_L5 + FG_RAM - 100 - 0xffffffff83dd7100ull, /* rq straddles RAM's end */
		FG_PO_L5 + (1ull << 40),	      /* direct map, past RAM */
		0,				      /* the boot value: image copy, cpu 0 */
	};
	struct fake_guest g;

	fg_init_72(&g, 2);
	fg_boot(&g);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct monitor *m = fg_monitor(&g, NULL);

		fg_put64(&g, fg_img(g.l.per_cpu_offset) + 8, bad[i]);
		cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN, "offset %#lx", (unsigned long)bad[i]);
		cr_assert(strstr(monitor_not_ready_reason(m), "cpu1"), "%s",
			  monitor_not_ready_reason(m));
		cr_assert_eq(monitor_sample(m, FG_MS, NULL), -EAGAIN);
		monitor_free(m);
	}
	fg_free(&g);
}

Test(monitor_ready, garbage_direct_map_base_and_phys_base_are_refused)
{
	static const struct {
		uint64_t po;
		const char *why;
	} bad[] = {
		{ 0x1234, "page_offset_base reads 0x1234, not a direct-map base" },
		{ FG_PO_L4 + 4096, "page_offset_base reads 0xffff888000001000, not a direct-map base" },
		{ 0xffffffffc0000000ull, "page_offset_base reads 0xffffffffc0000000, not a direct-map base" },
		{ 0, "page_offset_base reads 0, not a direct-map base" },
	};
	struct fake_guest g;
	struct monitor *m;

	fg_init_72(&g, 2);
	fg_boot(&g);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = fg_monitor(&g, NULL);
		fg_put64(&g, fg_img(g.l.page_offset_base), bad[i].po);
		cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
		cr_assert_str_eq(monitor_not_ready_reason(m), bad[i].why);
		monitor_free(m);
	}
	fg_put64(&g, fg_img(g.l.page_offset_base), g.page_offset);
	/* phys_base: unaligned is refused; aligned but wrong moves the image,
	 * and the banner is not where it says. */
	m = fg_monitor(&g, NULL);
	fg_put64(&g, fg_img(g.l.phys_base), 0x123);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert_str_eq(monitor_not_ready_reason(m), "phys_base reads 0x123, not page aligned");
	fg_put64(&g, fg_img(g.l.phys_base), 0x200000);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	fg_put64(&g, fg_img(g.l.phys_base), 0xfffffffffff00000ull);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "linux_banner"), "%s",
		  monitor_not_ready_reason(m));
	fg_put64(&g, fg_img(g.l.phys_base), 0);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, a_guest_with_fewer_cpus_than_vcpus_is_sampled_as_it_is)
{
	struct fake_guest g;
	struct monitor *m;

	fg_init_72(&g, 4);
	fg_boot(&g);
	/* nr_cpus=2 on the guest's command line: CPUs 2, 3 have no areas. */
	fg_put32(&g, fg_img(g.l.nr_cpu_ids), 2);
	fg_put64(&g, fg_img(g.l.per_cpu_offset) + 16, 0);
	fg_put64(&g, fg_img(g.l.per_cpu_offset) + 24, 0);
	m = fg_monitor(&g, NULL);
	cr_assert_eq(monitor_try_ready(m, 0), 0);
	cr_assert_eq(monitor_nr_cpus(m), 2);
	{
		struct monitor_summary s;

		monitor_summarize(m, &s);
		cr_assert_eq(s.nr_notes, 1);
		cr_assert_str_eq(s.notes[0], "monitor: the guest kernel uses 2 of 4 vCPUs "
					     "(nr_cpu_ids): sampling 2");
	}
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, a_guest_that_never_boots_costs_nothing_after_the_last_attempt)
{
	struct fake_guest g;
	struct monitor *m;
	struct monitor_summary s;
	unsigned long reads;

	fg_init_72(&g, 2);
	m = fg_monitor(&g, NULL);
	for (unsigned i = 1; i < MONITOR_READY_MAX_ATTEMPTS; i++)
		cr_assert_eq(monitor_try_ready(m, i * 100 * FG_MS), -EAGAIN);
	cr_assert_eq(monitor_try_ready(m, 0), -ETIMEDOUT);
	reads = g.reads;
	cr_assert_eq(monitor_try_ready(m, 0), -ETIMEDOUT);
	cr_assert_eq(g.reads, reads, "no guest reads after giving up");
	monitor_summarize(m, &s);
	cr_assert_eq(s.verdict, MONITOR_VERDICT_NOT_READY, "never a failure");
	cr_assert_eq(s.nr_notes, 1);
	cr_assert(strstr(s.notes[0], "not yet initialized after 6000 attempts"), "%s", s.notes[0]);
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, bad_layouts_and_arguments_are_refused_with_a_reason)
{
	struct fake_guest g;
	struct monitor *m = (void *)1;
	struct monitor_thresholds th;
	char err[256];

	fg_init_72(&g, 2);
	cr_assert_eq(monitor_new(&g.l, 0, fg_read, &g, g.len, NULL, &m, err, sizeof(err)), -EINVAL);
	cr_assert_null(m);
	cr_assert_eq(monitor_new(&g.l, MONITOR_MAX_CPUS + 1, fg_read, &g, g.len, NULL, &m, err,
				 sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "1..1024"), "%s", err);
	monitor_thresholds_default(&th);
	th.max_imbalance_ratio = 0.0 / 0.0;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, &th, &m, err, sizeof(err)), -EINVAL);
	monitor_thresholds_default(&th);
	th.sustained_samples = 0;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, &th, &m, err, sizeof(err)), -EINVAL);
	/* A field of the wrong size, or outside struct rq. */
	g.f[1].size = 4;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, NULL, &m, err, sizeof(err)), -ENODATA);
	cr_assert(strstr(err, "clock (u64)"), "%s", err);
	g.f[1].size = 8;
	g.f[1].offset = 4480 - 4;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, NULL, &m, err, sizeof(err)), -ENODATA);
	g.f[1].offset = UINT32_MAX - 2;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, NULL, &m, err, sizeof(err)), -ENODATA);
	g.f[1].offset = 3728;
	g.l.has_runqueues = 0;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, NULL, &m, err, sizeof(err)), -ENODATA);
	cr_assert(strstr(err, "runqueues"), "%s", err);
	g.l.has_runqueues = 1;
	/* sched_ext fields out of bounds: the monitor runs without sched_ext. */
	g.f[8].offset = 104;
	cr_assert_eq(monitor_new(&g.l, 2, fg_read, &g, g.len, NULL, &m, err, sizeof(err)), 0);
	{
		struct monitor_summary s;

		fg_boot(&g);
		cr_assert_eq(monitor_try_ready(m, 0), 0);
		monitor_summarize(m, &s);
		cr_assert_eq(s.verdict, MONITOR_VERDICT_SKIPPED);
		cr_assert_str_eq(s.notes[0], "monitor: sched_ext fields unusable (scx_rq.local_dsq.nr "
					     "missing or not a u32 inside scx_rq): sched_ext not sampled");
	}
	monitor_free(m);
	fg_free(&g);
}

/* ---- the real images ---- */

static void real_image(const char *kind, bool scx)
{
	struct fake_guest g;
	struct monitor *m;
	const struct monitor_cpu_sample *c;
	const struct monitor_sample_hdr *h;
	const char *rel;

	if (scx)
		fg_init_72(&g, 2);
	else
		fg_init_612(&g, 2);
	rel = g.l.release;
	if (!fg_load_image(&g, kind))
		test_missing("no %s test vmlinux (set KTSTR_TEST_KERNEL%s)", kind, scx ? "" : "_NOSCX");
	if (memcmp(g.ram + fg_img(g.l.linux_banner), g.banner, strlen(g.banner))) {
		cr_log_warn("the %s kernel is not %s: exact layout numbers unknown", kind, rel);
		fg_free(&g);
		return;
	}
	m = fg_monitor(&g, NULL);
	/* As loaded, before start_kernel: the banner matches, but the
	 * per-CPU offsets are the image's boot values: zero (every CPU would
	 * read the image's own template), or, were one not zero, a runqueue
	 * that is not CPU 1's (or none). */
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "cpu0's __per_cpu_offset is 0: per-CPU areas "
			 "not set up yet") || strstr(monitor_not_ready_reason(m), "cpu1"),
		  "%s", monitor_not_ready_reason(m));
	cr_log_info("%s as loaded: %s", rel, monitor_not_ready_reason(m));
	fg_boot(&g);
	cr_assert_eq(monitor_try_ready(m, 100 * FG_MS), 0, "%s", monitor_not_ready_reason(m));
	fg_cpu(&g, 0, 3, 123456789, 2);
	fg_cpu(&g, 1, 1, 123456999, 0);
	cr_assert_eq(monitor_sample(m, 200 * FG_MS, NULL), 0);
	cr_assert_eq(monitor_ring_get(m, 0, &h, &c, NULL), 0);
	cr_assert_eq(h->flags & MONITOR_SAMPLE_IMPLAUSIBLE, 0);
	cr_assert_eq(h->t_ns, 200 * FG_MS);
	cr_assert_eq(c[0].nr_running, 3);
	cr_assert_eq(c[0].clock, 123456789);
	cr_assert_eq(c[1].nr_running, 1);
	if (scx) {
		/* The image's own scx_enable_state_var: SCX_DISABLED. */
		cr_assert_eq(h->enable_state, 3);
		cr_assert_eq(c[0].local_dsq, 2);
		cr_assert_eq(c[0].scx_nr_running, 3);
	} else {
		cr_assert_eq(h->enable_state, -1);
	}
	monitor_free(m);
	fg_free(&g);
}

Test(monitor_ready, real_7_2_image_in_fake_ram)
{
	real_image("vmlinux", true);
}

Test(monitor_ready, real_6_12_image_in_fake_ram)
{
	real_image("noscx", false);
}
