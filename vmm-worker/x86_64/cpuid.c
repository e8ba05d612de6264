#include <errno.h>
#include <string.h>

#include <ktstr/util.h>

#include "cpuid.h"

#define CPUID_SIG_IDX KVM_CPUID_FLAG_SIGNIFCANT_INDEX

enum x86_vendor x86_cpuid_vendor(const struct x86_cpuid *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct kvm_cpuid_entry2 *e = &c->e[i];

		if (e->function != 0)
			continue;
		if (e->ebx == 0x756e6547 && e->edx == 0x49656e69 && e->ecx == 0x6c65746e)
			return X86_VENDOR_INTEL; /* "GenuineIntel" */
		if (e->ebx == 0x68747541 && e->edx == 0x69746e65 && e->ecx == 0x444d4163)
			return X86_VENDOR_AMD; /* "AuthenticAMD" */
	}
	return X86_VENDOR_OTHER;
}

struct kvm_cpuid_entry2 *x86_cpuid_find(struct x86_cpuid *c, uint32_t function, uint32_t index)
{
	for (size_t i = 0; i < c->n; i++) {
		struct kvm_cpuid_entry2 *e = &c->e[i];

		if (e->function == function &&
		    (!(e->flags & CPUID_SIG_IDX) || e->index == index))
			return e;
	}
	return NULL;
}

static uint32_t max_leaf(struct x86_cpuid *c, uint32_t base)
{
	struct kvm_cpuid_entry2 *e = x86_cpuid_find(c, base, 0);

	return e ? e->eax : 0;
}

/* Find a leaf, adding a zeroed one if the host table lacks it. */
static struct kvm_cpuid_entry2 *need(struct x86_cpuid *c, uint32_t function, uint32_t index,
				     bool indexed)
{
	struct kvm_cpuid_entry2 *e = x86_cpuid_find(c, function, index);

	if (e)
		return e;
	if (c->n == X86_CPUID_MAX_ENTRIES)
		return NULL;
	e = &c->e[c->n++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = indexed ? CPUID_SIG_IDX : 0;
	return e;
}

/* Cache leaves 0x4 / 0x8000_001D: sharing follows the topology: L1/L2 per
 * core (SMT siblings), L3 per LLC. */
static void patch_cache_leaf(struct x86_cpuid *c, uint32_t function, const struct x86_machine *m)
{
	uint32_t smt_shift = m->thread_bits, core_shift = m->thread_bits + m->core_bits;

	for (size_t i = 0; i < c->n; i++) {
		struct kvm_cpuid_entry2 *e = &c->e[i];
		uint32_t level = (e->eax >> 5) & 7, sharing;

		if (e->function != function || (e->eax & 0x1f) == 0)
			continue;
		sharing = level >= 3 ? (1u << core_shift) - 1 : (1u << smt_shift) - 1;
		e->eax = (e->eax & ~(0xfffu << 14)) | ((sharing & 0xfff) << 14);
		if (function == 4)
			e->eax = (e->eax & 0x03ffffffu) | ((((1u << m->core_bits) - 1) & 0x3f) << 26);
	}
}

/* AMD cache leaves 0x8000_001D for hosts whose CPUID has none (QEMU's TCG
 * "max"/qemu64 CPU, hence the nested rig's L1). Once TopoExt is set Linux
 * enumerates caches only through this leaf: without it the guest has no
 * cache/index* at all. Generic sizes (32K L1d/L1i 8-way, 512K L2 8-way, 16M
 * L3 16-way, 64-byte lines); patch_cache_leaf sets the sharing. */
static int add_amd_cache_leaves(struct x86_cpuid *c)
{
	static const struct {
		uint32_t type, level, ways, sets;
	} caches[] = { { 1, 1, 8, 64 }, { 2, 1, 8, 64 }, { 3, 2, 8, 1024 }, { 3, 3, 16, 16384 } };
	struct kvm_cpuid_entry2 *e;
	uint32_t i;

	if (x86_cpuid_find(c, 0x8000001Du, 0))
		return 0;
	for (i = 0; i < ARRAY_SIZE(caches); i++) {
		if (!(e = need(c, 0x8000001Du, i, true)))
			return -ENOSPC;
		e->eax = caches[i].type | (caches[i].level << 5) | (1u << 8); /* self-initialising */
		e->ebx = (64u - 1) | ((caches[i].ways - 1) << 22);	       /* line 64, 1 partition */
		e->ecx = caches[i].sets - 1;
		e->edx = 0;
	}
	/* A type-0 subleaf ends the enumeration (Linux counts up to it). */
	return need(c, 0x8000001Du, i, true) ? 0 : -ENOSPC;
}

/* Leaves 0xB and 0x1F: SMT level then core level (the LLC is the package). */
static int patch_ext_topo(struct x86_cpuid *c, uint32_t function, uint32_t apic_id,
			  const struct x86_machine *m, bool add)
{
	uint32_t threads = m->topo.threads_per_core;
	uint32_t per_llc = m->topo.cores_per_llc * threads;

	for (uint32_t sub = 0; sub < 3; sub++) {
		struct kvm_cpuid_entry2 *e = add ? need(c, function, sub, true)
						 : x86_cpuid_find(c, function, sub);

		if (!e) {
			if (add)
				return -ENOSPC;
			continue;
		}
		e->flags |= CPUID_SIG_IDX;
		if (sub == 0) {
			e->eax = m->thread_bits;
			e->ebx = threads;
			e->ecx = (1u << 8) | 0;
		} else if (sub == 1) {
			e->eax = m->thread_bits + m->core_bits;
			e->ebx = per_llc;
			e->ecx = (2u << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = sub;
		}
		e->edx = apic_id;
	}
	/* Higher subleaves the host listed read as invalid levels. */
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].function == function && c->e[i].index > 2) {
			c->e[i].eax = c->e[i].ebx = 0;
			c->e[i].ecx = c->e[i].index;
			c->e[i].edx = apic_id;
		}
	return 0;
}

static void clear_feature(struct x86_cpuid *c, const struct x86_feature_bit *f)
{
	for (size_t i = 0; i < c->n; i++) {
		struct kvm_cpuid_entry2 *e = &c->e[i];
		uint32_t *r[4] = { &e->eax, &e->ebx, &e->ecx, &e->edx };

		if (e->function == f->function && (f->index == 0xffffffffu || e->index == f->index))
			*r[f->reg & 3] &= ~(1u << f->bit);
	}
}

int x86_cpuid_patch(struct x86_cpuid *c, const struct x86_machine *m, uint32_t cpu,
		    const struct x86_feature_bit *off, size_t noff)
{
	enum x86_vendor v = x86_cpuid_vendor(c);
	uint32_t apic_id = m->apic_id[cpu];
	uint32_t per_llc = m->topo.cores_per_llc * m->topo.threads_per_core;
	uint32_t core_shift = m->thread_bits + m->core_bits;
	uint32_t basic_max = max_leaf(c, 0), ext_max = max_leaf(c, 0x80000000u);
	struct kvm_cpuid_entry2 *e;
	int ret;

	if ((e = x86_cpuid_find(c, 1, 0))) {
		e->ebx = (e->ebx & 0x0000ffffu) | ((apic_id & 0xff) << 24) |
			 ((per_llc > 255 ? 255 : per_llc) << 16);
		if (per_llc > 1)
			e->edx |= 1u << 28; /* HTT: more than one logical CPU per package */
		else
			e->edx &= ~(1u << 28);
		/* KVM_GET_SUPPORTED_CPUID leaves the hypervisor bit to the VMM.
		 * Without it Linux ignores the KVM leaves (no kvmclock, no PV
		 * features) and calibrates the TSC against the PIT, which fails
		 * on a slow or nested host ("tsc: Unable to calibrate against
		 * PIT", then a hang). cpu_features_off may still clear it. */
		e->ecx |= 1u << 31;
	}
	if (v == X86_VENDOR_INTEL)
		patch_cache_leaf(c, 4, m);
	/* 0xB is what Linux reads first; make sure it exists when in range. */
	if (basic_max >= 0xB && (ret = patch_ext_topo(c, 0xB, apic_id, m, true)))
		return ret;
	if (basic_max >= 0x1F && (ret = patch_ext_topo(c, 0x1F, apic_id, m, false)))
		return ret;
	if ((e = x86_cpuid_find(c, 0xA, 0))) /* no PMU: counters would lie in a VM */
		e->eax = e->ebx = e->ecx = e->edx = 0;
	if ((e = x86_cpuid_find(c, 0x80000008u, 0)))
		e->ecx = per_llc > 1 ? (core_shift << 12) | (per_llc - 1) : 0;
	if (v == X86_VENDOR_AMD) {
		bool topoext = m->ncpus > 1 && ext_max >= 0x80000001u;

		if ((e = x86_cpuid_find(c, 0x80000001u, 0))) {
			if (per_llc > 1)
				e->ecx |= 1u << 1; /* CmpLegacy */
			/* TopoExt whenever there is topology to describe: with it
			 * Linux reads 0x8000_001D/0x8000_001E, without it an
			 * old-family guest (QEMU TCG's family 0xf) puts every
			 * CPU in LLC 0. */
			if (topoext)
				e->ecx |= 1u << 22;
		}
		if (topoext) {
			if ((ret = add_amd_cache_leaves(c)))
				return ret;
			if (ext_max < 0x8000001Eu && (e = x86_cpuid_find(c, 0x80000000u, 0)))
				e->eax = ext_max = 0x8000001Eu; /* so the guest reads the leaves below */
		}
		patch_cache_leaf(c, 0x8000001Du, m);
		if (ext_max >= 0x8000001Eu) {
			uint32_t per_core = m->topo.threads_per_core;
			uint32_t core_id = (cpu % per_llc) / per_core;
			uint32_t llc = cpu / per_llc;

			if (!(e = need(c, 0x8000001Eu, 0, false)))
				return -ENOSPC;
			e->eax = apic_id;
			e->ebx = ((per_core - 1) << 8) | (core_id & 0xff);
			/* The AMD "node" is a die inside the package, not a NUMA
			 * node (the SRAT says those). Our package is the LLC, so
			 * one node per package, numbered by LLC: Linux takes the
			 * LLC id of families < 0x17 from this field. */
			e->ecx = llc & 0xff;
			e->edx = 0;
		}
	}
	if (!x86_cpuid_find(c, 0x40000000u, 0)) {
		if (!(e = need(c, 0x40000000u, 0, false)))
			return -ENOSPC;
		e->eax = 0x40000001u;
		e->ebx = 0x4b4d564b; /* "KVMK" */
		e->ecx = 0x564b4d56; /* "VMKV" */
		e->edx = 0x4d;	     /* "M" */
	}
	/* KVM_FEATURE_MSI_EXT_DEST_ID (0x4000_0001 EAX bit 15) exactly when
	 * the IOAPIC is ours (split irqchip, m->x2apic): it tells Linux that
	 * IOAPIC entry bits 49-55 reach destination bits 8-14 (ioapic.c), and
	 * without it Linux keeps every CPU whose APIC ID is above 255 offline
	 * (no interrupt remapping). KVM does not report it: the in-kernel
	 * IOAPIC has no such bits. */
	if (m->x2apic) {
		if (!(e = need(c, 0x40000001u, 0, false)))
			return -ENOSPC;
		e->eax |= X86_KVM_FEATURE_MSI_EXT_DEST_ID;
	} else if ((e = x86_cpuid_find(c, 0x40000001u, 0))) {
		e->eax &= ~X86_KVM_FEATURE_MSI_EXT_DEST_ID;
	}
	/* KVM_HINTS_REALTIME exactly in performance mode: KVM never sets it
	 * (only the VMM knows whether vCPUs own their host CPUs). The guest
	 * reads 0x4000_0001 only if 0x4000_0000.EAX reaches it. */
	if (m->realtime_hint) {
		if ((e = x86_cpuid_find(c, 0x40000000u, 0)) && e->eax < 0x40000001u)
			e->eax = 0x40000001u;
		if (!(e = need(c, 0x40000001u, 0, false)))
			return -ENOSPC;
		e->edx |= X86_KVM_HINTS_REALTIME;
	} else if ((e = x86_cpuid_find(c, 0x40000001u, 0))) {
		e->edx &= ~X86_KVM_HINTS_REALTIME;
	}
	for (size_t i = 0; i < noff; i++)
		clear_feature(c, &off[i]);
	return 0;
}
