/* Raw BTF out of a non-ELF kernel image (btf_cut.h). */
#include "btf_cut.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/le.h>

#define BTF_MAGIC_LO 0x9f /* 0xeB9F little-endian */
#define BTF_MAGIC_HI 0xeb

struct cand {
	size_t off, len;
};

/* The blob's total size if img[off..] starts a self-consistent header that
 * fits in the file, else 0. */
static size_t header_total(const uint8_t *img, size_t len, size_t off)
{
	const uint8_t *h = img + off;
	uint64_t type_len, str_off, str_len, total;

	if (len - off < BTF_CUT_HDR_LEN || h[0] != BTF_MAGIC_LO || h[1] != BTF_MAGIC_HI ||
	    h[2] != 1 || get_le32(h + 4) != BTF_CUT_HDR_LEN || get_le32(h + 8) != 0)
		return 0;
	type_len = get_le32(h + 12);
	str_off = get_le32(h + 16);
	str_len = get_le32(h + 20);
	/* 64-bit sums: no u32 overflow can make a huge header look small. */
	total = BTF_CUT_HDR_LEN + str_off + str_len;
	if (str_off != type_len || !type_len || !str_len || total > len - off)
		return 0;
	return (size_t)total;
}

/* Silences libbpf while candidates are tried: a fake header's parse
 * failure is expected, not news for the user. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static bool parses(const uint8_t *blob, size_t len)
{
	libbpf_print_fn_t old;
	struct btf *btf;

	if (len > UINT32_MAX)
		return false;
	old = libbpf_set_print(quiet_print);
	btf = btf__new(blob, (__u32)len);
	libbpf_set_print(old);
	if (!btf)
		return false;
	btf__free(btf);
	return true;
}

int btf_cut(const uint8_t *img, size_t len, size_t *off, size_t *blen, char *err,
	    size_t errlen)
{
	struct cand best[BTF_CUT_TRIES];
	size_t nbest = 0, seen = 0;

	/* Keep the BTF_CUT_TRIES largest candidates, largest first. */
	for (size_t i = 0; len >= BTF_CUT_HDR_LEN && i <= len - BTF_CUT_HDR_LEN; i++) {
		const uint8_t *m = memchr(img + i, BTF_MAGIC_LO, len - BTF_CUT_HDR_LEN + 1 - i);
		size_t t, at;

		if (!m)
			break;
		i = (size_t)(m - img);
		t = header_total(img, len, i);
		if (!t)
			continue;
		seen++;
		for (at = 0; at < nbest && best[at].len >= t; at++)
			;
		if (at == BTF_CUT_TRIES)
			continue;
		if (nbest < BTF_CUT_TRIES)
			nbest++;
		memmove(&best[at + 1], &best[at], (nbest - 1 - at) * sizeof(best[0]));
		best[at] = (struct cand){ i, t };
	}
	for (size_t k = 0; k < nbest; k++) {
		if (parses(img + best[k].off, best[k].len)) {
			*off = best[k].off;
			*blen = best[k].len;
			return 0;
		}
	}
	if (!seen)
		snprintf(err, errlen, "no BTF header (magic 0xeB9F, version 1, 24-byte header) in "
				      "the %zu-byte image: a kernel without CONFIG_DEBUG_INFO_BTF?", len);
	else
		snprintf(err, errlen, "%zu BTF-like headers in the image, but none of the %zu "
				      "largest parses with libbpf", seen, nbest);
	return -ENOENT;
}

int btf_check(const uint8_t *blob, size_t len, bool need_scx, char *err, size_t errlen)
{
	libbpf_print_fn_t old;
	struct btf *btf;
	int ret = 0;

	if (len > UINT32_MAX) {
		snprintf(err, errlen, "BTF of %zu bytes: larger than BTF can be", len);
		return -EINVAL;
	}
	old = libbpf_set_print(quiet_print);
	btf = btf__new(blob, (__u32)len);
	libbpf_set_print(old);
	if (!btf) {
		snprintf(err, errlen, "the BTF does not parse (libbpf: %s)", strerror(errno));
		return -EINVAL;
	}
	if (need_scx && btf__find_by_name_kind(btf, "sched_ext_ops", BTF_KIND_STRUCT) <= 0) {
		snprintf(err, errlen, "the BTF has no struct sched_ext_ops though the config has "
				      "CONFIG_SCHED_CLASS_EXT=y (the wrong blob?)");
		ret = -ENOENT;
	}
	btf__free(btf);
	return ret;
}
