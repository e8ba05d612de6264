/* The raw BTF cutter (btf_cut.h) on synthetic images: real BTF made with
 * libbpf, placed among other bytes, and headers that lie. */
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/le.h>

#include "btf_cut.h"

/* A BTF blob (malloc'd) with an int and, when scx, struct sched_ext_ops;
 * extra members make it bigger. */
static uint8_t *make_btf(bool scx, int extra, size_t *len)
{
	struct btf *btf = btf__new_empty();
	const void *raw;
	__u32 sz;
	uint8_t *copy;
	int id;

	cr_assert_not_null(btf);
	id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	cr_assert_gt(id, 0);
	cr_assert_gt(btf__add_struct(btf, scx ? "sched_ext_ops" : "other_ops", 4 * (extra + 1)), 0);
	for (int i = 0; i <= extra; i++) {
		char name[32];

		snprintf(name, sizeof(name), "member_%d", i);
		cr_assert_eq(btf__add_field(btf, name, id, 32 * i, 0), 0);
	}
	raw = btf__raw_data(btf, &sz);
	cr_assert_not_null(raw);
	copy = malloc(sz);
	memcpy(copy, raw, sz);
	*len = sz;
	btf__free(btf);
	return copy;
}

/* len bytes of noise that holds no 0x9f byte (so no stray magic). */
static uint8_t *noise(size_t len)
{
	uint8_t *b = malloc(len);

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)((i * 131u + 7u) % 0x9f);
	return b;
}

Test(btf_cut, finds_the_blob_among_other_bytes)
{
	size_t blen, off = 0, got = 0;
	uint8_t *blob = make_btf(true, 3, &blen), *img = noise(4096 + blen);
	char err[256] = "";

	memcpy(img + 1000, blob, blen);
	cr_assert_eq(btf_cut(img, 4096 + blen, &off, &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(off, 1000);
	cr_assert_eq(got, blen);
	cr_assert_eq(btf_check(img + off, got, true, err, sizeof(err)), 0, "%s", err);
	/* At the very end of the file: still inside it. */
	memset(img, 0, 4096 + blen);
	memcpy(img + 4096, blob, blen);
	cr_assert_eq(btf_cut(img, 4096 + blen, &off, &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(off, 4096);
	free(img);
	free(blob);
}

Test(btf_cut, no_magic_says_so)
{
	uint8_t *img = noise(8192);
	size_t off, got;
	char err[256] = "";

	cr_assert_eq(btf_cut(img, 8192, &off, &got, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "no BTF header"), "%s", err);
	cr_assert_eq(btf_cut(img, 10, &off, &got, err, sizeof(err)), -ENOENT, "shorter than a header");
	free(img);
}

Test(btf_cut, a_truncated_blob_is_not_taken)
{
	size_t blen, off, got;
	uint8_t *blob = make_btf(true, 0, &blen), *img = noise(512 + blen);
	char err[256] = "";

	memcpy(img + 512, blob, blen);
	/* The file ends one byte before the header's total. */
	cr_assert_eq(btf_cut(img, 512 + blen - 1, &off, &got, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "no BTF header"), "%s", err);
	free(img);
	free(blob);
}

Test(btf_cut, headers_with_bad_lengths_are_not_taken)
{
	size_t blen, off, got;
	uint8_t *blob = make_btf(true, 0, &blen), *img = noise(256 + blen), *h = img + 256;
	char err[256] = "";
	struct {
		size_t at;
		uint32_t v;
		const char *what;
	} bad[] = {
		{ 4, 25, "hdr_len 25" },
		{ 8, 4, "type_off 4" },
		{ 16, 0, "str_off != type_len" },
		{ 20, 0xfffffff0u, "str_len past the file" },
		{ 12, 0, "type_len 0" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(h, blob, blen);
		put_le32(h + bad[i].at, bad[i].v);
		cr_assert_eq(btf_cut(img, 256 + blen, &off, &got, err, sizeof(err)), -ENOENT, "%s",
			     bad[i].what);
	}
	memcpy(h, blob, blen);
	h[2] = 2; /* version */
	cr_assert_eq(btf_cut(img, 256 + blen, &off, &got, err, sizeof(err)), -ENOENT, "version 2");
	free(img);
	free(blob);
}

Test(btf_cut, of_two_blobs_the_larger_wins)
{
	size_t slen, blen, off, got;
	uint8_t *small = make_btf(false, 0, &slen), *big = make_btf(true, 20, &blen);
	size_t len = 3000 + slen + blen;
	uint8_t *img = noise(len);
	char err[256] = "";

	cr_assert_gt(blen, slen);
	memcpy(img + 100, small, slen);
	memcpy(img + 2000 + slen, big, blen);
	cr_assert_eq(btf_cut(img, len, &off, &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(off, 2000 + slen);
	cr_assert_eq(got, blen);
	/* Larger first or second: the order in the file does not matter. */
	memset(img, 0, len);
	memcpy(img + 100, big, blen);
	memcpy(img + 2000 + blen, small, slen);
	cr_assert_eq(btf_cut(img, len, &off, &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(off, 100);
	free(img);
	free(small);
	free(big);
}

/* A fake header claiming the most bytes, with garbage behind it: libbpf
 * refuses it and the real blob is taken. */
Test(btf_cut, a_larger_header_that_does_not_parse_is_skipped)
{
	size_t blen, off, got, len;
	uint8_t *blob = make_btf(true, 2, &blen), *img;
	char err[256] = "";

	len = 64 + blen + 8192;
	img = noise(len);
	memcpy(img + 64, blob, blen);
	/* The fake: right after the blob, its types and strings 4000 bytes of noise. */
	memcpy(img + 64 + blen, blob, BTF_CUT_HDR_LEN);
	put_le32(img + 64 + blen + 12, 4000);
	put_le32(img + 64 + blen + 16, 4000);
	put_le32(img + 64 + blen + 20, 100);
	cr_assert_eq(btf_cut(img, len, &off, &got, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(off, 64);
	cr_assert_eq(got, blen);
	free(img);
	free(blob);
}

/* More fake headers than BTF_CUT_TRIES, each larger than the real blob:
 * the cutter gives up after that many parses instead of trying them all. */
Test(btf_cut, libbpf_parses_are_bounded)
{
	size_t blen, off, got, len, fake = 64, at;
	uint8_t *blob = make_btf(true, 0, &blen), *img;
	char err[256] = "";

	len = 64 + blen + (BTF_CUT_TRIES + 2) * fake + 8192;
	img = noise(len);
	memcpy(img + 64, blob, blen);
	at = 64 + blen;
	for (unsigned i = 0; i < BTF_CUT_TRIES + 2; i++, at += fake) {
		memcpy(img + at, blob, BTF_CUT_HDR_LEN);
		put_le32(img + at + 12, 4000);
		put_le32(img + at + 16, 4000);
		put_le32(img + at + 20, (uint32_t)blen);
	}
	cr_assert_eq(btf_cut(img, len, &off, &got, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "none of the 8 largest parses"), "%s", err);
	free(img);
	free(blob);
}

Test(btf_cut, check_wants_sched_ext_ops_only_when_the_config_has_it)
{
	size_t blen;
	uint8_t *with = make_btf(true, 0, &blen), *without;
	char err[256] = "";

	cr_assert_eq(btf_check(with, blen, true, err, sizeof(err)), 0, "%s", err);
	free(with);
	without = make_btf(false, 0, &blen);
	cr_assert_eq(btf_check(without, blen, false, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(btf_check(without, blen, true, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "sched_ext_ops"), "%s", err);
	cr_assert_eq(btf_check(without, 10, false, err, sizeof(err)), -EINVAL, "a cut-short header");
	free(without);
}
