#include <errno.h>
#include <string.h>

#include <ktstr/le.h>

#include "bootparams.h"
#include "pvh.h"

int pvh_write(uint8_t *page, uint64_t page_gpa, uint64_t cmdline, uint64_t rsdp,
	      uint64_t initrd, uint64_t initrd_size, const struct e820_entry *e820, size_t n)
{
	if (PVH_MEMMAP_OFF + n * PVH_MEMMAP_ENTRY_LEN > 4096)
		return -ENOSPC;
	memset(page, 0, 4096);
	put_le32(page + 0, PVH_START_MAGIC);
	put_le32(page + 4, 1); /* version 1: has the memory map fields */
	if (initrd_size) {
		put_le32(page + 12, 1);
		put_le64(page + 16, page_gpa + PVH_MODLIST_OFF);
		put_le64(page + PVH_MODLIST_OFF, initrd);
		put_le64(page + PVH_MODLIST_OFF + 8, initrd_size);
	}
	put_le64(page + 24, cmdline);
	put_le64(page + 32, rsdp);
	put_le64(page + 40, page_gpa + PVH_MEMMAP_OFF);
	put_le32(page + 48, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = page + PVH_MEMMAP_OFF + i * PVH_MEMMAP_ENTRY_LEN;

		put_le64(e, e820[i].addr);
		put_le64(e + 8, e820[i].size);
		put_le32(e + 16, e820[i].type);
	}
	return 0;
}
