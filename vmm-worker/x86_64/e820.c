#include "e820.h"
#include "layout.h"

static size_t put(struct e820_entry *out, size_t n, size_t max, uint64_t a, uint64_t b,
		  uint32_t type)
{
	if (b > a && n < max)
		out[n++] = (struct e820_entry){ a, b - a, type };
	return n;
}

size_t e820_build(const struct x86_machine *m, struct e820_entry *out, size_t max)
{
	uint64_t low_top = x86_low_usable_end(m);
	uint64_t high_top = m->high_end && m->shm_size ? m->shm_base : m->high_end;
	size_t n = 0;

	n = put(out, n, max, 0, X86_EBDA_START, E820_RAM);
	n = put(out, n, max, X86_EBDA_START, X86_KERNEL_LOAD, E820_RESERVED);
	n = put(out, n, max, X86_KERNEL_LOAD, low_top, E820_RAM);
	if (m->high_end)
		n = put(out, n, max, X86_MMIO_GAP_END, high_top, E820_RAM);
	return n;
}
