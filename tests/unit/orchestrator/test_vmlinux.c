/* vmlinux and BTF extraction: from a real Debian bzImage when one is on
 * this machine (the dev kernels; skipped otherwise), and from synthetic
 * bzImages in every payload compression. */
#include <criterion/criterion.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <ktstr/le.h>
#include <ktstr/util.h>

#include "kernel_fetch.h"
#include "kconfig_need.h"
#include "test_env.h"
#include "vmlinux_extract.h"

Test(vmlinux, extracts_an_elf_with_btf_from_a_bzimage)
{
	char path[4096], *img = NULL;
	size_t len;
	uint8_t *vml = NULL, *btf = NULL;
	size_t vlen, blen;
	char err[256];

	if (!test_env_kernel("bzImage", path, sizeof(path)))
		test_missing("no test bzImage at %s (set KTSTR_TEST_BZIMAGE)", path);
	cr_assert_eq(read_file(path, &img, &len, 256u << 20), 0, "read %s", path);
	cr_assert_eq(bzimage_extract_vmlinux((uint8_t *)img, len, &vml, &vlen, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(vlen > len, "decompressed is larger");
	cr_assert_eq(memcmp(vml, "\x7f" "ELF", 4), 0, "an ELF");
	cr_assert_eq(vmlinux_extract_btf(vml, vlen, &btf, &blen, err, sizeof(err)), 0, "%s", err);
	cr_assert(blen > 1024 * 1024, "BTF of a distro kernel is megabytes (%zu)", blen);
	cr_assert_eq(btf[0] | btf[1] << 8, 0xeB9F, "BTF magic");
	free(btf);
	free(vml);
	free(img);
}

Test(vmlinux, damaged_images_are_refused_with_a_reason)
{
	uint8_t junk[4096] = { 0 };
	uint8_t *out;
	size_t olen;
	char err[256];

	cr_assert_eq(bzimage_extract_vmlinux(junk, sizeof(junk), &out, &olen, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "HdrS"));
	memcpy(junk + 0x202, "HdrS", 4);
	junk[0x1f1] = 4;
	junk[0x248] = 0xff;
	junk[0x249] = 0xff;
	junk[0x24c] = 0x10;
	cr_assert_eq(bzimage_extract_vmlinux(junk, sizeof(junk), &out, &olen, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "outside"), "%s", err);
}

Test(vmlinux, config_validation_names_what_is_missing)
{
	char missing[512];
	const char *cfg = "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_SERIAL_8250_CONSOLE=y\nCONFIG_DEVTMPFS=y\n"
			  "CONFIG_DEVMEM=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_CGROUPS=y\n"
			  "CONFIG_CPUSETS=y\nCONFIG_BPF_SYSCALL=y\n# CONFIG_SCHED_CLASS_EXT is not set\n"
			  "CONFIG_PVH=m\n";

	cr_assert_eq(kconfig_validate(cfg, missing, sizeof(missing)), 2);
	cr_assert_str_eq(missing, "CONFIG_SCHED_CLASS_EXT CONFIG_PVH");
}

/* ---- every payload compression a kernel build may choose, on synthetic
 * bzImages built here with the same libraries ------------------------------ */

#define SAMPLE_LEN (3u << 20)
#define LZ4_TEST_BLOCK (1u << 20) /* smaller than the kernel's 8 MiB: several blocks */

/* Something vmlinux-like: an ELF magic, then text and numbers that
 * compress, but not to nothing. */
static uint8_t *sample(void)
{
	uint8_t *s = malloc(SAMPLE_LEN);

	cr_assert_not_null(s);
	for (size_t i = 0; i < SAMPLE_LEN; i++)
		s[i] = (i / 7) % 3 ? "sched_ext kernel "[i % 17] : (uint8_t)(i * 2654435761u >> 24);
	memcpy(s, "\x7f" "ELF", 4);
	return s;
}

static size_t c_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream zs = { 0 };

	cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	return zs.total_out;
}

static size_t c_zstd(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t r = ZSTD_compress(out, cap, in, n, 3);

	cr_assert(!ZSTD_isError(r));
	return r;
}

/* As scripts/xz_wrap.sh: the x86 BCJ filter before LZMA2, CRC32 check. */
static size_t c_xz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_options_lzma opt;
	lzma_filter f[3] = { { LZMA_FILTER_X86, NULL }, { LZMA_FILTER_LZMA2, &opt },
			     { LZMA_VLI_UNKNOWN, NULL } };
	size_t pos = 0;

	cr_assert_eq(lzma_lzma_preset(&opt, 0), 0);
	cr_assert_eq(lzma_stream_buffer_encode(f, LZMA_CHECK_CRC32, NULL, in, n, out, &pos, cap),
		     LZMA_OK);
	return pos;
}

static size_t c_lzma(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	cr_assert_eq(lzma_lzma_preset(&opt, 0), 0);
	cr_assert_eq(lzma_alone_encoder(&s, &opt), LZMA_OK);
	s.next_in = in;
	s.avail_in = n;
	s.next_out = out;
	s.avail_out = cap;
	cr_assert_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	lzma_end(&s);
	return cap - s.avail_out;
}

/* lz4 -l's legacy frame; the second half as a concatenated stream (a
 * block size equal to the magic), which the kernel accepts too. */
static size_t c_lz4(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += LZ4_TEST_BLOCK) {
		size_t chunk = n - i < LZ4_TEST_BLOCK ? n - i : LZ4_TEST_BLOCK;
		int c;

		if (i == 0 || i == n / 2 / LZ4_TEST_BLOCK * LZ4_TEST_BLOCK) {
			put_le32(out + o, 0x184c2102u);
			o += 4;
		}
		c = LZ4_compress_default((const char *)in + i, (char *)out + o + 4, (int)chunk,
					 (int)(cap - o - 4));
		cr_assert_gt(c, 0);
		put_le32(out + o, (uint32_t)c);
		o += 4 + (size_t)c;
	}
	return o;
}

static const struct {
	const char *name;
	size_t (*compress)(const uint8_t *in, size_t n, uint8_t *out, size_t cap);
	bool sized; /* the kernel build appends the size (gzip's trailer has it) */
} codecs[] = {
	{ "gzip", c_gzip, false }, { "zstd", c_zstd, true }, { "xz", c_xz, true },
	{ "lzma", c_lzma, true },  { "lz4", c_lz4, true },
};

/* A bzImage around the first keep bytes of payload (and the appended
 * size when sized): setup_sects 1, payload 64 bytes past the setup. */
static uint8_t *fake_bzimage(const uint8_t *payload, size_t keep, bool sized, uint32_t size,
			     size_t *len)
{
	size_t start = 2 * 512 + 64, plen = keep + (sized ? 4 : 0);
	uint8_t *img = calloc(1, start + plen);

	cr_assert_not_null(img);
	img[0x1f1] = 1;
	memcpy(img + 0x202, "HdrS", 4);
	put_le32(img + 0x248, 64);
	put_le32(img + 0x24c, (uint32_t)plen);
	memcpy(img + start, payload, keep);
	if (sized)
		put_le32(img + start + keep, size);
	*len = start + plen;
	return img;
}

Test(vmlinux, every_kernel_compression_is_extracted)
{
	uint8_t *s = sample(), *z = malloc(SAMPLE_LEN * 2), *img, *out;
	size_t zlen, ilen, olen;
	char err[256];

	cr_assert_not_null(z);
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		zlen = codecs[i].compress(s, SAMPLE_LEN, z, SAMPLE_LEN * 2);
		cr_assert_lt(zlen, SAMPLE_LEN / 2, "%s compressed", codecs[i].name);
		img = fake_bzimage(z, zlen, codecs[i].sized, SAMPLE_LEN, &ilen);
		cr_assert_eq(bzimage_extract_vmlinux(img, ilen, &out, &olen, err, sizeof(err)), 0,
			     "%s: %s", codecs[i].name, err);
		cr_assert_eq(olen, SAMPLE_LEN, "%s: %zu bytes", codecs[i].name, olen);
		cr_assert_eq(memcmp(out, s, SAMPLE_LEN), 0, "%s: the bytes", codecs[i].name);
		free(out);
		free(img);
		/* The appended size is a hint only: a lie changes nothing. */
		if (codecs[i].sized) {
			img = fake_bzimage(z, zlen, true, 16, &ilen);
			cr_assert_eq(bzimage_extract_vmlinux(img, ilen, &out, &olen, err, sizeof(err)),
				     0, "%s, size lies: %s", codecs[i].name, err);
			cr_assert_eq(olen, SAMPLE_LEN);
			free(out);
			free(img);
		}
	}
	free(z);
	free(s);
}

Test(vmlinux, truncated_payloads_and_oversized_output_are_refused)
{
	uint8_t *s = sample(), *z = malloc(SAMPLE_LEN * 2), *img, *out = NULL;
	size_t zlen, ilen, olen;
	char err[256];

	cr_assert_not_null(z);
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		zlen = codecs[i].compress(s, SAMPLE_LEN, z, SAMPLE_LEN * 2);
		img = fake_bzimage(z, zlen / 2, codecs[i].sized, SAMPLE_LEN, &ilen);
		err[0] = '\0';
		cr_assert_eq(bzimage_extract_vmlinux(img, ilen, &out, &olen, err, sizeof(err)),
			     -EINVAL, "%s cut in half", codecs[i].name);
		cr_assert(strstr(err, codecs[i].name), "%s: %s", codecs[i].name, err);
		free(img);
		/* 3 MiB of kernel under a 1 MiB bound: refused, not grown. */
		img = fake_bzimage(z, zlen, codecs[i].sized, SAMPLE_LEN, &ilen);
		cr_assert_eq(bzimage_extract_vmlinux_bounded(img, ilen, 1u << 20, &out, &olen, err,
							     sizeof(err)),
			     -EFBIG, "%s past the bound", codecs[i].name);
		cr_assert(strstr(err, "more than 1 MiB"), "%s: %s", codecs[i].name, err);
		free(img);
	}
	/* bzip2 and lzo are recognised and named, not decoded. */
	img = fake_bzimage((const uint8_t *)"BZh91AY&SY", 10, true, 100, &ilen);
	cr_assert_eq(bzimage_extract_vmlinux(img, ilen, &out, &olen, err, sizeof(err)),
		     -EPROTONOSUPPORT);
	cr_assert(strstr(err, "bzip2"), "%s", err);
	free(img);
	free(z);
	free(s);
}
