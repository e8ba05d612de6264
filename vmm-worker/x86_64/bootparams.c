#include <errno.h>
#include <string.h>

#include <ktstr/le.h>

#include "bootparams.h"

size_t bp_setup_header_len(const uint8_t *img, size_t img_len)
{
	if (img_len <= BP_JUMP + 1)
		return 0;
	return BP_HEADER + img[BP_JUMP + 1] - BP_HDR;
}

int bp_write(uint8_t *zp, const struct bp_inputs *in)
{
	memset(zp, 0, BP_SIZE);
	if (in->hdr_len > BP_E820_TABLE - BP_HDR || in->n_e820 > X86_E820_MAX)
		return -EINVAL;
	if (in->cmdline_addr >> 32 || (in->initrd_addr + in->initrd_size) >> 32 || in->rsdp_addr >> 32)
		return -EINVAL; /* we keep everything below 4 GiB; the ext_* fields stay 0 */
	memcpy(zp + BP_HDR, in->setup_hdr, in->hdr_len);

	/* Fields the boot loader owns (boot protocol "Details of header fields"). */
	zp[BP_TYPE_OF_LOADER] = 0xFF; /* undefined loader */
	put_le16(zp + BP_BOOT_FLAG, 0xAA55);
	put_le32(zp + BP_HEADER, BP_HDRS_MAGIC);
	zp[BP_LOADFLAGS] |= BP_LOADED_HIGH | BP_CAN_USE_HEAP;
	/* The heap end is relative to the real-mode setup, which we skip; the
	 * 64-bit entry ignores it, but CAN_USE_HEAP needs a sane value. */
	put_le16(zp + BP_HEAP_END_PTR, 0xFE00);
	put_le32(zp + BP_CMD_LINE_PTR, (uint32_t)in->cmdline_addr);
	put_le32(zp + BP_CMDLINE_SIZE, in->cmdline_len);
	put_le32(zp + BP_RAMDISK_IMAGE, (uint32_t)in->initrd_addr);
	put_le32(zp + BP_RAMDISK_SIZE, (uint32_t)in->initrd_size);
	put_le64(zp + BP_ACPI_RSDP_ADDR, in->rsdp_addr);

	zp[BP_E820_ENTRIES] = (uint8_t)in->n_e820;
	memcpy(zp + BP_E820_TABLE, in->e820, in->n_e820 * sizeof(struct e820_entry));
	return 0;
}
