/* The arm64 Image header parser and placement (vmm-worker/arm64-guest/
 * arm64_image.c), on synthetic headers laid out as booting.rst says; the
 * Debian kernel's real header is checked by integ-arm64_boot. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/le.h>

#include "arm64-guest/arm64_image.h"
#include "arm64-guest/arm64_layout.h"

#define MIB (1ull << 20)

static void header(uint8_t *b, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(b, 0, 0x300);
	put_le32(b, 0x91005a4d); /* code0 as in a real Image: "MZ" + add */
	put_le64(b + 8, text_offset);
	put_le64(b + 16, image_size);
	put_le64(b + 24, flags);
	memcpy(b + 56, "ARM\x64", 4);
}

static int parse(const uint8_t *b, uint64_t file_len, struct arm64_image_info *i, char *err)
{
	return arm64_image_parse(b, 0x300, file_len, i, err, 512);
}

Test(arm64_image, modern_header)
{
	uint8_t b[0x300];
	struct arm64_image_info i;
	char err[512] = "";
	uint64_t load;

	/* Debian 6.1: text_offset 0, 4K pages, placement anywhere (flags 0xa). */
	header(b, 0, 30 * MIB, 0xa);
	cr_assert_eq(parse(b, 27 * MIB, &i, err), 0, "%s", err);
	cr_assert_eq(i.text_offset, 0);
	cr_assert_eq(i.image_size, 30 * MIB);
	cr_assert_eq(i.page_kib, 4);
	cr_assert(i.anywhere);
	cr_assert_not(i.legacy);
	cr_assert_eq(arm64_image_place(&i, 512 * MIB, 0, &load, err, sizeof(err)), 0);
	cr_assert_eq(load, ARM64_DRAM_BASE);
	header(b, 0x80000, 20 * MIB, 0x6); /* 64K pages, near the start */
	cr_assert_eq(parse(b, 20 * MIB, &i, err), 0, "%s", err);
	cr_assert_eq(i.page_kib, 64);
	cr_assert_not(i.anywhere);
	cr_assert_eq(arm64_image_place(&i, 512 * MIB, 0, &load, err, sizeof(err)), 0);
	cr_assert_eq(load, ARM64_DRAM_BASE + 0x80000);
	header(b, 0, 1 * MIB, 0x4); /* 16K pages */
	cr_assert_eq(parse(b, 1 * MIB, &i, err), 0);
	cr_assert_eq(i.page_kib, 16);
}

Test(arm64_image, legacy_header)
{
	uint8_t b[0x300];
	struct arm64_image_info i;
	char err[512] = "";

	/* image_size 0: pre-3.17, text_offset is 0x80000 whatever it says. */
	header(b, 0x12345, 0, 0);
	cr_assert_eq(parse(b, 9 * MIB, &i, err), 0, "%s", err);
	cr_assert(i.legacy);
	cr_assert_eq(i.text_offset, 0x80000);
	cr_assert_eq(i.image_size, 9 * MIB);
	cr_assert_eq(i.page_kib, 0);
}

static void refused(const uint8_t *b, size_t len, uint64_t file_len, int want, const char *needle)
{
	struct arm64_image_info i;
	char err[512] = "";

	cr_assert_eq(arm64_image_parse(b, len, file_len, &i, err, sizeof(err)), want, "%s", err);
	cr_assert(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
}

Test(arm64_image, refuses_what_is_not_an_image)
{
	uint8_t b[0x300];

	header(b, 0, MIB, 0);
	refused(b, 63, 63, -ENOEXEC, "shorter than the 64-byte header");
	refused(b, 64, 63, -ENOEXEC, "shorter than the 64-byte header");
	memset(b, 0, sizeof(b));
	b[0] = 0x1f;
	b[1] = 0x8b;
	refused(b, sizeof(b), MIB, -ENOEXEC, "gzip -d");
	memcpy(b, "\177ELF", 4);
	refused(b, sizeof(b), MIB, -ENOEXEC, "ELF");
	memset(b, 0, sizeof(b));
	memcpy(b + 0x202, "HdrS", 4);
	refused(b, sizeof(b), MIB, -ENOEXEC, "x86 bzImage");
	memset(b, 0, sizeof(b));
	refused(b, sizeof(b), MIB, -ENOEXEC, "no \"ARM\\x64\" magic");
	header(b, 0, MIB, 1);
	refused(b, sizeof(b), MIB, -ENOEXEC, "big-endian");
}

Test(arm64_image, refuses_numbers_out_of_bounds)
{
	uint8_t b[0x300];
	struct arm64_image_info i;
	char err[512] = "";
	uint64_t load;

	header(b, 0x1001, MIB, 0);
	refused(b, sizeof(b), MIB, -EINVAL, "4 KiB aligned");
	header(b, ARM64_IMAGE_TEXT_OFFSET_MAX + 4096, MIB, 0);
	refused(b, sizeof(b), MIB, -EINVAL, "at most 0x200000");
	header(b, ARM64_IMAGE_TEXT_OFFSET_MAX, MIB, 0); /* the bound itself passes */
	cr_assert_eq(parse(b, MIB, &i, err), 0, "%s", err);
	header(b, 0, MIB - 1, 0);
	refused(b, sizeof(b), MIB, -EINVAL, "must cover the file");
	header(b, 0, ARM64_IMAGE_SIZE_MAX + 1, 0);
	refused(b, sizeof(b), MIB, -EINVAL, "at most 1024 MiB");
	header(b, 0, ARM64_IMAGE_SIZE_MAX, 0);
	cr_assert_eq(parse(b, MIB, &i, err), 0, "%s", err);

	/* Placement: inside RAM and below the initrd. */
	header(b, 0, 64 * MIB, 0);
	cr_assert_eq(parse(b, MIB, &i, err), 0);
	cr_assert_eq(arm64_image_place(&i, 64 * MIB, 0, &load, err, sizeof(err)), 0);
	cr_assert_eq(arm64_image_place(&i, 62 * MIB, 0, &load, err, sizeof(err)), -ENOSPC);
	cr_assert(strstr(err, "give the VM more memory"), "%s", err);
	cr_assert_eq(arm64_image_place(&i, 512 * MIB, ARM64_DRAM_BASE + 64 * MIB, &load, err,
				       sizeof(err)),
		     0);
	cr_assert_eq(arm64_image_place(&i, 512 * MIB, ARM64_DRAM_BASE + 63 * MIB, &load, err,
				       sizeof(err)),
		     -ENOSPC);
	cr_assert(strstr(err, "below the initrd"), "%s", err);
}
