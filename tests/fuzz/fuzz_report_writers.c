/* libFuzzer target for the report writers' escaping: any bytes a guest
 * prints go through xml_escape (JUnit), json_str (JSON), the --jsonl test
 * line (as a verdict's detail, a console tail and an earlier attempt's
 * detail) and the GitHub Actions escaping. The output must be strict UTF-8
 * (include/ktstr/utf8.h), every XML character must be one XML 1.0 allows
 * with no raw '<' or '&' outside an entity, the JSON string must be a
 * well-formed JSON string literal, the JSONL line exactly one line that
 * json-c parses as an object holding the bytes' detail, and a GitHub
 * property no raw CR, LF, ':' or ',' and a '%' only as %XX. abort()
 * otherwise. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/utf8.h"
#include "ktstr/util.h"
#include <json-c/json.h>

#include "gha.h"
#include "json_pb.h"
#include "jsonl.h"
#include "junit.h"
#include "plan.h"
#include "suite.h"

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
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#13;" };

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

/* One suite and plan for every input: the record's bytes are what vary. */
static struct suite *g_suite;
static struct plan g_plan;

static void setup(void)
{
	static const char text[] = "tests:\n  - {name: t}\n";
	struct plan_opts o = { .host = { .cpus = 8, .llcs = 1, .max_cpus_per_llc = 8,
					 .max_vcpus = 8 },
			       .kernel_scx = 1 };
	char err[256];

	if (g_suite)
		return;
	if (suite_parse("fuzz.yaml", text, sizeof(text) - 1, &g_suite, err, sizeof(err)) ||
	    plan_build(g_suite, &o, &g_plan, err, sizeof(err)) || !g_plan.n)
		abort();
}

static void check_jsonl(const uint8_t *data, size_t size)
{
	Ktstr__VmResult vm = KTSTR__VM_RESULT__INIT;
	struct test_record r = { 0 };
	struct attempt_note note = { 0 };
	struct strbuf sb = { 0 };
	json_object *o;
	bool only_eol = true;
	char *detail = malloc(size + 1);

	if (!detail)
		abort();
	/* A detail is a C string: the bytes up to the first NUL. */
	memcpy(detail, data, size);
	detail[size] = '\0';
	setup();
	vm.has_console_tail = 1;
	vm.console_tail.data = (uint8_t *)data;
	vm.console_tail.len = size;
	r.vm = &vm;
	r.attempts = 2;
	r.verdict.kind = V_FAIL;
	r.verdict.detail = detail;
	note.kind = V_INFRA;
	note.detail = detail;
	note.report = detail;
	note.report_len = strlen(detail);
	r.notes = &note;
	r.nnotes = 1;
	if (jsonl_test_line(&sb, g_suite, &g_plan, &r))
		abort();
	all_utf8(&sb);
	if (!sb.len || sb.buf[sb.len - 1] != '\n' || memchr(sb.buf, '\n', sb.len - 1))
		abort();
	o = json_tokener_parse(sb.buf);
	/* The console reaches the line (NULs included) unless it holds
	 * nothing but line ends. */
	for (size_t i = 0; i < size; i++)
		only_eol &= data[i] == '\r' || data[i] == '\n';
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "detail", NULL) ||
	    (!only_eol && !json_object_object_get_ex(o, "console_tail", NULL)))
		abort();
	json_object_put(o);
	sb_free(&sb);
	free(detail);
}

static void check_gha(const uint8_t *data, size_t size)
{
	struct strbuf sb = { 0 };

	if (gha_escape_prop(&sb, (const char *)data, size))
		abort();
	all_utf8(&sb);
	for (size_t i = 0; i < sb.len; i++) {
		if (strchr("\r\n:,", sb.buf[i]) && sb.buf[i])
			abort();
		if (sb.buf[i] == '%' && (i + 2 >= sb.len || !strchr("0123456789ABCDEF", sb.buf[i + 1]) ||
					 !strchr("0123456789ABCDEF", sb.buf[i + 2]) ||
					 !sb.buf[i + 1] || !sb.buf[i + 2]))
			abort();
	}
	sb_free(&sb);
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
	check_jsonl(data, size);
	check_gha(data, size);
	return 0;
}
