/* SHA-256 (FIPS 180-4) for the cache keys: the image builder's key and
 * on-disk entry checksum, a source-built kernel's source and config
 * identity (docs/kernels.md). Chosen over CRC32/FNV because the key names
 * an image that many VMs trust blindly: a 256-bit cryptographic digest
 * makes accidental (and practical deliberate) collisions between different
 * inputs a non-issue. Computed by Debian's nettle (SHA-NI where the CPU
 * has it): 6-8x the hand-written one this replaced, which matters when a
 * 1.8 GB kernel tree is hashed for its identity. nettle's header is kept
 * out of this one (it #defines sha256_init and friends); the context is
 * opaque storage that common/sha256.c checks is large enough. */
#ifndef KTSTR_SHA256_H
#define KTSTR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN (SHA256_LEN * 2)

struct sha256 {
	_Alignas(8) unsigned char ctx[128]; /* a struct sha256_ctx of nettle */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* One-shot helper. */
void sha256_buf(const void *data, size_t len, uint8_t out[SHA256_LEN]);
/* The digest of fd's bytes from offset 0 to its end, read with pread (the
 * fd's offset is left alone); *len (may be NULL) gets how many. 0, or
 * -errno; -EFBIG when there are more than max. */
int sha256_fd(int fd, uint64_t max, uint64_t *len, uint8_t out[SHA256_LEN]);
/* Lower-case hex, out must hold SHA256_HEX_LEN + 1 bytes. */
void sha256_hex(const uint8_t digest[SHA256_LEN], char *out);

#endif
