/* Host reservation placement (hostres_place.c) and the host as it sees it
 * (hostres_topo.c): caps land in as few LLCs as possible, best fit first,
 * never on a held CPU or a performance-mode LLC; performance mode gets
 * whole LLCs nobody touches; "wait" and "never" are told apart. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"
#include "hostres_place.h"
#include "hostres_topo.h"

static void expect_list(const struct cpuset_bits *s, const char *want, const char *what)
{
	char got[256];

	cr_assert_geq(cpulist_format(s, got, sizeof(got)), 0);
	cr_expect_str_eq(got, want, "%s: got %s, want %s", what, got, want);
}

static void hold(struct hostres_view *v, const struct cpuset_bits *cpus)
{
	for (unsigned w = 0; w < CPUSET_WORDS; w++)
		v->cpu_held.w[w] |= cpus->w[w];
}

static bool disjoint(const struct cpuset_bits *a, const struct cpuset_bits *b)
{
	for (unsigned w = 0; w < CPUSET_WORDS; w++)
		if (a->w[w] & b->w[w])
			return false;
	return true;
}

Test(hostres_place, caps_pack_into_the_fullest_llc_that_fits_and_never_overlap)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, b, c, d, l;

	hostres_topo_uniform(&t, 8, 4); /* LLCs 0 (0-3) and 4 (4-7) */
	cr_assert_eq(hostres_place_cap(&t, &v, 2, &a, &l), 0);
	expect_list(&a, "0-1", "first cap of 2");
	expect_list(&l, "0", "its LLC, held shared");
	hold(&v, &a);
	/* LLC 0 has 2 free, LLC 4 has 4: the fuller one fits, LLC 4 stays whole. */
	cr_assert_eq(hostres_place_cap(&t, &v, 2, &b, &l), 0);
	expect_list(&b, "2-3", "best fit keeps LLC 4 whole");
	hold(&v, &b);
	cr_assert_eq(hostres_place_cap(&t, &v, 3, &c, &l), 0);
	expect_list(&c, "4-6", "next cap");
	expect_list(&l, "4", "its LLC");
	hold(&v, &c);
	cr_expect(disjoint(&a, &b) && disjoint(&a, &c) && disjoint(&b, &c));
	cr_expect_eq(hostres_place_cap(&t, &v, 2, &d, &l), -EBUSY, "one CPU left: wait");
	cr_assert_eq(hostres_place_cap(&t, &v, 1, &d, &l), 0);
	expect_list(&d, "7", "the last CPU");
}

Test(hostres_place, a_cap_larger_than_any_llc_spans_the_fewest)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, l;

	hostres_topo_uniform(&t, 12, 4); /* LLCs 0, 4, 8 */
	cpuset_add(&v.cpu_held, 0);	 /* LLC 0: 3 free */
	cr_assert_eq(hostres_place_cap(&t, &v, 6, &a, &l), 0);
	/* The largest first (LLC 4, 4 free), then the best fit for 2 (LLC 0). */
	expect_list(&a, "1-2,4-7", "6 CPUs in two LLCs");
	expect_list(&l, "0,4", "both LLCs");
}

Test(hostres_place, caps_keep_off_performance_mode_llcs)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, l;

	hostres_topo_uniform(&t, 8, 4);
	cpuset_add(&v.llc_excl, 0);
	cr_assert_eq(hostres_place_cap(&t, &v, 4, &a, &l), 0);
	expect_list(&a, "4-7", "LLC 0 is a performance-mode VM's");
	cr_expect_eq(hostres_place_cap(&t, &v, 5, &a, &l), -EBUSY);
}

Test(hostres_place, wait_never_and_nonsense_are_told_apart)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, l;

	hostres_topo_uniform(&t, 4, 2);
	for (unsigned c = 0; c < 4; c++)
		cpuset_add(&v.cpu_held, c);
	cr_expect_eq(hostres_place_cap(&t, &v, 1, &a, &l), -EBUSY, "held: wait");
	cr_expect_eq(hostres_place_cap(&t, &v, 5, &a, &l), -ENOSPC, "4 CPUs: never 5");
	cr_expect_eq(hostres_place_cap(&t, &v, 0, &a, &l), -EINVAL);
	cr_expect_eq(hostres_place_cap(&t, &v, HOSTRES_MAX_CPUS + 1, &a, &l), -EINVAL);
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, NULL, 2, &a, &l), -EBUSY);
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, NULL, 5, &a, &l), -ENOSPC);
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, NULL, 0, &a, &l), -EINVAL);
}

Test(hostres_place, performance_mode_takes_whole_llcs_nobody_touches)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, l, all;

	hostres_topo_uniform(&t, 8, 4);
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 3, &a, &l), 0);
	expect_list(&a, "0-3", "all of LLC 0 for 2 vCPUs + 1 service CPU");
	expect_list(&l, "0", "LLC 0, exclusively");
	/* A cap holding one CPU of LLC 0 shared-locks it: the whole LLC is out. */
	cpuset_add(&v.cpu_held, 1);
	cpuset_add(&v.llc_shared, 0);
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 3, &a, &l), 0);
	expect_list(&a, "4-7", "LLC 4");
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, NULL, 5, &a, &l), -EBUSY,
		     "two whole LLCs are needed and one is shared");
	/* A held CPU alone (no LLC lock) also spoils its LLC. */
	memset(&v, 0, sizeof(v));
	cpuset_add(&v.cpu_held, 6);
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 4, &a, &l), 0);
	expect_list(&a, "0-3", "LLC 4 has a held CPU");
	memset(&v, 0, sizeof(v));
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 5, &a, &l), 0);
	expect_list(&l, "0,4", "5 CPUs: both LLCs");
	hostres_topo_llc_cpus(&t, &l, &all);
	expect_list(&all, "0-7", "every CPU of them to lock");
}

Test(hostres_place, performance_mode_picks_the_smallest_llc_that_fits)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, l;

	hostres_topo_uniform(&t, 8, 4);
	for (unsigned c = 6; c < 8; c++)
		t.llc_of[c] = 6; /* LLCs 0 (0-3), 4 (4-5), 6 (6-7) */
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 2, &a, &l), 0);
	expect_list(&l, "4", "the first 2-CPU LLC, not half of the 4-CPU one");
	expect_list(&a, "4-5", "its CPUs");
}

Test(hostres_place, an_llc_counts_only_the_cpus_this_process_may_use)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, l, all;

	hostres_topo_uniform(&t, 8, 4);
	t.usable.w[0] &= ~1ull; /* taskset: CPU 0 is not ours */
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 3, &a, &l), 0);
	expect_list(&a, "1-3", "pins only where this process may run");
	hostres_topo_llc_cpus(&t, &l, &all);
	expect_list(&all, "0-3", "but the lock covers the whole LLC");
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, NULL, 8, &a, &l), -ENOSPC, "7 usable CPUs");
	cr_expect_eq(hostres_place_cap(&t, &v, 8, &a, &l), -ENOSPC);
}

Test(hostres_place, unknown_layout_counts_each_cpu_as_its_own_llc)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 };
	struct cpuset_bits a, b, l, l2;

	hostres_topo_uniform(&t, 2, 0);
	cr_assert_not(t.llc_known);
	cr_assert_eq(hostres_place_cap(&t, &v, 1, &a, &l), 0);
	hold(&v, &a);
	for (unsigned w = 0; w < CPUSET_WORDS; w++)
		v.llc_shared.w[w] |= l.w[w];
	cr_assert_eq(hostres_place_cap(&t, &v, 1, &b, &l2), 0);
	cr_expect(disjoint(&a, &b), "two caps of 1 on 2 CPUs are disjoint");
	cr_expect(disjoint(&l, &l2), "and so are their LLCs: one CPU each");
	hold(&v, &b);
	cr_expect_eq(hostres_place_cap(&t, &v, 1, &a, &l), -EBUSY, "a third waits");
	memset(&v, 0, sizeof(v));
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, NULL, 2, &a, &l), 0);
	expect_list(&l, "0-1", "performance mode: two one-CPU LLCs");
}

/* A capped run's own cap stays held for the whole run: a performance-mode
 * VM that only the cap keeps out can never fit, whatever others release,
 * so it is "never" (-ENOSPC), not a wait until --reserve-timeout. */
Test(hostres_place, own_cap_covering_every_llc_is_never_not_a_wait)
{
	struct hostres_topo t;
	struct hostres_view v = { 0 }, own = { 0 };
	struct cpuset_bits a, l;

	hostres_topo_uniform(&t, 4, 4); /* one LLC (0): CPUs 0-3 */
	cpuset_add(&own.cpu_held, 0);	/* our --cpu-cap 1: CPU 0, LLC 0 shared */
	cpuset_add(&own.llc_shared, 0);
	v = own;
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, &own, 2, &a, &l), -ENOSPC,
		     "the cap's LLC is the only one: never");
	cr_expect_eq(cpuset_count(&a) + cpuset_count(&l), 0, "nothing placed");
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, NULL, 2, &a, &l), -EBUSY,
		     "without own, the same view is a wait (another run's cap)");

	/* Two LLCs (0-1, 2-3), a cap in each: the cap covers every LLC. */
	hostres_topo_uniform(&t, 4, 2);
	memset(&own, 0, sizeof(own));
	cpuset_add(&own.cpu_held, 0);
	cpuset_add(&own.cpu_held, 2);
	cpuset_add(&own.llc_shared, 0);
	cpuset_add(&own.llc_shared, 2);
	v = own;
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, &own, 2, &a, &l), -ENOSPC);
	/* A cap in LLC 0 only: LLC 2 is free once others let go, so wait. */
	memset(&own, 0, sizeof(own));
	cpuset_add(&own.cpu_held, 0);
	cpuset_add(&own.llc_shared, 0);
	v = own;
	cpuset_add(&v.llc_excl, 2); /* another run's performance-mode VM */
	cpuset_add(&v.cpu_held, 2);
	cpuset_add(&v.cpu_held, 3);
	cr_expect_eq(hostres_place_whole_llcs(&t, &v, &own, 2, &a, &l), -EBUSY);
	v = own;
	cr_assert_eq(hostres_place_whole_llcs(&t, &v, &own, 2, &a, &l), 0);
	expect_list(&l, "2", "the LLC the cap leaves whole");
}

/* hostres_topo_probe_at on fake sysfs trees. */
static char root[64];

static void setup_root(void)
{
	fakesys_mkroot(root, sizeof(root), "hostres");
}

static void teardown_root(void)
{
	fakesys_rm(root);
}

TestSuite(hostres_topo, .init = setup_root, .fini = teardown_root);

static void all_cpus(cpu_set_t *s, unsigned n)
{
	CPU_ZERO(s);
	for (unsigned c = 0; c < n; c++)
		CPU_SET(c, s);
}

Test(hostres_topo, llcs_are_named_by_their_lowest_cpu)
{
	struct hostres_topo t;
	cpu_set_t aff;

	fakesys_put(root, "sys/devices/system/cpu/online", "0-5\n");
	for (unsigned c = 0; c < 6; c++)
		fakesys_cache(root, c, 3, 3, c < 4 ? "0-3\n" : "4-5\n");
	all_cpus(&aff, 6);
	CPU_CLR(2, &aff);
	hostres_topo_probe_at(root, &aff, &t);
	cr_assert(t.llc_known, "%s", t.llc_note);
	for (unsigned c = 0; c < 6; c++)
		cr_expect_eq(t.llc_of[c], c < 4 ? 0 : 4, "cpu%u", c);
	expect_list(&t.online, "0-5", "online");
	expect_list(&t.usable, "0-1,3-5", "usable = online within the affinity");
}

Test(hostres_topo, no_llc_in_sysfs_means_each_cpu_is_its_own)
{
	struct hostres_topo t;
	cpu_set_t aff;

	fakesys_put(root, "sys/devices/system/cpu/online", "0-1\n");
	fakesys_cache(root, 0, 2, 2, "0\n"); /* an L2 only: the L3 is hidden */
	fakesys_cache(root, 1, 2, 2, "1\n");
	all_cpus(&aff, 2);
	hostres_topo_probe_at(root, &aff, &t);
	cr_assert_not(t.llc_known);
	cr_expect(strstr(t.llc_note, "only up to L2 for cpu0"), "%s", t.llc_note);
	cr_expect_eq(t.llc_of[0], 0);
	cr_expect_eq(t.llc_of[1], 1);
}
