#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "x86_64/layout.h"
#include "x86_64/pagetables.h"
#include "x86_64/regs.h"

static uint8_t mem[0x10000];

static int rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa + len > sizeof(mem))
		return -EFAULT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

Test(pagetables, identity_map_first_gib_with_2m_pages)
{
	uint64_t gpa;

	x86_write_identity_map((uint64_t *)(mem + X86_PML4), (uint64_t *)(mem + X86_PDPT),
			       (uint64_t *)(mem + X86_PD));
	cr_assert_eq(((uint64_t *)(mem + X86_PD))[511], (511ull << 21) | 0x83);
	cr_assert_eq(x86_translate(X86_CR0_PG | X86_CR0_PE, X86_PML4, X86_CR4_PAE,
				   X86_EFER_LME | X86_EFER_LMA, 0x3fe12345, rd, NULL, &gpa), 0);
	cr_assert_eq(gpa, 0x3fe12345);
	cr_assert_eq(x86_translate(X86_CR0_PG | X86_CR0_PE, X86_PML4, X86_CR4_PAE,
				   X86_EFER_LME | X86_EFER_LMA, 0x40000000, rd, NULL, &gpa), -EFAULT);
}

Test(pagetables, no_paging_is_identity)
{
	uint64_t gpa;

	cr_assert_eq(x86_translate(X86_CR0_PE, 0, 0, 0, 0x123456, rd, NULL, &gpa), 0);
	cr_assert_eq(gpa, 0x123456);
}

Test(pagetables, gdt_entries_and_segments)
{
	uint64_t g[X86_GDT_ENTRIES];
	struct kvm_segment cs, ds;

	x86_gdt_build(g, true);
	cr_assert_eq(g[2], 0x00af9b000000ffffull);
	cr_assert_eq(g[3], 0x00cf93000000ffffull);
	cs = x86_segment_from_gdt(g[2], X86_SEL_CS);
	cr_assert(cs.l && !cs.db && cs.present && cs.g && cs.s);
	cr_assert_eq(cs.type, 0xb);
	cr_assert_eq(cs.limit, 0xffffffffu);
	x86_gdt_build(g, false);
	cs = x86_segment_from_gdt(g[2], X86_SEL_CS);
	cr_assert(!cs.l && cs.db);
	ds = x86_segment_from_gdt(g[3], X86_SEL_DS);
	cr_assert_eq(ds.type, 3);
	cr_assert_eq(ds.selector, 0x18);
}

Test(pagetables, bsp_registers_for_both_entries)
{
	struct x86_kernel k = { .kind = X86_KERNEL_BZIMAGE, .entry = 0x100200 };
	uint64_t g[X86_GDT_ENTRIES];
	struct kvm_sregs s = { 0 };
	struct kvm_regs r;

	x86_gdt_build(g, true);
	x86_bsp_regs(&k, &r);
	x86_bsp_sregs(&k, g, &s);
	cr_assert_eq(r.rip, 0x100200);
	cr_assert_eq(r.rsi, X86_ZERO_PAGE);
	cr_assert_eq(r.rflags, 2);
	cr_assert_eq(s.cr3, X86_PML4);
	cr_assert_eq(s.efer, X86_EFER_LME | X86_EFER_LMA);
	cr_assert(s.cr0 & X86_CR0_PG);
	k.kind = X86_KERNEL_PVH;
	x86_gdt_build(g, false);
	x86_bsp_regs(&k, &r);
	x86_bsp_sregs(&k, g, &s);
	cr_assert_eq(r.rbx, X86_PVH_START_INFO);
	cr_assert_eq(s.cr0 & X86_CR0_PG, 0);
	cr_assert_eq(s.efer, 0);
	cr_assert_eq(s.cs.selector, X86_SEL_CS);
}

Test(pagetables, lapic_lvt_bsp_extint_nmi_ap_masked)
{
	char regs[KVM_APIC_REG_SIZE] = { 0 };
	uint32_t l0, l1;

	x86_lapic_lvt(regs, true);
	memcpy(&l0, regs + 0x350, 4);
	memcpy(&l1, regs + 0x360, 4);
	cr_assert_eq(l0, 0x700);
	cr_assert_eq(l1, 0x400);
	x86_lapic_lvt(regs, false);
	memcpy(&l0, regs + 0x350, 4);
	cr_assert(l0 & (1u << 16));
}
