/* Host view of guest RAM: a low region at GPA 0 and an optional high region
 * at 4 GiB (the MMIO gap lies between). The mappings are owned by the engine
 * (kvm_mem.c); these helpers only translate. */
#ifndef KTSTR_X86_GUESTMEM_H
#define KTSTR_X86_GUESTMEM_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

struct guest_ram {
	uint8_t *low;	/* host address of GPA 0 */
	uint64_t low_size;
	uint8_t *high;	/* host address of GPA 4 GiB, or NULL */
	uint64_t high_size;
};

/* Host pointer to [gpa, gpa+len) if it lies wholly in one RAM region, else
 * NULL. Callers treat NULL as "the guest asked for memory it does not have". */
static inline void *guest_ptr(const struct guest_ram *r, uint64_t gpa, uint64_t len)
{
	if (gpa < r->low_size && len <= r->low_size - gpa)
		return r->low + gpa;
	if (r->high && gpa >= X86_MMIO_GAP_END && gpa - X86_MMIO_GAP_END < r->high_size &&
	    len <= r->high_size - (gpa - X86_MMIO_GAP_END))
		return r->high + (gpa - X86_MMIO_GAP_END);
	return NULL;
}

#endif
