/* Raw BTF cut out of a kernel image that is not ELF (an arm64 Image): the
 * kernel links its .BTF section into the image unchanged, so the blob is
 * found by its header (linux/btf.h): magic 0xeB9F, version 1, hdr_len 24,
 * type_off 0 and str_off == type_len (pahole writes types, then strings),
 * its total size hdr_len + str_off + str_len inside the file. */
#ifndef KTSTR_ORCH_BTF_CUT_H
#define KTSTR_ORCH_BTF_CUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BTF_CUT_HDR_LEN 24u
/* How many self-consistent headers are tried with libbpf, largest first: a
 * crafted image full of fake headers costs at most this many parses. */
#define BTF_CUT_TRIES 8u

/* Find the BTF blob in img[0..len): among the self-consistent headers
 * (little-endian, what arm64 and x86 kernels are), the largest that libbpf
 * parses (btf__new). *off and *blen locate it inside img. Returns 0,
 * -ENOENT (no header, or none of the tried ones parses; err says which). */
int btf_cut(const uint8_t *img, size_t len, size_t *off, size_t *blen, char *err,
	    size_t errlen);

/* Whether blob parses and, when need_scx, has `struct sched_ext_ops` (a
 * kernel with CONFIG_SCHED_CLASS_EXT=y has it in its BTF). 0, -EINVAL
 * (does not parse) or -ENOENT (no sched_ext_ops), with err. */
int btf_check(const uint8_t *blob, size_t len, bool need_scx, char *err, size_t errlen);

#endif
