#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "x86_64/cpuid.h"

static void add(struct x86_cpuid *c, uint32_t fn, uint32_t idx, bool sig, uint32_t a, uint32_t b,
		uint32_t cx, uint32_t d)
{
	c->e[c->n++] = (struct kvm_cpuid_entry2){ .function = fn, .index = idx,
						  .flags = sig ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
						  .eax = a, .ebx = b, .ecx = cx, .edx = d };
}

static void host(struct x86_cpuid *c, bool amd)
{
	memset(c, 0, sizeof(*c));
	if (amd)
		add(c, 0, 0, false, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	else
		add(c, 0, 0, false, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);
	add(c, 1, 0, false, 0x806f8, 0x00ff0800, 1u << 26 | 1u << 28, 0);
	add(c, 4, 0, true, 0x121 | (7u << 14), 0, 0, 0);  /* L1d */
	add(c, 4, 3, true, 0x163 | (63u << 14), 0, 0, 0); /* L3 */
	add(c, 7, 0, true, 0, 1u << 5 | 1u << 8, 0, 0);
	add(c, 0xa, 0, false, 0x07300403, 1, 2, 3);
	add(c, 0x1f, 0, true, 9, 9, 9, 9);
	add(c, 0x80000000u, 0, false, 0x80000021u, 0, 0, 0);
	add(c, 0x80000001u, 0, false, 0, 0, 0, 0);
	add(c, 0x80000008u, 0, false, 0x3030, 0, 0xff, 0);
}

static struct x86_machine mach(struct ktstr_topo t)
{
	struct x86_machine m;
	char err[256];

	cr_assert_eq(x86_machine_init(&m, &t, 1024ull << 20, 16 << 20, err, sizeof(err)), 0);
	return m;
}

Test(cpuid, leaf1_and_0xb_follow_topology)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach((struct ktstr_topo){ 1, 2, 3, 2 });
	struct kvm_cpuid_entry2 *e;

	host(&c, false);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 7, NULL, 0), 0);
	/* CPU 7 = LLC 1, core 0, thread 1: APIC ID (1 << 3) | 1 = 9 */
	e = x86_cpuid_find(&c, 1, 0);
	cr_assert_eq(e->ebx >> 24, 9);
	cr_assert_eq((e->ebx >> 16) & 0xff, 6);
	cr_assert(e->edx & (1u << 28));
	e = x86_cpuid_find(&c, 0xb, 0);
	cr_assert_not_null(e, "0xB added when the host lacks it");
	cr_assert_eq(e->eax, 1);
	cr_assert_eq(e->ebx, 2);
	cr_assert_eq(e->ecx, 0x100);
	cr_assert_eq(e->edx, 9);
	e = x86_cpuid_find(&c, 0xb, 1);
	cr_assert_eq(e->eax, 3);
	cr_assert_eq(e->ebx, 6);
	cr_assert_eq(e->ecx, 0x201);
	e = x86_cpuid_find(&c, 0x1f, 1);
	cr_assert_null(e, "0x1F is patched, not invented");
	e = x86_cpuid_find(&c, 0x1f, 0);
	cr_assert_eq(e->eax, 1);
	cr_assert(x86_cpuid_find(&c, 1, 0)->ecx & (1u << 31), "hypervisor bit set (kvmclock needs it)");
	cr_assert_eq(x86_cpuid_find(&c, 0xa, 0)->eax, 0, "PMU hidden");
	cr_assert_eq(x86_cpuid_find(&c, 0x80000008u, 0)->ecx, (3u << 12) | 5);
}

Test(cpuid, intel_cache_sharing)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach((struct ktstr_topo){ 1, 2, 4, 2 });

	host(&c, false);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 0, NULL, 0), 0);
	cr_assert_eq((x86_cpuid_find(&c, 4, 0)->eax >> 14) & 0xfff, 1, "L1 shared by SMT pair");
	cr_assert_eq((x86_cpuid_find(&c, 4, 3)->eax >> 14) & 0xfff, 7, "L3 shared by the LLC");
	cr_assert_eq(x86_cpuid_find(&c, 4, 3)->eax >> 26, 3);
}

Test(cpuid, amd_topoext_and_node_id)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach((struct ktstr_topo){ 2, 4, 2, 2 });
	struct kvm_cpuid_entry2 *e;

	host(&c, true);
	cr_assert_eq(x86_cpuid_vendor(&c), X86_VENDOR_AMD);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 13, NULL, 0), 0);
	/* CPU 13 = LLC 3 (node 1), core 0, thread 1 */
	cr_assert(x86_cpuid_find(&c, 0x80000001u, 0)->ecx & (1u << 22));
	e = x86_cpuid_find(&c, 0x8000001eu, 0);
	cr_assert_not_null(e);
	cr_assert_eq(e->eax, m.apic_id[13]);
	cr_assert_eq(e->ebx, 0x100);
	cr_assert_eq(e->ecx, 3, "AMD node = LLC (the package), one per package");
	cr_assert_not_null(x86_cpuid_find(&c, 0x40000000u, 0));
}

Test(cpuid, amd_cache_leaves_synthesized_when_host_has_none)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach((struct ktstr_topo){ 1, 2, 2, 1 });
	struct kvm_cpuid_entry2 *e;

	host(&c, true);
	x86_cpuid_find(&c, 0x80000000u, 0)->eax = 0x80000008u; /* QEMU TCG qemu64-like */
	cr_assert_eq(x86_cpuid_patch(&c, &m, 3, NULL, 0), 0);
	cr_assert(x86_cpuid_find(&c, 0x80000001u, 0)->ecx & (1u << 22), "TopoExt");
	cr_assert_eq(x86_cpuid_find(&c, 0x80000000u, 0)->eax, 0x8000001Eu, "max ext leaf raised");
	e = x86_cpuid_find(&c, 0x8000001Du, 3);
	cr_assert_not_null(e, "L3 leaf added");
	cr_assert_eq((e->eax >> 5) & 7, 3);
	cr_assert_eq((e->eax >> 14) & 0xfff, 1, "L3 shared by the 2 CPUs of the LLC");
	cr_assert_eq(x86_cpuid_find(&c, 0x8000001Du, 4)->eax, 0, "terminating subleaf");
	e = x86_cpuid_find(&c, 0x8000001Eu, 0);
	cr_assert_not_null(e);
	cr_assert_eq(e->ecx, 1, "CPU 3 is in LLC 1");
}

Test(cpuid, features_off_mask)
{
	static struct x86_cpuid c;
	struct x86_machine m = mach((struct ktstr_topo){ 1, 1, 1, 1 });
	struct x86_feature_bit off[3];

	host(&c, false);
	cr_assert_eq(x86_feature_lookup("xsave", &off[0]), 0);
	cr_assert_eq(x86_feature_lookup("avx2", &off[1]), 0);
	cr_assert_eq(x86_feature_lookup("sse4.2", &off[2]), 0);
	cr_assert_eq(x86_feature_lookup("no-such-flag", &off[2]), -ENOENT);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 0, off, 2), 0);
	cr_assert_eq(x86_cpuid_find(&c, 1, 0)->ecx & (1u << 26), 0);
	cr_assert(x86_cpuid_find(&c, 1, 0)->ecx & (1u << 28), "avx left alone");
	cr_assert_eq(x86_cpuid_find(&c, 7, 0)->ebx, 1u << 8, "only avx2 cleared");
	cr_assert_eq(x86_cpuid_find(&c, 1, 0)->edx & (1u << 28), 0, "no HTT on 1 CPU");
	cr_assert_eq(x86_feature_lookup("hypervisor", &off[0]), 0);
	cr_assert_eq(x86_cpuid_patch(&c, &m, 0, off, 1), 0);
	cr_assert_eq(x86_cpuid_find(&c, 1, 0)->ecx & (1u << 31), 0, "the mask wins over the hypervisor bit");
}
