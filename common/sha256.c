/* SHA-256 through Debian's nettle (sha256.h says why). nettle's header
 * maps sha256_init and friends to nettle_* by macro: undone here, so this
 * file can define ktstr's functions of those names. */
#include <nettle/sha2.h>
#undef sha256_init
#undef sha256_update
#undef sha256_digest

#include <errno.h>
#include <unistd.h>

#include <ktstr/sha256.h>

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct sha256 *)0)->ctx),
	       "struct sha256 must hold nettle's context");
_Static_assert(_Alignof(struct sha256_ctx) <= 8, "struct sha256 is 8-byte aligned");

static struct sha256_ctx *ctx_of(struct sha256 *s)
{
	return (struct sha256_ctx *)(void *)s->ctx;
}

void sha256_init(struct sha256 *s)
{
	nettle_sha256_init(ctx_of(s));
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	nettle_sha256_update(ctx_of(s), len, data);
}

void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN])
{
	nettle_sha256_digest(ctx_of(s), SHA256_LEN, out);
}

void sha256_buf(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}

void sha256_hex(const uint8_t digest[SHA256_LEN], char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

int sha256_fd(int fd, uint64_t max, uint64_t *len, uint8_t out[SHA256_LEN])
{
	/* Read through a small buffer rather than mmap: faulting a fresh
	 * mapping of a 3.5 MB image in cost 3-5 ms here (a nested VM), more
	 * than hashing it (2.2 ms); pread copies 64 KiB at a time with no
	 * faults and keeps the fd's own offset. */
	uint8_t buf[64 * 1024];
	struct sha256 s;
	uint64_t off = 0;

	sha256_init(&s);
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		if ((uint64_t)n > max - off)
			return -EFBIG; /* grew past the bound while read */
		sha256_update(&s, buf, (size_t)n);
		off += (uint64_t)n;
	}
	sha256_final(&s, out);
	if (len)
		*len = off;
	return 0;
}
