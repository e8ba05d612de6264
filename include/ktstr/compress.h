/* Compression of a finished cpio archive into the formats the kernel's
 * initramfs unpacker reads (init/initramfs.c + lib/decompress_*.c). */
#ifndef KTSTR_COMPRESS_H
#define KTSTR_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* LZ4 legacy frame (lz4 -l): little-endian magic, then chunks of
 * u32 compressed length + LZ4 block, each block at most 8 MiB uncompressed,
 * which is the chunk size lib/decompress_unlz4.c assumes. */
#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_CHUNK (8u << 20)

/* gzip (RFC 1952) with zlib, level 6. *out is malloc'd (caller frees). */
int compress_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);
/* LZ4 legacy frame with liblz4 (HC level 9: smaller, and decompression speed
 * does not depend on the level). *out is malloc'd (caller frees). */
int compress_lz4_legacy(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);
/* Decoders, for self-checks and tests; *out malloc'd, at most max bytes.
 * The LZ4 decoder, like lib/decompress_unlz4.c since Linux 5.11, treats a
 * zero chunk length (the zero padding after an image) as the end. Older
 * kernels fail on padded LZ4 images: ktstr's guests are newer. */
int decompress_gzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen);
int decompress_lz4_legacy(const uint8_t *in, size_t len, size_t max, uint8_t **out,
			  size_t *outlen);

#endif
