/* Per-vCPU CPUID (docs/reference.md, "CPUID topology"): KVM's supported
 * table patched so the guest's topology enumeration matches the requested
 * topology (one package per LLC, SMT/core fields from the APIC ID packing),
 * PMU hidden, and a general feature mask (cpu_features_off) applied. Intel and AMD hosts differ only
 * in which cache/topology leaves exist. */
#ifndef KTSTR_X86_CPUID_H
#define KTSTR_X86_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "machine.h"

#define X86_CPUID_MAX_ENTRIES 256u
/* KVM_CPUID_FEATURES (0x4000_0001) EAX: IOAPIC/MSI destination bits 8-14
 * in the extended destination ID field (set in split-irqchip mode). */
#define X86_KVM_FEATURE_MSI_EXT_DEST_ID (1u << 15)
/* KVM_CPUID_FEATURES EDX bit 0: vCPUs are pinned and never preempted
 * (performance mode, m->realtime_hint). */
#define X86_KVM_HINTS_REALTIME (1u << 0)

struct x86_cpuid {
	size_t n;
	struct kvm_cpuid_entry2 e[X86_CPUID_MAX_ENTRIES];
};

enum x86_vendor { X86_VENDOR_OTHER, X86_VENDOR_INTEL, X86_VENDOR_AMD };

/* One feature bit the guest must not see. */
struct x86_feature_bit {
	uint32_t function, index; /* index = subleaf, ~0u = any */
	uint8_t reg;		  /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint8_t bit;
};

enum x86_vendor x86_cpuid_vendor(const struct x86_cpuid *c);
struct kvm_cpuid_entry2 *x86_cpuid_find(struct x86_cpuid *c, uint32_t function, uint32_t index);

/* Resolve a feature name as Linux /proc/cpuinfo or QEMU spell it ("xsave",
 * "avx2", "sse4_2" / "sse4.2", "pdpe1gb"). -ENOENT for unknown names. */
int x86_feature_lookup(const char *name, struct x86_feature_bit *out);

/* Patch c (a copy of KVM_GET_SUPPORTED_CPUID) for vCPU cpu of m and clear
 * the nfeat bits in off. Returns 0 or -ENOSPC if a leaf had to be added and
 * the table is full. */
int x86_cpuid_patch(struct x86_cpuid *c, const struct x86_machine *m, uint32_t cpu,
		    const struct x86_feature_bit *off, size_t noff);

#endif
