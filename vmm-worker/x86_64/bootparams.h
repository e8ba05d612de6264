/* The Linux x86 boot protocol's zero page (struct boot_params) and the
 * bzImage setup header inside it. Offsets are the boot protocol's
 * (Documentation/arch/x86/boot.rst); we write bytes at offsets instead of
 * mirroring the kernel's struct so the layout is checked by unit tests. */
#ifndef KTSTR_X86_BOOTPARAMS_H
#define KTSTR_X86_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define BP_SIZE 4096u
#define BP_ACPI_RSDP_ADDR 0x070u
#define BP_EXT_RAMDISK_IMAGE 0x0C0u
#define BP_EXT_RAMDISK_SIZE 0x0C4u
#define BP_EXT_CMD_LINE_PTR 0x0C8u
#define BP_E820_ENTRIES 0x1E8u
#define BP_HDR 0x1F1u /* setup header starts here */
#define BP_SETUP_SECTS 0x1F1u
#define BP_BOOT_FLAG 0x1FEu
#define BP_JUMP 0x200u
#define BP_HEADER 0x202u
#define BP_VERSION 0x206u
#define BP_TYPE_OF_LOADER 0x210u
#define BP_LOADFLAGS 0x211u
#define BP_CODE32_START 0x214u
#define BP_RAMDISK_IMAGE 0x218u
#define BP_RAMDISK_SIZE 0x21Cu
#define BP_HEAP_END_PTR 0x224u
#define BP_CMD_LINE_PTR 0x228u
#define BP_INITRD_ADDR_MAX 0x22Cu
#define BP_KERNEL_ALIGNMENT 0x230u
#define BP_RELOCATABLE 0x234u
#define BP_XLOADFLAGS 0x236u
#define BP_CMDLINE_SIZE 0x238u
#define BP_PREF_ADDRESS 0x258u
#define BP_INIT_SIZE 0x260u
#define BP_E820_TABLE 0x2D0u

#define BP_HDRS_MAGIC 0x53726448u /* "HdrS" */
#define BP_LOADED_HIGH 0x01u
#define BP_CAN_USE_HEAP 0x80u
#define BP_XLF_KERNEL_64 0x01u
#define BP_MIN_VERSION 0x020Cu /* 64-bit entry point and xloadflags */

struct bp_inputs {
	const uint8_t *setup_hdr; /* bytes BP_HDR.. of the bzImage, hdr_len long */
	size_t hdr_len;
	uint64_t cmdline_addr;
	uint32_t cmdline_len; /* without the NUL */
	uint64_t initrd_addr, initrd_size;
	uint64_t rsdp_addr;
	const struct e820_entry *e820;
	size_t n_e820;
};

/* Write a complete zero page into zp[0..BP_SIZE). Returns 0, or -EINVAL if
 * the header is too long or an address does not fit its field. */
int bp_write(uint8_t *zp, const struct bp_inputs *in);

/* Length of the setup header of a bzImage whose first bytes are img:
 * 0x202 + img[0x201] - 0x1F1 (the protocol's definition). */
size_t bp_setup_header_len(const uint8_t *img, size_t img_len);

#endif
