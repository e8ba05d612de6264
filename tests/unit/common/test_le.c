/* le.h: the one little-endian put/get every format writer and reader uses. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include <ktstr/le.h>
#include <ktstr/util.h>

Test(le, bytes_are_written_least_significant_first)
{
	uint8_t b[8];

	put_le16(b, 0x1234);
	cr_assert(b[0] == 0x34 && b[1] == 0x12);
	put_le32(b, 0x12345678u);
	cr_assert(b[0] == 0x78 && b[1] == 0x56 && b[2] == 0x34 && b[3] == 0x12);
	put_le64(b, 0x0102030405060708ull);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(b[i], 8 - i, "byte %d", i);
}

Test(le, bytes_are_read_least_significant_first)
{
	static const uint8_t b[8] = { 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x81 };

	cr_assert_eq(get_le16(b), 0xcdef);
	cr_assert_eq(get_le32(b), 0x89abcdefu);
	cr_assert_eq(get_le64(b), 0x8123456789abcdefull, "top bit set: no sign extension");
}

Test(le, round_trip_at_every_alignment)
{
	static const uint64_t v64[] = { 0, 1, 0x80, 0xff00ff00ff00ff00ull, UINT64_MAX,
					0x8000000000000000ull };
	uint8_t buf[16 + 8];

	for (size_t off = 0; off < 16; off++) {
		for (size_t i = 0; i < ARRAY_SIZE(v64); i++) {
			uint64_t v = v64[i];

			memset(buf, 0xa5, sizeof(buf));
			put_le64(buf + off, v);
			cr_assert_eq(get_le64(buf + off), v, "off %zu", off);
			cr_assert_eq(get_le32(buf + off), (uint32_t)v);
			cr_assert_eq(get_le16(buf + off), (uint16_t)v);
			put_le32(buf + off, (uint32_t)(v >> 16));
			cr_assert_eq(get_le32(buf + off), (uint32_t)(v >> 16));
			put_le16(buf + off, (uint16_t)(v >> 48));
			cr_assert_eq(get_le16(buf + off), (uint16_t)(v >> 48));
			/* Nothing outside the field is touched. */
			if (off)
				cr_assert_eq(buf[off - 1], 0xa5);
			cr_assert_eq(buf[off + 8], 0xa5);
		}
	}
}

Test(le, narrow_puts_write_only_their_width)
{
	uint8_t b[8];

	memset(b, 0xee, sizeof(b));
	put_le16(b, 0xffff);
	cr_assert_eq(b[2], 0xee);
	put_le32(b, 0);
	cr_assert_eq(b[4], 0xee);
	cr_assert_eq(get_le64(b), 0xeeeeeeee00000000ull);
}
