#include <string.h>

#include <ktstr/util.h>

#include "layout.h"
#include "pagetables.h"
#include "regs.h"

#define MSR_IA32_TSC 0x10u
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_MISC_ENABLE 0x1a0u
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u

#define APIC_LVT0 0x350u
#define APIC_LVT1 0x360u
#define APIC_MODE_NMI 0x4u
#define APIC_MODE_EXTINT 0x7u
#define APIC_LVT_MASKED (1u << 16)

void x86_bsp_regs(const struct x86_kernel *k, struct kvm_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 2; /* bit 1 is reserved-one; interrupts off */
	r->rip = k->entry;
	if (k->kind == X86_KERNEL_PVH) {
		r->rbx = X86_PVH_START_INFO;
	} else {
		r->rsp = r->rbp = X86_BOOT_STACK;
		r->rsi = X86_ZERO_PAGE;
	}
}

void x86_bsp_sregs(const struct x86_kernel *k, const uint64_t *gdt, struct kvm_sregs *s)
{
	struct kvm_segment code = x86_segment_from_gdt(gdt[X86_SEL_CS / 8], X86_SEL_CS);
	struct kvm_segment data = x86_segment_from_gdt(gdt[X86_SEL_DS / 8], X86_SEL_DS);
	struct kvm_segment tss = x86_segment_from_gdt(gdt[X86_SEL_TSS / 8], X86_SEL_TSS);

	s->gdt.base = X86_GDT_ADDR;
	s->gdt.limit = X86_GDT_ENTRIES * 8 - 1;
	s->idt.base = X86_IDT_ADDR;
	s->idt.limit = 7; /* one empty gate: any exception before the kernel's IDT is fatal */
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	if (k->kind == X86_KERNEL_PVH) {
		/* PVH: 32-bit protected mode, paging off. */
		s->cr0 = X86_CR0_PE | X86_CR0_ET;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
	} else {
		s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
		s->cr3 = X86_PML4;
		s->cr4 = X86_CR4_PAE;
		s->efer = X86_EFER_LME | X86_EFER_LMA;
	}
}

void x86_fpu_init(struct kvm_fpu *f)
{
	memset(f, 0, sizeof(*f));
	f->fcw = 0x37f;	   /* all x87 exceptions masked, 64-bit precision */
	f->mxcsr = 0x1f80; /* all SSE exceptions masked */
}

void x86_boot_msrs(struct kvm_msr_entry out[X86_BOOT_MSRS])
{
	static const uint32_t zeroed[] = { MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
					   MSR_IA32_SYSENTER_EIP, MSR_STAR, MSR_CSTAR,
					   MSR_KERNEL_GS_BASE, MSR_SFMASK, MSR_LSTAR,
					   MSR_IA32_TSC };
	size_t i;

	memset(out, 0, sizeof(*out) * X86_BOOT_MSRS);
	for (i = 0; i < ARRAY_SIZE(zeroed); i++)
		out[i].index = zeroed[i];
	out[i].index = MSR_IA32_MISC_ENABLE;
	out[i++].data = 1; /* fast strings */
	out[i].index = MSR_MTRR_DEF_TYPE;
	out[i].data = (1u << 11) | 6; /* MTRRs enabled, default write-back */
}

static void set_reg(char *regs, unsigned off, uint32_t v)
{
	memcpy(regs + off, &v, sizeof(v));
}

static uint32_t get_reg(const char *regs, unsigned off)
{
	uint32_t v;

	memcpy(&v, regs + off, sizeof(v));
	return v;
}

void x86_lapic_lvt(char *regs, bool bsp)
{
	uint32_t l0 = get_reg(regs, APIC_LVT0) & ~0x1ff00u & ~APIC_LVT_MASKED;
	uint32_t l1 = get_reg(regs, APIC_LVT1) & ~0x1ff00u & ~APIC_LVT_MASKED;

	if (bsp) {
		set_reg(regs, APIC_LVT0, l0 | (APIC_MODE_EXTINT << 8));
		set_reg(regs, APIC_LVT1, l1 | (APIC_MODE_NMI << 8));
	} else {
		set_reg(regs, APIC_LVT0, l0 | APIC_LVT_MASKED);
		set_reg(regs, APIC_LVT1, l1 | APIC_LVT_MASKED);
	}
}
