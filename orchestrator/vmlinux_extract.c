#include "vmlinux_extract.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <ktstr/le.h>

static int unzstd(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen, char *err,
		  size_t errlen)
{
	unsigned long long sz = ZSTD_getFrameContentSize(in, len);
	ZSTD_DStream *ds;
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob;
	size_t cap = sz != ZSTD_CONTENTSIZE_UNKNOWN && sz != ZSTD_CONTENTSIZE_ERROR && sz <= VMLINUX_MAX
			     ? (size_t)sz
			     : 64u << 20;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	ds = ZSTD_createDStream();
	if (!ds) {
		free(buf);
		return -ENOMEM;
	}
	ZSTD_initDStream(ds);
	ob = (ZSTD_outBuffer){ buf, cap, 0 };
	for (;;) {
		size_t r = ZSTD_decompressStream(ds, &ob, &ib);

		if (ZSTD_isError(r)) {
			snprintf(err, errlen, "zstd payload damaged: %s", ZSTD_getErrorName(r));
			ZSTD_freeDStream(ds);
			free(buf);
			return -EINVAL;
		}
		if (r == 0)
			break;
		if (ob.pos == ob.size) {
			uint8_t *nb;

			if (cap >= VMLINUX_MAX) {
				snprintf(err, errlen, "payload decompresses to more than 1 GiB");
				ZSTD_freeDStream(ds);
				free(buf);
				return -EINVAL;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				ZSTD_freeDStream(ds);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			ob.dst = buf;
			ob.size = cap;
		} else if (ib.pos == ib.size) {
			snprintf(err, errlen, "zstd payload truncated");
			ZSTD_freeDStream(ds);
			free(buf);
			return -EINVAL;
		}
	}
	ZSTD_freeDStream(ds);
	*out = buf;
	*outlen = ob.pos;
	return 0;
}

static int ungzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen, char *err,
		  size_t errlen)
{
	z_stream zs = { 0 };
	size_t cap = 64u << 20;
	uint8_t *buf = malloc(cap);
	int r;

	if (!buf)
		return -ENOMEM;
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		zs.next_out = buf + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		r = inflate(&zs, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			snprintf(err, errlen, "gzip payload damaged: %s", zs.msg ? zs.msg : "inflate error");
			goto err;
		}
		if (zs.avail_out == 0) {
			uint8_t *nb;

			if (cap >= VMLINUX_MAX) {
				snprintf(err, errlen, "payload decompresses to more than 1 GiB");
				goto err;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto err;
			buf = nb;
		} else if (zs.avail_in == 0) {
			snprintf(err, errlen, "gzip payload truncated");
			goto err;
		}
	}
	*outlen = zs.total_out;
	*out = buf;
	inflateEnd(&zs);
	return 0;
err:
	inflateEnd(&zs);
	free(buf);
	return -EINVAL;
}

int bzimage_extract_vmlinux(const uint8_t *img, size_t len, uint8_t **out, size_t *outlen,
			    char *err, size_t errlen)
{
	uint32_t setup_sects, poff, plen;
	size_t start;
	const uint8_t *p;

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
	/* The last 4 bytes are the uncompressed size appended by the kernel build. */
	if (p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return unzstd(p, plen - 4, out, outlen, err, errlen);
	if (p[0] == 0x1f && p[1] == 0x8b)
		return ungzip(p, plen, out, outlen, err, errlen);
	if (p[0] == 0xfd && !memcmp(p + 1, "7zXZ", 4)) {
		snprintf(err, errlen, "bzImage payload is xz: not supported (only zstd and gzip); "
				      "pass the vmlinux with --kernel instead");
		return -EPROTONOSUPPORT;
	}
	snprintf(err, errlen, "bzImage payload has unknown compression (magic %02x %02x %02x %02x)",
		 p[0], p[1], p[2], p[3]);
	return -EPROTONOSUPPORT;
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
