/* The guest's E820 memory map. The SHM ring is left out (a hole), so the
 * guest kernel never allocates it and maps it only through /dev/mem. */
#ifndef KTSTR_X86_E820_H
#define KTSTR_X86_E820_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

#define E820_RAM 1u
#define E820_RESERVED 2u
#define X86_E820_MAX 128u /* boot_params holds 128 entries */

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct e820_entry) == 20, "boot protocol E820 entry is 20 bytes");

/* RAM [0, EBDA), RAM [1 MiB, low usable end), RAM [4 GiB, high usable end),
 * plus the BIOS area [EBDA, 1 MiB) as reserved so the guest never uses the
 * MP/ACPI tables as RAM. Returns the number of entries written (<= max). */
size_t e820_build(const struct x86_machine *m, struct e820_entry *out, size_t max);

#endif
