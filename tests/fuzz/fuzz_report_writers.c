/* libFuzzer target for the report writers' escaping: any bytes a guest
 * prints go through xml_escape (JUnit) and json_str (JSON). The output must
 * be strict UTF-8 (include/ktstr/utf8.h), every XML character must be one
 * XML 1.0 allows with no raw '<' or '&' outside an entity, and the JSON
 * string must be a well-formed JSON string literal. abort() otherwise. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/utf8.h"
#include "ktstr/util.h"
#include "json_pb.h"
#include "junit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void all_utf8(const struct strbuf *sb)
{
	for (size_t i = 0; i < sb->len;) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)sb->buf + i, sb->len - i, &cp);

		if (!n)
			abort();
		i += n;
	}
}

static void check_xml(const struct strbuf *sb)
{
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };

	all_utf8(sb);
	for (size_t i = 0; i < sb->len;) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)sb->buf + i, sb->len - i, &cp);
		bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
			  (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);

		if (!ok || cp == '<' || cp == '>' || cp == '"' || cp == '\'')
			abort();
		if (cp == '&') {
			bool ent = false;

			for (size_t k = 0; k < ARRAY_SIZE(ents); k++)
				ent |= !strncmp(sb->buf + i, ents[k], strlen(ents[k]));
			if (!ent)
				abort();
		}
		i += n;
	}
}

static void check_json(const struct strbuf *sb)
{
	all_utf8(sb);
	if (sb->len < 2 || sb->buf[0] != '"' || sb->buf[sb->len - 1] != '"')
		abort();
	for (size_t i = 1; i + 1 < sb->len; i++) {
		unsigned char c = (unsigned char)sb->buf[i];

		if (c < 0x20 || c == '"')
			abort();
		if (c != '\\')
			continue;
		c = (unsigned char)sb->buf[++i];
		if (c == 'u') {
			if (i + 4 >= sb->len)
				abort();
			for (int k = 1; k <= 4; k++)
				if (!strchr("0123456789abcdefABCDEF", sb->buf[i + k]))
					abort();
			i += 4;
		} else if (!strchr("\"\\/bfnrt", c)) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf x = { 0 }, j = { 0 };

	if (xml_escape(&x, (const char *)data, size) || json_str(&j, (const char *)data, size))
		abort();
	if (x.len)
		check_xml(&x);
	check_json(&j);
	sb_free(&x);
	sb_free(&j);
	return 0;
}
