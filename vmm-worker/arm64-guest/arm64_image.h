/* The arm64 kernel Image header (Linux Documentation/arch/arm64/booting.rst)
 * and where the Image goes in guest RAM: what a KVM engine needs to load a
 * kernel without firmware (QEMU's -kernel does this itself). Guest
 * architecture code: builds and is tested on every host. */
#ifndef KTSTR_ARM64_IMAGE_H
#define KTSTR_ARM64_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HDR_SIZE 64u
#define ARM64_IMAGE_MAGIC_OFF 56u
/* Pre-3.17 kernels leave image_size 0; their text_offset is this. */
#define ARM64_IMAGE_LEGACY_TEXT_OFFSET 0x80000ull
/* Bounds on the header's numbers: text_offset is at most a few hundred KiB
 * in every kernel (0 since 5.8); no kernel's in-memory size nears 1 GiB. */
#define ARM64_IMAGE_TEXT_OFFSET_MAX (2ull << 20)
#define ARM64_IMAGE_SIZE_MAX (1ull << 30)
/* The Image's base must be 2 MiB aligned (booting.rst). */
#define ARM64_IMAGE_ALIGN (2ull << 20)

struct arm64_image_info {
	uint64_t text_offset; /* from a 2 MiB-aligned base to the Image's start */
	uint64_t image_size;  /* bytes the kernel occupies from its start, bss included */
	uint32_t page_kib;    /* 4, 16 or 64; 0 = unspecified */
	bool anywhere;	      /* flags bit 3: may sit anywhere in RAM (else near its start) */
	bool legacy;	      /* pre-3.17 header: image_size was 0 */
};

/* Parse the header of an Image of file_len bytes whose first len bytes are
 * buf (len >= ARM64_IMAGE_HDR_SIZE). 0, or -ENOEXEC (not an arm64 Image:
 * gzip, ELF, x86 bzImage, bad magic, big-endian) / -EINVAL (numbers out of
 * bounds), with the reason in err. */
int arm64_image_parse(const void *buf, size_t len, uint64_t file_len,
		      struct arm64_image_info *out, char *err, size_t errlen);

/* Where the Image goes: the first 2 MiB-aligned address of DRAM plus
 * text_offset; it must end (image_size) inside RAM of mem_bytes and at or
 * below limit (the initrd's start, or 0 for no limit). *load = the guest
 * physical address to copy the file to and to enter at. 0 or -ENOSPC. */
int arm64_image_place(const struct arm64_image_info *i, uint64_t mem_bytes, uint64_t limit,
		      uint64_t *load, char *err, size_t errlen);

#endif
