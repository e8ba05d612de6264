/* Identity page tables and the GDT the guest kernel starts with. Both entry
 * paths (bzImage 64-bit entry, PVH 32-bit entry) need a GDT whose selectors
 * match the segment registers we load; only the 64-bit path needs paging. */
#ifndef KTSTR_X86_PAGETABLES_H
#define KTSTR_X86_PAGETABLES_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

/* Selectors. The 64-bit boot protocol requires __BOOT_CS = 0x10 and
 * __BOOT_DS = 0x18, so entry 1 stays null. */
#define X86_SEL_CS 0x10u
#define X86_SEL_DS 0x18u
#define X86_SEL_TSS 0x20u
#define X86_GDT_ENTRIES 5u

/* PML4 -> PDPT -> PD mapping the first 1 GiB with 2 MiB pages, written into
 * guest memory at pml4/pdpt/pd (host pointers to those guest pages). */
void x86_write_identity_map(uint64_t *pml4, uint64_t *pdpt, uint64_t *pd);

/* A GDT descriptor from access/flags (0xF0FF mask: flags nibble << 12 |
 * access byte), base and 20-bit limit. */
uint64_t x86_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

/* The GDT for long mode (64-bit code) or 32-bit protected mode (PVH). */
void x86_gdt_build(uint64_t gdt[X86_GDT_ENTRIES], bool long_mode);

/* The segment register KVM must load for a GDT entry and selector. */
struct kvm_segment x86_segment_from_gdt(uint64_t entry, uint16_t selector);

/* Walk the guest page tables (none, 32-bit, PAE, 4- or 5-level) to turn a
 * linear address into a guest-physical one. read_phys copies guest memory
 * (returns 0 or -EFAULT). Returns 0 or -EFAULT (unmapped or unbacked). */
typedef int (*x86_read_phys_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);
int x86_translate(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer, uint64_t linear,
		  x86_read_phys_fn rd, void *ctx, uint64_t *gpa);

#define X86_CR0_PE 0x1ull
#define X86_CR0_ET 0x10ull
#define X86_CR0_PG 0x80000000ull
#define X86_CR4_PSE 0x10ull
#define X86_CR4_PAE 0x20ull
#define X86_CR4_LA57 0x1000ull
#define X86_EFER_LME 0x100ull
#define X86_EFER_LMA 0x400ull

#endif
