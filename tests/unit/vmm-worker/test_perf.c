/* Performance mode decisions (vmm-worker/perf.c) and the CPUID hint
 * (x86_64/cpuid.c): KVM_HINTS_REALTIME exactly in performance mode, pin
 * checks, the exit-disable plan, the node map, and the hugepage fallback. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "perf.h"
#include "x86_64/cpuid.h"

static void host_table(struct x86_cpuid *c, bool with_kvm_leaves, uint32_t kvm_max)
{
	memset(c, 0, sizeof(*c));
	c->e[c->n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd, .ebx = 0x68747541,
						  .ecx = 0x444d4163, .edx = 0x69746e65 };
	c->e[c->n++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x806f8 };
	if (with_kvm_leaves) {
		c->e[c->n++] = (struct kvm_cpuid_entry2){ .function = 0x40000000u, .eax = kvm_max };
		/* A host that (wrongly) reports the hint: cleared unless asked. */
		c->e[c->n++] = (struct kvm_cpuid_entry2){ .function = 0x40000001u, .eax = 1u << 3,
							  .edx = X86_KVM_HINTS_REALTIME };
	}
}

static struct x86_machine mach(bool realtime)
{
	struct ktstr_topo t = { 1, 1, 2, 1 };
	struct x86_machine m;
	char err[256];

	cr_assert_eq(x86_machine_init(&m, &t, 512ull << 20, 1 << 20, err, sizeof(err)), 0);
	m.realtime_hint = realtime;
	return m;
}

Test(perf_cpuid, realtime_hint_set_in_performance_mode)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach(true);
	struct kvm_cpuid_entry2 *e;

	host_table(&c, false, 0);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 1, NULL, 0), 0);
	cr_assert_not_null(e = x86_cpuid_find(&c, 0x40000001u, 0));
	cr_expect_eq(e->edx & X86_KVM_HINTS_REALTIME, X86_KVM_HINTS_REALTIME);
	cr_assert_not_null(e = x86_cpuid_find(&c, 0x40000000u, 0));
	cr_expect_geq(e->eax, 0x40000001u, "max KVM leaf reaches 0x4000_0001");
}

Test(perf_cpuid, max_kvm_leaf_bumped_when_host_stops_short)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach(true);

	host_table(&c, true, 0x40000000u);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 0, NULL, 0), 0);
	cr_expect_eq(x86_cpuid_find(&c, 0x40000000u, 0)->eax, 0x40000001u);
	cr_expect_eq(x86_cpuid_find(&c, 0x40000001u, 0)->edx & 1u, 1u);
	cr_expect_eq(x86_cpuid_find(&c, 0x40000001u, 0)->eax, 1u << 3, "other KVM features kept");
}

Test(perf_cpuid, no_hint_without_performance_mode)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach(false);
	struct kvm_cpuid_entry2 *e;

	host_table(&c, true, 0x40000001u);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 0, NULL, 0), 0);
	cr_assert_not_null(e = x86_cpuid_find(&c, 0x40000001u, 0));
	cr_expect_eq(e->edx & X86_KVM_HINTS_REALTIME, 0u);
	host_table(&c, false, 0);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 0, NULL, 0), 0);
	e = x86_cpuid_find(&c, 0x40000001u, 0);
	cr_expect(!e || !(e->edx & X86_KVM_HINTS_REALTIME));
}

Test(perf_pins, accepted_and_refused)
{
	uint32_t ok[] = { 3, 1, 2 }, dup[] = { 1, 1 }, big[] = { 5000 };
	char why[256];

	cr_expect_eq(perf_check_pins(NULL, 0, 4, false, 0, why, sizeof(why)), 0, "no pins is fine");
	cr_expect_eq(perf_check_pins(ok, 3, 3, true, 0, why, sizeof(why)), 0);
	cr_expect_eq(perf_check_pins(ok, 3, 4, false, 0, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "3 entries but the VM has 4 vCPUs"), "%s", why);
	cr_expect_eq(perf_check_pins(dup, 2, 2, false, 0, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "share a host CPU"), "%s", why);
	cr_expect_eq(perf_check_pins(ok, 3, 3, true, 2, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "also the service_cpu"), "%s", why);
	cr_expect_eq(perf_check_pins(big, 1, 1, false, 0, why, sizeof(why)), -EINVAL);
	cr_expect_eq(perf_check_pins(NULL, 0, 1, true, 99999, why, sizeof(why)), -EINVAL);
}

Test(perf_exits, pause_then_hlt_only_when_supported)
{
	uint32_t plan[2];

	cr_expect_eq(perf_exit_plan(0, plan), 0u, "kvm without the cap: nothing");
	cr_expect_eq(perf_exit_plan(-1, plan), 0u);
	cr_assert_eq(perf_exit_plan(0xf, plan), 2u);
	cr_expect_eq(plan[0], PERF_EXIT_PAUSE, "PAUSE first");
	cr_expect_eq(plan[1], PERF_EXIT_HLT, "then HLT");
	cr_assert_eq(perf_exit_plan(PERF_EXIT_HLT | 1u, plan), 1u);
	cr_expect_eq(plan[0], PERF_EXIT_HLT);
	cr_assert_eq(perf_exit_plan(PERF_EXIT_PAUSE, plan), 1u);
	cr_expect_eq(plan[0], PERF_EXIT_PAUSE);
}

static int fake_node(uint32_t cpu)
{
	return cpu >= 100 ? -1 : (int)(cpu / 8); /* 8 CPUs per host node */
}

Test(perf_nodes, guest_node_follows_its_first_pinned_cpu)
{
	uint32_t vnode[4] = { 0, 0, 1, 1 }, pins[4] = { 9, 10, 17, 18 }, bad[4] = { 1, 2, 100, 3 },
		 none[4] = { 1, 2, 100, 101 };
	int out[2];

	perf_node_map(vnode, 4, pins, 4, fake_node, 2, out);
	cr_expect_eq(out[0], 1);
	cr_expect_eq(out[1], 2);
	perf_node_map(vnode, 4, pins, 0, fake_node, 2, out);
	cr_expect(out[0] == -1 && out[1] == -1, "no pins: unknown, no mbind");
	perf_node_map(vnode, 4, bad, 4, fake_node, 2, out);
	cr_expect_eq(out[0], 0);
	cr_expect_eq(out[1], 0, "vCPU 2's CPU has no node: vCPU 3's decides");
	perf_node_map(vnode, 4, none, 4, fake_node, 2, out);
	cr_expect_eq(out[1], -1, "no CPU of guest node 1 has a known host node");
}

Test(perf_hugepages, sizing)
{
	cr_expect_eq(perf_huge_round(1), PERF_HUGEPAGE_SIZE);
	cr_expect_eq(perf_huge_round(258ull << 20), 258ull << 20);
	cr_expect_eq(perf_hugepages_needed(258ull << 20), 129u, "ceil(memory_mb / 2)");
	cr_expect_eq(perf_hugepages_needed(257ull << 20), 129u);
}

/* Fallback: a request no pool can satisfy (1 TiB of hugepages) falls back
 * to normal pages, says so and says how to reserve them. */
Test(perf_hugepages, fallback_to_normal_pages_is_noted)
{
	struct perf_report p = { .requested = true };
	uint64_t size = 1ull << 40, mapped = 0;
	bool huge = true;
	void *m = perf_map_ram(size, true, &huge, &mapped, &p);

	cr_assert_not_null(m, "normal (MAP_NORESERVE) pages for the fallback");
	cr_expect(!huge);
	cr_expect_eq(mapped, size);
	cr_assert_eq(p.nnotes, 1u);
	cr_expect(strstr(p.notes[0], "echo 524288 > /proc/sys/vm/nr_hugepages"), "%s", p.notes[0]);
	munmap(m, mapped);
}

Test(perf_hugepages, no_request_no_note)
{
	struct perf_report p = { 0 };
	uint64_t mapped = 0;
	bool huge = true;
	void *m = perf_map_ram(4ull << 20, false, &huge, &mapped, &p);

	cr_assert_not_null(m);
	cr_expect(!huge && mapped == 4ull << 20 && p.nnotes == 0);
	munmap(m, mapped);
}

Test(perf_rt, hint_names_the_fix)
{
	cr_expect(strstr(perf_rt_hint(EPERM), "CAP_SYS_NICE"));
	cr_expect(strstr(perf_rt_hint(EPERM), "ulimit -r"));
	cr_expect(strstr(perf_rt_hint(EINVAL), "sched_rt_runtime_us"));
}

Test(perf_result, report_fills_every_field)
{
	struct perf_report r = { .requested = true, .pinned = true, .rt = true,
				 .exits_disabled = PERF_EXIT_PAUSE, .realtime_hint = true };
	Ktstr__PerfModeReport out;
	char *notes[PERF_NOTES_MAX];

	perf_note(&r, false, "single node");
	perf_fill_result(&r, &out, notes);
	cr_expect(out.has_pinned && out.pinned && out.has_hugepages && !out.hugepages);
	cr_expect(out.has_exits_disabled && out.exits_disabled == PERF_EXIT_PAUSE);
	cr_expect(out.realtime_hint && out.rt && !out.service_rt);
	cr_assert_eq(out.n_notes, 1u);
	cr_expect_str_eq(out.notes[0], "single node");
}
