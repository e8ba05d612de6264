/* libFuzzer target for what `compare` and `report --html` read: any bytes
 * as a result file (compare_read.h). A file is refused or read; what is
 * read compares with itself without a regression, its compare --json is
 * JSON, and its HTML page is strict UTF-8 whose every '<' opens one of the
 * page's own tags: no string from the file becomes markup. abort()
 * otherwise. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ktstr/utf8.h"
#include "ktstr/util.h"
#include "compare.h"
#include "html_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_html(const struct strbuf *sb)
{
	static const char *const tags[] = { "!DOCTYPE", "html", "head", "meta", "title", "style",
					    "body", "h1", "h2", "h3", "p", "table", "tr", "th",
					    "td", "span", "figure", "figcaption", "svg", "g",
					    "rect", "text", "line" };

	for (size_t i = 0; i < sb->len;) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)sb->buf + i, sb->len - i, &cp);
		bool ok = false;

		if (!n)
			abort();
		if (cp == '<') {
			const char *t = sb->buf + i + 1 + (sb->buf[i + 1] == '/');

			for (size_t k = 0; k < ARRAY_SIZE(tags); k++) {
				size_t l = strlen(tags[k]);

				ok |= !strncmp(t, tags[k], l) && strchr(" >/", t[l]);
			}
			if (!ok)
				abort();
		}
		i += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result_limits lim = RESULT_LIMITS_DEFAULT;
	struct result_file rf;
	struct compare c;
	struct strbuf sb = { 0 };
	char err[1024];
	int ret;

	lim.records = 64;
	if (result_file_parse(&rf, "f.json", (const char *)data, size, &lim, err, sizeof(err)))
		return 0;
	ret = compare_run(&c, &rf, &rf, NULL, 0, err, sizeof(err));
	if (!ret) {
		json_object *o;

		if (c.regressions)
			abort();
		if (compare_render_json(&sb, &c, &rf, &rf) || !sb.buf)
			abort();
		if (sb_append(&sb, "", 1))
			abort();
		o = json_tokener_parse(sb.buf);
		if (!o)
			abort();
		json_object_put(o);
		sb_free(&sb);
	} else if (ret != -EINVAL) {
		abort();
	}
	compare_free(&c);
	/* NUL-terminated, so a '<' at the end is looked past safely. */
	if (html_render(&sb, &rf) || sb_append(&sb, "", 1))
		abort();
	sb.len--;
	check_html(&sb);
	sb_free(&sb);
	result_file_free(&rf);
	return 0;
}
