/* vmlinux and raw BTF from a bzImage (vmlinux_extract.h). The image is
 * untrusted: every offset is checked against its length, decoder memory
 * is capped, and the output never grows past the bound, whatever size
 * the payload claims. */
#include "vmlinux_extract.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <ktstr/le.h>
#include <ktstr/util.h>

/* Decoder memory for xz and lzma: the kernel's streams use 32 MiB
 * (scripts/xz_wrap.sh) and 64 MiB (lzma -9) dictionaries; a header asking
 * for more is refused by liblzma. */
#define LZMA_MEMLIMIT (256ull << 20)
/* lz4 -l, the legacy frame the kernel build writes: a magic, then blocks
 * each preceded by its compressed size (LE32) and inflating to at most
 * 8 MiB; a block size equal to the magic starts a concatenated stream
 * (lib/decompress_unlz4.c). */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)
/* First allocation when the payload's own size claim is out of bounds. */
#define OBUF_DEFAULT (64u << 20)

/* The decompressed kernel as it grows, never past max. */
struct obuf {
	uint8_t *p; /* malloc'd; the caller's on success */
	size_t len, cap, max;
};

/* hint: the size the kernel build appended to the payload. A lie costs a
 * realloc or a refusal at max, never more memory. */
static int obuf_init(struct obuf *o, size_t hint, size_t max)
{
	o->len = 0;
	o->max = max;
	o->cap = hint && hint < max ? hint + 1 : max < OBUF_DEFAULT ? max : OBUF_DEFAULT;
	if (o->cap < 4096)
		o->cap = max < 4096 ? max : 4096;
	o->p = malloc(o->cap ? o->cap : 1);
	return o->p ? 0 : -ENOMEM;
}

/* Room for want more bytes (1 <= want), doubling; -EFBIG past max. */
static int obuf_room(struct obuf *o, size_t want, char *err, size_t errlen)
{
	size_t cap = o->cap;
	uint8_t *np;

	if (cap - o->len >= want)
		return 0;
	if (o->max - o->len < want) {
		snprintf(err, errlen, "payload decompresses to more than %zu MiB: refused", o->max >> 20);
		return -EFBIG;
	}
	while (cap - o->len < want)
		cap = cap > o->max / 2 ? o->max : cap * 2;
	np = realloc(o->p, cap);
	if (!np)
		return -ENOMEM;
	o->p = np;
	o->cap = cap;
	return 0;
}

static int ungzip(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t errlen)
{
	z_stream zs = { 0 };
	int ret = 0;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len; /* a u32 payload length */
	for (;;) {
		size_t room;
		int r;

		if ((ret = obuf_room(o, 1, err, errlen)))
			break;
		room = o->cap - o->len < UINT_MAX ? o->cap - o->len : UINT_MAX;
		zs.next_out = o->p + o->len;
		zs.avail_out = (uInt)room;
		r = inflate(&zs, Z_NO_FLUSH);
		o->len += room - zs.avail_out;
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			snprintf(err, errlen, "gzip payload damaged: %s", zs.msg ? zs.msg : "inflate error");
			ret = -EINVAL;
			break;
		}
		if (zs.avail_out && !zs.avail_in) {
			snprintf(err, errlen, "gzip payload truncated");
			ret = -EINVAL;
			break;
		}
	}
	inflateEnd(&zs);
	return ret;
}

/* One frame; its window is capped by libzstd's default limit (128 MiB). */
static int unzstd(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t errlen)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	int ret = 0;

	if (!ds)
		return -ENOMEM;
	ZSTD_initDStream(ds);
	for (;;) {
		ZSTD_outBuffer ob;
		size_t r;

		if ((ret = obuf_room(o, 1, err, errlen)))
			break;
		ob = (ZSTD_outBuffer){ o->p + o->len, o->cap - o->len, 0 };
		r = ZSTD_decompressStream(ds, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(r)) {
			snprintf(err, errlen, "zstd payload damaged: %s", ZSTD_getErrorName(r));
			ret = -EINVAL;
			break;
		}
		if (r == 0)
			break;
		if (ob.pos < ob.size && ib.pos == ib.size) {
			snprintf(err, errlen, "zstd payload truncated");
			ret = -EINVAL;
			break;
		}
	}
	ZSTD_freeDStream(ds);
	return ret;
}

/* xz (.xz container, the kernel's with its x86 BCJ filter) or, alone,
 * the legacy .lzma format: both through liblzma. */
static int liblzma_decode(const uint8_t *in, size_t len, bool alone, struct obuf *o, char *err,
			  size_t errlen)
{
	const char *what = alone ? "lzma" : "xz";
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = alone ? lzma_alone_decoder(&s, LZMA_MEMLIMIT)
			   : lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0);
	int ret = 0;

	if (r != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	for (;;) {
		if ((ret = obuf_room(o, 1, err, errlen)))
			break;
		s.next_out = o->p + o->len;
		s.avail_out = o->cap - o->len;
		r = lzma_code(&s, LZMA_FINISH);
		o->len = o->cap - s.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK)
			continue;
		ret = r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
		snprintf(err, errlen, "%s payload %s", what,
			 r == LZMA_BUF_ERROR	   ? "truncated"
			 : r == LZMA_MEMLIMIT_ERROR ? "needs more than 256 MiB to decode: refused"
			 : r == LZMA_OPTIONS_ERROR  ? "uses options liblzma does not support"
						    : "damaged");
		break;
	}
	lzma_end(&s);
	return ret;
}

static int unxz(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t errlen)
{
	return liblzma_decode(in, len, false, o, err, errlen);
}

static int unlzma(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t errlen)
{
	return liblzma_decode(in, len, true, o, err, errlen);
}

static int unlz4(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t errlen)
{
	size_t pos = 4; /* past the magic the caller matched */
	int ret;

	while (pos < len) {
		uint32_t csize;
		size_t want;
		int n;

		if (len - pos < 4) {
			snprintf(err, errlen, "lz4 payload truncated");
			return -EINVAL;
		}
		csize = get_le32(in + pos);
		pos += 4;
		if (csize == LZ4_LEGACY_MAGIC)
			continue;
		if (!csize || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) || csize > len - pos) {
			snprintf(err, errlen, "lz4 payload damaged: block of %u bytes at %zu", csize,
				 pos - 4);
			return -EINVAL;
		}
		/* A block inflates to 8 MiB at most: room for that, or for what
		 * is left under the bound. */
		want = o->max - o->len < LZ4_LEGACY_BLOCK ? o->max - o->len : LZ4_LEGACY_BLOCK;
		if ((ret = obuf_room(o, want ? want : 1, err, errlen)))
			return ret;
		n = LZ4_decompress_safe((const char *)in + pos, (char *)o->p + o->len, (int)csize,
					(int)want);
		if (n < 0) {
			if (want < LZ4_LEGACY_BLOCK)
				snprintf(err, errlen, "payload decompresses to more than %zu MiB (or its "
						      "lz4 block at %zu is damaged): refused",
					 o->max >> 20, pos - 4);
			else
				snprintf(err, errlen, "lz4 payload damaged: block at %zu", pos - 4);
			return want < LZ4_LEGACY_BLOCK ? -EFBIG : -EINVAL;
		}
		o->len += (size_t)n;
		pos += csize;
	}
	return 0;
}

/* The payload compressions a kernel build may choose (CONFIG_KERNEL_*). */
static const struct codec {
	const char *name;
	uint8_t magic[6];
	uint8_t mlen;
	bool sized; /* the build appended the inflated size (LE32) after the stream */
	int (*decode)(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t errlen);
} codecs[] = {
	/* gzip's own trailer ends with the size: nothing appended. */
	{ "gzip", { 0x1f, 0x8b }, 2, false, ungzip },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, true, unzstd },
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6, true, unxz },
	/* Properties byte 0x5d (lc=3 lp=0 pb=2, the default) and a
	 * dictionary size whose low byte is 0: the bytes lib/decompress.c
	 * matches. */
	{ "lzma", { 0x5d, 0x00 }, 2, true, unlzma },
	{ "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, true, unlz4 },
	{ "bzip2", { 'B', 'Z', 'h' }, 3, true, NULL },
	{ "lzo", { 0x89, 'L', 'Z', 'O' }, 4, true, NULL },
};

int bzimage_extract_vmlinux_bounded(const uint8_t *img, size_t len, size_t max, uint8_t **out,
				    size_t *outlen, char *err, size_t errlen)
{
	uint32_t setup_sects, poff, plen;
	struct obuf o;
	size_t start;
	const uint8_t *p;
	int ret;

	if (len < 0x250 || get_le32(img + 0x202) != 0x53726448 /* "HdrS" */) {
		snprintf(err, errlen, "not a bzImage (no HdrS boot header at 0x202)");
		return -EINVAL;
	}
	setup_sects = img[0x1f1] ? img[0x1f1] : 4;
	poff = get_le32(img + 0x248);
	plen = get_le32(img + 0x24c);
	start = (size_t)(setup_sects + 1) * 512 + poff;
	if (plen < 8 || start > len || plen > len - start) {
		snprintf(err, errlen, "bzImage payload (offset %zu, length %u) lies outside the %zu-byte "
				      "file",
			 start, plen, len);
		return -EINVAL;
	}
	p = img + start;
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		const struct codec *c = &codecs[i];
		size_t in_len = c->sized ? plen - 4 : plen;

		if (in_len < c->mlen || memcmp(p, c->magic, c->mlen))
			continue;
		if (!c->decode) {
			snprintf(err, errlen, "bzImage payload is %s: not supported (gzip, zstd, xz, "
					      "lzma and lz4 are); pass the vmlinux with --kernel",
				 c->name);
			return -EPROTONOSUPPORT;
		}
		if (obuf_init(&o, get_le32(p + plen - 4), max))
			return -ENOMEM;
		ret = c->decode(p, in_len, &o, err, errlen);
		if (ret) {
			free(o.p);
			return ret;
		}
		*out = o.p;
		*outlen = o.len;
		return 0;
	}
	snprintf(err, errlen, "bzImage payload has unknown compression (magic %02x %02x %02x %02x)",
		 p[0], p[1], p[2], p[3]);
	return -EPROTONOSUPPORT;
}

int bzimage_extract_vmlinux(const uint8_t *img, size_t len, uint8_t **out, size_t *outlen,
			    char *err, size_t errlen)
{
	return bzimage_extract_vmlinux_bounded(img, len, VMLINUX_MAX, out, outlen, err, errlen);
}

int vmlinux_extract_btf(const uint8_t *elf_img, size_t len, uint8_t **out, size_t *outlen,
			char *err, size_t errlen)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int ret = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf initialisation failed");
		return -EINVAL;
	}
	e = elf_memory((char *)elf_img, len);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx)) {
		snprintf(err, errlen, "not an ELF vmlinux: %s", elf_errmsg(-1));
		if (e)
			elf_end(e);
		return -EINVAL;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".BTF"))
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset) {
			snprintf(err, errlen, ".BTF section lies outside the file");
			ret = -EINVAL;
			break;
		}
		*out = malloc(sh.sh_size ? sh.sh_size : 1);
		if (!*out) {
			ret = -ENOMEM;
			break;
		}
		memcpy(*out, elf_img + sh.sh_offset, sh.sh_size);
		*outlen = sh.sh_size;
		ret = 0;
		break;
	}
	if (ret == -ENOENT)
		snprintf(err, errlen, "vmlinux has no .BTF section (CONFIG_DEBUG_INFO_BTF is off)");
	elf_end(e);
	return ret;
}
