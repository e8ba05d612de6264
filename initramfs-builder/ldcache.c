/* ld.so.cache layout (glibc elf/dl-cache.h, stable since glibc 2.32 made the
 * new format the only one written):
 *   header (48 bytes): magic "glibc-ld.so.cache" (17) + version "1.1" (3),
 *     u32 nlibs, u32 len_strings, u8 flags, u8 pad[3], u32 extension_offset,
 *     u32 unused[3]
 *   nlibs entries (24 bytes): i32 flags, u32 key, u32 value, u32 osversion,
 *     u64 hwcap
 * key (soname) and value (path) are offsets from the header start. Older
 * files start with "ld.so-1.7.0" + u32 nlibs + nlibs*12-byte entries, and
 * the new header follows at the next 8-byte boundary. Every offset read here
 * is bounds-checked: the file is host input we do not control. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/util.h"
#include "ldcache.h"

#define LDC_NEW_MAGIC "glibc-ld.so.cache1.1"
#define LDC_OLD_MAGIC "ld.so-1.7.0"
#define LDC_NEW_HDR 48u
#define LDC_NEW_ENTRY 24u
#define LDC_OLD_HDR 16u		/* 12-byte magic field (11 + NUL) + u32 nlibs */
#define LDC_OLD_ENTRY 12u
#define LDC_FLAG_TYPE_MASK 0x00ffu
#define LDC_FLAG_ELF_LIBC6 0x0003u
#define LDC_FLAG_REQ_MASK 0xff00u
#define LDC_MAX_SIZE (64u << 20)

static uint32_t ld_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);	/* host-endian: the cache is written by this host */
	return v;
}

static uint64_t ld_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int ldcache_parse(struct ldcache *c, uint8_t *buf, size_t len)
{
	size_t base = 0;
	uint32_t nlibs;

	memset(c, 0, sizeof(*c));
	if (len >= LDC_OLD_HDR && !memcmp(buf, LDC_OLD_MAGIC, strlen(LDC_OLD_MAGIC))) {
		uint32_t old = ld_u32(buf + 12);

		if (old > (len - LDC_OLD_HDR) / LDC_OLD_ENTRY)
			goto err;
		base = LDC_OLD_HDR + (size_t)old * LDC_OLD_ENTRY;
		base = (base + 7) & ~(size_t)7;
	}
	if (len < base || len - base < LDC_NEW_HDR ||
	    memcmp(buf + base, LDC_NEW_MAGIC, strlen(LDC_NEW_MAGIC)))
		goto err;
	nlibs = ld_u32(buf + base + 20);
	if (nlibs > (len - base - LDC_NEW_HDR) / LDC_NEW_ENTRY)
		goto err;
	c->buf = buf;
	c->len = len;
	c->base = base;
	c->nlibs = nlibs;
	return 0;
err:
	free(buf);
	return -EINVAL;
}

int ldcache_load(struct ldcache *c, const char *path)
{
	char *buf;
	size_t len;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = read_file(path, &buf, &len, LDC_MAX_SIZE);
	if (ret)
		return ret;
	return ldcache_parse(c, (uint8_t *)buf, len);
}

/* String at offset off from the header, or NULL if it runs off the end. */
static const char *ldcache_str(const struct ldcache *c, uint32_t off)
{
	size_t start = c->base + off;

	if (start < c->base || start >= c->len)
		return NULL;
	if (!memchr(c->buf + start, '\0', c->len - start))
		return NULL;
	return (const char *)c->buf + start;
}

const char *ldcache_lookup(const struct ldcache *c, const char *soname, uint32_t req)
{
	uint32_t i;

	for (i = 0; i < c->nlibs; i++) {
		const uint8_t *e = c->buf + c->base + LDC_NEW_HDR + (size_t)i * LDC_NEW_ENTRY;
		uint32_t flags = ld_u32(e);
		const char *key, *val;

		if ((flags & LDC_FLAG_TYPE_MASK) != LDC_FLAG_ELF_LIBC6 ||
		    (flags & LDC_FLAG_REQ_MASK) != req)
			continue;
		if (ld_u64(e + 16) != 0)	/* glibc-hwcaps variant */
			continue;
		key = ldcache_str(c, ld_u32(e + 4));
		if (!key || strcmp(key, soname))
			continue;
		val = ldcache_str(c, ld_u32(e + 8));
		if (val && val[0] == '/')
			return val;
	}
	return NULL;
}

void ldcache_free(struct ldcache *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}
