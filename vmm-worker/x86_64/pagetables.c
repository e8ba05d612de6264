#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "layout.h"
#include "pagetables.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

void x86_write_identity_map(uint64_t *pml4, uint64_t *pdpt, uint64_t *pd)
{
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_PDPT | PTE_P | PTE_RW;
	pdpt[0] = X86_PD | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

uint64_t x86_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0xf0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0xffffu);
}

void x86_gdt_build(uint64_t gdt[X86_GDT_ENTRIES], bool long_mode)
{
	gdt[0] = 0;
	gdt[1] = 0;
	/* 0xa09b: G, L, present, ring 0 code; 0xc09b: G, D (32-bit). */
	gdt[2] = x86_gdt_entry(long_mode ? 0xa09b : 0xc09b, 0, 0xfffff);
	gdt[3] = x86_gdt_entry(0xc093, 0, 0xfffff);
	/* A busy 32-bit TSS: VMX refuses to enter without a usable TR. */
	gdt[4] = x86_gdt_entry(0x008b, 0, 0x67);
}

struct kvm_segment x86_segment_from_gdt(uint64_t e, uint16_t selector)
{
	struct kvm_segment s = {
		.base = ((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24),
		.limit = (uint32_t)((e & 0xffff) | (((e >> 48) & 0xf) << 16)),
		.selector = selector,
		.type = (e >> 40) & 0xf,
		.present = (e >> 47) & 1,
		.dpl = (e >> 45) & 3,
		.db = (e >> 54) & 1,
		.s = (e >> 44) & 1,
		.l = (e >> 53) & 1,
		.g = (e >> 55) & 1,
		.avl = (e >> 52) & 1,
		.unusable = !((e >> 47) & 1),
	};
	if (s.g) /* KVM wants the byte-granular limit */
		s.limit = (s.limit << 12) | 0xfff;
	return s;
}

static int read_entry(x86_read_phys_fn rd, void *ctx, uint64_t gpa, size_t size, uint64_t *out)
{
	uint64_t v = 0;
	int ret = rd(ctx, gpa, &v, size);

	*out = v;
	return ret;
}

int x86_translate(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer, uint64_t linear,
		  x86_read_phys_fn rd, void *ctx, uint64_t *gpa)
{
	const uint64_t addr_mask = 0x000ffffffffff000ull;
	uint64_t e, table;
	int levels, shift;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = linear & 0xffffffffull;
		return 0;
	}
	if (!(cr4 & X86_CR4_PAE)) { /* classic 32-bit paging */
		if (read_entry(rd, ctx, (cr3 & 0xfffff000ull) + ((linear >> 22) & 0x3ff) * 4, 4, &e) ||
		    !(e & PTE_P))
			return -EFAULT;
		if ((e & PTE_PS) && (cr4 & X86_CR4_PSE)) {
			*gpa = (e & 0xffc00000ull) | (linear & 0x3fffff);
			return 0;
		}
		if (read_entry(rd, ctx, (e & 0xfffff000ull) + ((linear >> 12) & 0x3ff) * 4, 4, &e) ||
		    !(e & PTE_P))
			return -EFAULT;
		*gpa = (e & 0xfffff000ull) | (linear & 0xfff);
		return 0;
	}
	if (efer & X86_EFER_LMA) {
		levels = (cr4 & X86_CR4_LA57) ? 5 : 4;
		table = cr3 & addr_mask;
	} else { /* PAE: 4 PDPTEs at cr3 (32-byte aligned) */
		levels = 3;
		table = cr3 & 0xffffffe0ull;
	}
	shift = 12 + 9 * (levels - 1);
	for (int l = levels; l >= 1; l--, shift -= 9) {
		uint64_t idx = (levels == 3 && l == 3) ? (linear >> 30) & 3 : (linear >> shift) & 0x1ff;

		if (read_entry(rd, ctx, table + idx * 8, 8, &e) || !(e & PTE_P))
			return -EFAULT;
		if (l <= 3 && l >= 2 && (e & PTE_PS) && !(levels == 3 && l == 3)) {
			uint64_t page = 1ull << shift;

			*gpa = (e & addr_mask & ~(page - 1)) | (linear & (page - 1));
			return 0;
		}
		table = e & addr_mask;
	}
	*gpa = table | (linear & 0xfff);
	return 0;
}
