/* vmlinux and raw BTF from a bzImage, without running any tool:
 * the compressed payload sits at (setup_sects+1)*512 + payload_offset
 * (setup_sects at 0x1f1, 0 meaning 4; payload_offset/length u32 at
 * 0x248/0x24c) and is gzip, zstd, xz, lzma or lz4 (bzip2 and lzo are
 * named, not decoded). */
#ifndef KTSTR_ORCH_VMLINUX_EXTRACT_H
#define KTSTR_ORCH_VMLINUX_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#define VMLINUX_MAX (1u << 30) /* refuse payloads claiming more than 1 GiB */

/* Decompress the payload of the bzImage in img[0..len). *out is malloc'd
 * (caller frees). Returns 0, -EINVAL (not a bzImage / damaged or
 * truncated payload), -EFBIG (inflates past VMLINUX_MAX), -EPROTONOSUPPORT
 * (compression not built in; err names it) or -ENOMEM. */
int bzimage_extract_vmlinux(const uint8_t *img, size_t len, uint8_t **out, size_t *outlen,
			    char *err, size_t errlen);
/* The same with the output bound max instead of VMLINUX_MAX (tests). */
int bzimage_extract_vmlinux_bounded(const uint8_t *img, size_t len, size_t max, uint8_t **out,
				    size_t *outlen, char *err, size_t errlen);

/* Copy the .BTF section of an ELF image. *out malloc'd. -ENOENT if the
 * kernel has no BTF (CONFIG_DEBUG_INFO_BTF off). */
int vmlinux_extract_btf(const uint8_t *elf, size_t len, uint8_t **out, size_t *outlen, char *err,
			size_t errlen);

#endif
