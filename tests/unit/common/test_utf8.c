/* utf8.c: the strict decoder every report writer relies on. */
#include <criterion/criterion.h>
#include <string.h>

#include <ktstr/utf8.h>
#include <ktstr/util.h>

static size_t dec(const char *s, size_t len, uint32_t *cp)
{
	return utf8_decode((const uint8_t *)s, len, cp);
}

Test(utf8, valid_sequences_of_every_length)
{
	uint32_t cp;

	cr_assert_eq(dec("A", 1, &cp), 1);
	cr_assert_eq(cp, 'A');
	cr_assert_eq(dec("\xC3\xA9", 2, &cp), 2);
	cr_assert_eq(cp, 0xE9);
	cr_assert_eq(dec("\xE2\x82\xAC", 3, &cp), 3);
	cr_assert_eq(cp, 0x20AC);
	cr_assert_eq(dec("\xF0\x9F\x98\x80", 4, &cp), 4);
	cr_assert_eq(cp, 0x1F600);
	cr_assert_eq(dec("\xF4\x8F\xBF\xBF", 4, &cp), 4, "U+10FFFF is the last one");
	cr_assert_eq(dec("\xEF\xBF\xBE", 3, &cp), 3, "U+FFFE is UTF-8 (XML refuses it itself)");
}

Test(utf8, everything_rfc3629_forbids_is_rejected)
{
	static const char *const bad[] = {
		"\xC0\xAF",	    /* overlong '/' */
		"\xC1\xBF",	    /* overlong */
		"\xE0\x80\xAF",	    /* overlong 3-byte */
		"\xE0\x9F\xBF",	    /* overlong 3-byte, top */
		"\xF0\x80\x80\xAF", /* overlong 4-byte */
		"\xF0\x8F\xBF\xBF", /* overlong 4-byte, top */
		"\xED\xA0\x80",	    /* U+D800, a surrogate */
		"\xED\xBF\xBF",	    /* U+DFFF */
		"\xF4\x90\x80\x80", /* U+110000 */
		"\xF5\x80\x80\x80", "\xFF", "\x80", "\xBF",
		"\xC3",		    /* truncated */
		"\xE2\x82",	    /* truncated */
		"\xE2\x28\xA1",	    /* bad continuation */
	};
	uint32_t cp;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(dec(bad[i], strlen(bad[i]), &cp), 0, "bad[%zu] accepted", i);
	cr_assert_eq(dec("", 0, &cp), 0);
}
