#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <ktstr/le.h>

#include "x86_64/bootparams.h"
#include "x86_64/layout.h"
#include "x86_64/pvh.h"

Test(bootparams, zero_page_fields)
{
	static uint8_t zp[BP_SIZE], hdr[0x77];
	struct e820_entry e[2] = { { 0, 0x9fc00, 1 }, { 0x100000, 0x1000000, 1 } };
	struct bp_inputs in = { hdr, sizeof(hdr), X86_CMDLINE, 11, 0x8000000, 0x1234, 0xE0000, e, 2 };

	memset(hdr, 0x5a, sizeof(hdr));
	cr_assert_eq(bp_write(zp, &in), 0);
	cr_assert_eq(zp[BP_TYPE_OF_LOADER], 0xFF);
	cr_assert_eq(get_le16(zp + BP_BOOT_FLAG), 0xAA55);
	cr_assert_eq(get_le32(zp + BP_HEADER), BP_HDRS_MAGIC);
	cr_assert_eq(get_le32(zp + BP_CMD_LINE_PTR), X86_CMDLINE);
	cr_assert_eq(get_le32(zp + BP_CMDLINE_SIZE), 11);
	cr_assert_eq(get_le32(zp + BP_RAMDISK_IMAGE), 0x8000000);
	cr_assert_eq(get_le32(zp + BP_RAMDISK_SIZE), 0x1234);
	cr_assert_eq(get_le64(zp + BP_ACPI_RSDP_ADDR), 0xE0000);
	cr_assert(zp[BP_LOADFLAGS] & BP_LOADED_HIGH);
	cr_assert_eq(zp[BP_E820_ENTRIES], 2);
	cr_assert_eq(get_le64(zp + BP_E820_TABLE + 20), 0x100000);
	cr_assert_eq(get_le32(zp + BP_E820_TABLE + 20 + 16), 1);
	/* kernel-owned header bytes outside the loader fields are copied */
	cr_assert_eq(zp[BP_HDR], 0x5a);
}

Test(bootparams, header_length_follows_jump_byte)
{
	uint8_t img[0x300] = { 0 };

	img[0x201] = 0x66;
	cr_assert_eq(bp_setup_header_len(img, sizeof(img)), 0x268 - 0x1F1);
}

Test(bootparams, rejects_addresses_above_4g)
{
	static uint8_t zp[BP_SIZE];
	uint8_t hdr[16] = { 0 };
	struct bp_inputs in = { hdr, sizeof(hdr), X86_CMDLINE, 1, 0x100000000ull, 16, 0, NULL, 0 };

	cr_assert_eq(bp_write(zp, &in), -EINVAL);
}

Test(bootparams, pvh_start_info)
{
	static uint8_t page[4096];
	struct e820_entry e[1] = { { 0x100000, 0x200000, 1 } };

	cr_assert_eq(pvh_write(page, 0x6000, 0x20000, 0xE0000, 0x8000000, 99, e, 1), 0);
	cr_assert_eq(get_le32(page), PVH_START_MAGIC);
	cr_assert_eq(get_le32(page + 4), 1);
	cr_assert_eq(get_le32(page + 12), 1);
	cr_assert_eq(get_le64(page + 16), 0x6000 + PVH_MODLIST_OFF);
	cr_assert_eq(get_le64(page + PVH_MODLIST_OFF + 8), 99);
	cr_assert_eq(get_le64(page + 24), 0x20000);
	cr_assert_eq(get_le64(page + 32), 0xE0000);
	cr_assert_eq(get_le32(page + 48), 1);
	cr_assert_eq(get_le64(page + PVH_MEMMAP_OFF + 8), 0x200000);
}
