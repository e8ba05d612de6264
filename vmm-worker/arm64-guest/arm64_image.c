/* The arm64 Image header. See arm64_image.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/le.h>

#include "arm64_image.h"
#include "arm64_layout.h"

/* Name what the file is when it is not an Image, so the error says what to
 * pass instead. */
static int not_an_image(const uint8_t *b, size_t len, char *err, size_t errlen)
{
	if (b[0] == 0x1f && b[1] == 0x8b)
		snprintf(err, errlen,
			 "not an arm64 Image: gzip data (an Image.gz or Debian's compressed vmlinuz): unpack it with gzip -d first");
	else if (!memcmp(b, "\177ELF", 4))
		snprintf(err, errlen,
			 "not an arm64 Image: an ELF file (a vmlinux?): pass arch/arm64/boot/Image or /boot/vmlinuz instead");
	else if (len >= 0x206 && !memcmp(b + 0x202, "HdrS", 4))
		snprintf(err, errlen, "not an arm64 Image: an x86 bzImage");
	else
		snprintf(err, errlen,
			 "not an arm64 Image: no \"ARM\\x64\" magic at offset %u of the header",
			 ARM64_IMAGE_MAGIC_OFF);
	return -ENOEXEC;
}

int arm64_image_parse(const void *buf, size_t len, uint64_t file_len,
		      struct arm64_image_info *out, char *err, size_t errlen)
{
	const uint8_t *b = buf;
	uint64_t flags;

	if (len < ARM64_IMAGE_HDR_SIZE || file_len < ARM64_IMAGE_HDR_SIZE) {
		snprintf(err, errlen, "not an arm64 Image: %llu bytes, shorter than the %u-byte header",
			 (unsigned long long)file_len, ARM64_IMAGE_HDR_SIZE);
		return -ENOEXEC;
	}
	if (memcmp(b + ARM64_IMAGE_MAGIC_OFF, "ARM\x64", 4))
		return not_an_image(b, len, err, errlen);
	out->text_offset = get_le64(b + 8);
	out->image_size = get_le64(b + 16);
	flags = get_le64(b + 24);
	if (flags & 1) {
		snprintf(err, errlen,
			 "big-endian arm64 kernel (header flags bit 0): ktstr's guests are little-endian");
		return -ENOEXEC;
	}
	out->page_kib = (uint32_t[]){ 0, 4, 16, 64 }[(flags >> 1) & 3];
	out->anywhere = flags & 8;
	out->legacy = out->image_size == 0;
	if (out->legacy) {
		/* booting.rst: before 3.17, image_size is 0 and text_offset is
		 * 0x80000 whatever the field says (its endianness was unspecified). */
		out->text_offset = ARM64_IMAGE_LEGACY_TEXT_OFFSET;
		out->image_size = file_len;
	}
	if (out->text_offset % 4096 || out->text_offset > ARM64_IMAGE_TEXT_OFFSET_MAX) {
		snprintf(err, errlen,
			 "arm64 Image text_offset 0x%llx: must be 4 KiB aligned and at most 0x%llx",
			 (unsigned long long)out->text_offset,
			 (unsigned long long)ARM64_IMAGE_TEXT_OFFSET_MAX);
		return -EINVAL;
	}
	if (out->image_size < file_len || out->image_size > ARM64_IMAGE_SIZE_MAX) {
		snprintf(err, errlen,
			 "arm64 Image image_size %llu: must cover the file (%llu bytes) and be at most %llu MiB (a truncated or corrupt header?)",
			 (unsigned long long)out->image_size, (unsigned long long)file_len,
			 (unsigned long long)(ARM64_IMAGE_SIZE_MAX >> 20));
		return -EINVAL;
	}
	return 0;
}

int arm64_image_place(const struct arm64_image_info *i, uint64_t mem_bytes, uint64_t limit,
		      uint64_t *load, char *err, size_t errlen)
{
	/* ARM64_DRAM_BASE is itself 2 MiB aligned: the base is DRAM's start. */
	uint64_t base = (ARM64_DRAM_BASE + ARM64_IMAGE_ALIGN - 1) & ~(ARM64_IMAGE_ALIGN - 1);
	uint64_t start = base + i->text_offset, end = start + i->image_size;
	uint64_t top = ARM64_DRAM_BASE + mem_bytes;

	if (limit && limit < top)
		top = limit;
	if (end > top) {
		snprintf(err, errlen,
			 "the arm64 Image needs [0x%llx, 0x%llx) but guest RAM%s ends at 0x%llx: give the VM more memory",
			 (unsigned long long)start, (unsigned long long)end,
			 limit ? " below the initrd" : "", (unsigned long long)top);
		return -ENOSPC;
	}
	*load = start;
	return 0;
}
