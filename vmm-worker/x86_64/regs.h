/* Initial vCPU state for the two entry paths, computed as plain structs so
 * unit tests can check every register without a VM (docs/reference.md,
 * "Guest memory layout and boot registers"). */
#ifndef KTSTR_X86_REGS_H
#define KTSTR_X86_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "loader.h"

/* BSP general registers: 64-bit entry gets RSI = zero page; PVH gets
 * EBX = hvm_start_info. */
void x86_bsp_regs(const struct x86_kernel *k, struct kvm_regs *r);
/* BSP system registers, starting from KVM's reset state in s (keeps APIC
 * base and the rest KVM chose). gdt is the table written at X86_GDT_ADDR. */
void x86_bsp_sregs(const struct x86_kernel *k, const uint64_t *gdt, struct kvm_sregs *s);
void x86_fpu_init(struct kvm_fpu *f);

#define X86_BOOT_MSRS 11u
/* The MSR values every vCPU starts with. */
void x86_boot_msrs(struct kvm_msr_entry out[X86_BOOT_MSRS]);

/* LAPIC LVT programming: the BSP takes ExtINT on LINT0 and NMI on LINT1
 * (the PIC is reachable before the IOAPIC is set up); APs keep both
 * masked. regs is kvm_lapic_state.regs. */
void x86_lapic_lvt(char *regs, bool bsp);

#define X86_APIC_BASE_ENABLE (1ull << 11)
#define X86_APIC_BASE_X2APIC (1ull << 10)

#endif
