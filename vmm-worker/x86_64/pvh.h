/* The PVH boot ABI's hvm_start_info (xen/include/public/arch-x86/hvm/
 * start_info.h, version 1): what a PVH kernel reads instead of boot_params. */
#ifndef KTSTR_X86_PVH_H
#define KTSTR_X86_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define PVH_START_MAGIC 0x336ec578u
#define PVH_START_INFO_LEN 56u
#define PVH_MODLIST_OFF 64u
#define PVH_MEMMAP_OFF 128u
#define PVH_MEMMAP_ENTRY_LEN 24u

/* Write start_info, one module (the initrd, if size > 0) and the memory map
 * into page[0..4096), which lives at guest address page_gpa. Returns 0 or
 * -ENOSPC when the map does not fit. */
int pvh_write(uint8_t *page, uint64_t page_gpa, uint64_t cmdline, uint64_t rsdp,
	      uint64_t initrd, uint64_t initrd_size, const struct e820_entry *e820, size_t n);

#endif
