/* `ktstr-orch merge` over shard files written here: plan order, missing
 * and duplicate shards, plans that differ, every bound. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "shard_merge.h"

static char dir[] = "/tmp/ktstr-merge-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* A shard file: records (each a JSON object's text), then the element. */
static const char *shard_file(const char *name, const char *records, const char *info)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "[\n%s%s  {\"ktstr_shard\":%s}\n]\n", records, records[0] ? ",\n" : "", info);
	fclose(f);
	return p;
}

#define REC(n, v) "  {\"name\":\"" n "\",\"scheduler\":\"eevdf\",\"verdict\":\"" v "\",\"wall_ms\":1500}"
#define INFO(k, n, assigned, pos)                                                                  \
	"{\"index\":" #k ",\"total\":" #n ",\"source\":\"t\",\"suite\":\"s.yaml\","                 \
	"\"plan\":\"00112233445566ff\",\"variants\":6,\"selected\":5,\"assigned\":" #assigned \
	",\"positions\":" pos "}"

struct out {
	struct merge m;
	struct strbuf json;
	int rc;
	char log[8192];
};

static void run_merge(struct out *o, const struct merge_limits *lim, uint32_t expect,
		      const char *const *files, size_t n)
{
	FILE *log = fmemopen(o->log, sizeof(o->log) - 1, "w");
	FILE *null = fopen("/dev/null", "w");

	memset(o->log, 0, sizeof(o->log));
	merge_init(&o->m, lim, expect, log);
	for (size_t i = 0; i < n; i++)
		if (merge_add_file(&o->m, files[i]))
			break;
	cr_assert_eq(merge_finish(&o->m), 0);
	o->json = (struct strbuf){ 0 };
	cr_assert_eq(merge_render_json(&o->m, &o->json), 0);
	o->rc = merge_summary(&o->m, null);
	fclose(log);
	fclose(null);
}

static void done(struct out *o)
{
	sb_free(&o->json);
	merge_free(&o->m);
}

static const struct merge_limits deflim = MERGE_LIMITS_DEFAULT;

/* Merge files, expect exit status rc and, when want, want in the log. */
static void expect_merge(const struct merge_limits *lim, uint32_t expect, const char *const *files,
			 size_t n, int rc, const char *want)
{
	struct out o;

	run_merge(&o, lim, expect, files, n);
	cr_assert_eq(o.rc, rc, "exit %d, not %d: %s", o.rc, rc, o.log);
	if (want)
		cr_assert(strstr(o.log, want), "'%s' not in: %s", want, o.log);
	done(&o);
}

TestSuite(shard_merge, .init = setup, .fini = teardown);

Test(shard_merge, records_come_back_in_plan_order_as_one_array)
{
	const char *f[2] = {
		shard_file("b.json", REC("c", "PASS") ",\n" REC("e", "SKIP"), INFO(2, 2, 2, "[2,5]")),
		shard_file("a.json", REC("a", "PASS") ",\n" REC("b", "PASS") ",\n" REC("d", "XFAIL"),
			   INFO(1, 2, 3, "[0,1,3]")),
	};
	struct out o;

	run_merge(&o, &deflim, 2, f, 2);
	cr_assert_str_eq(o.json.buf, "[\n" REC("a", "PASS") ",\n" REC("b", "PASS") ",\n"
				     REC("c", "PASS") ",\n" REC("d", "XFAIL") ",\n"
				     REC("e", "SKIP") "\n]\n");
	cr_assert_eq(o.rc, 0, "all passed: %s", o.log);
	cr_assert_str_eq(o.log, "");
	done(&o);
}

/* What json-c reads must come out as ktstr wrote it: 64-bit counters above
 * INT64_MAX, doubles as written, escapes. */
Test(shard_merge, values_pass_through_unchanged)
{
	const char *rec = "  {\"name\":\"x\",\"verdict\":\"FAIL\",\"metrics\":{\"max\":"
			  "18446744073709551615,\"r\":0.30000000000000004,\"e\":1e-05},"
			  "\"detail\":\"a/b \\\"q\\\" \\u0001 \\u00e9\",\"n\":null,\"l\":[]}";
	const char *f[1] = { shard_file("a.json", rec, INFO(1, 1, 1, "[4]")) };
	struct out o;

	run_merge(&o, &deflim, 0, f, 1);
	/* json-c writes U+00E9 as UTF-8, not as an escape: the same JSON. */
	cr_assert(strstr(o.json.buf, "18446744073709551615,\"r\":0.30000000000000004,\"e\":1e-05}"),
		  "%s", o.json.buf);
	cr_assert(strstr(o.json.buf, "\"a/b \\\"q\\\" \\u0001 \xc3\xa9\""), "%s", o.json.buf);
	cr_assert_eq(o.rc, 1, "a failure is exit 1");
	done(&o);
}

Test(shard_merge, a_missing_shard_is_an_infrastructure_error_with_a_record)
{
	const char *f[1] = { shard_file("a.json", REC("a", "PASS"), INFO(1, 3, 2, "[0]")) };
	struct out o;

	run_merge(&o, &deflim, 0, f, 1);
	cr_assert_eq(o.rc, 3);
	cr_assert(strstr(o.log, "shard 2 of 3 missing: no file given carries it"), "%s", o.log);
	cr_assert(strstr(o.log, "shard 3 of 3 missing"), "%s", o.log);
	cr_assert(strstr(o.log, "3 of the 5 selected variants were in the missing shards"), "%s",
		  o.log);
	cr_assert(strstr(o.json.buf, "{\"name\":\"ktstr-shard/2-of-3\",\"verdict\":\"INFRA_ERROR\""),
		  "%s", o.json.buf);
	done(&o);
	/* A file that does not exist is named, and its shard is missing. */
	f[0] = "/nonexistent/shard.json";
	run_merge(&o, &deflim, 2, f, 1);
	cr_assert_eq(o.rc, 3);
	cr_assert(strstr(o.log, "/nonexistent/shard.json: cannot read it: No such file"), "%s", o.log);
	cr_assert(strstr(o.log, "shard 1 of 2 missing"), "%s", o.log);
	done(&o);
}

Test(shard_merge, an_empty_shard_reports_and_is_not_missing)
{
	const char *f[2] = { shard_file("a.json", REC("a", "PASS"), INFO(1, 2, 1, "[0]")),
			     shard_file("b.json", "", INFO(2, 2, 0, "[]")) };
	struct out o;

	run_merge(&o, &deflim, 0, f, 2);
	cr_assert_eq(o.rc, 0, "%s", o.log);
	cr_assert_str_eq(o.json.buf, "[\n" REC("a", "PASS") "\n]\n");
	done(&o);
}

Test(shard_merge, shards_that_overlap_or_disagree_are_refused_by_name)
{
	const char *a = shard_file("a.json", REC("a", "PASS"), INFO(1, 2, 1, "[0]"));
	const char *f[2];
	struct out o;

	f[0] = a;
	f[1] = shard_file("a2.json", REC("a", "PASS"), INFO(1, 2, 1, "[0]"));
	expect_merge(&deflim, 0, f, 2, 3, "shard 1 of 2 is given twice: ");
	f[1] = shard_file("b.json", REC("a", "PASS"), INFO(2, 2, 1, "[1]"));
	run_merge(&o, &deflim, 0, f, 2);
	cr_assert_eq(o.rc, 3);
	cr_assert(strstr(o.log, "test 'a' is reported twice"), "%s", o.log);
	cr_assert_str_eq(o.json.buf, "[\n" REC("a", "PASS") "\n]\n", "merged once");
	done(&o);
	f[1] = shard_file("c.json", REC("b", "PASS"),
			  "{\"index\":2,\"total\":2,\"source\":\"t\",\"suite\":\"s.yaml\","
			  "\"plan\":\"ffffffffffffffff\",\"variants\":6,\"selected\":5,"
			  "\"assigned\":1,\"positions\":[1]}");
	run_merge(&o, &deflim, 0, f, 2);
	cr_assert_eq(o.rc, 3);
	cr_assert(strstr(o.log, "the shards ran different suites or options"), "%s", o.log);
	cr_assert(strstr(o.log, "shard 2 of 2 missing"), "%s", o.log);
	done(&o);
	f[1] = shard_file("d.json", REC("b", "PASS"), INFO(2, 2, 1, "[1]"));
	expect_merge(&deflim, 3, f, 2, 3, "it is shard 1 of 2, not of 3 (--expect-shards)");
	expect_merge(&deflim, 2, f, 2, 0, NULL);
}

/* Each line: the file's text, what the log must say. */
static const char *const bad_files[][2] = {
	{ "not json", "not JSON" },
	{ "[] x", "not JSON: text after the array" },
	{ "{}", "not a JSON array of records" },
	{ "[]", "an empty array" },
	{ "[{\"name\":\"a\",\"verdict\":\"PASS\"}]", "no \"ktstr_shard\" element" },
	{ "[{\"name\":\"a\",\"verdict\":\"MAYBE\"}," "{\"ktstr_shard\":" INFO(1, 1, 1, "[0]") "}]",
	  "no known verdict" },
	{ "[{\"name\":\"a\\u0000b\",\"verdict\":\"PASS\"}," "{\"ktstr_shard\":" INFO(1, 1, 1, "[0]") "}]",
	  "has no name" },
	{ "[{\"verdict\":\"PASS\"}," "{\"ktstr_shard\":" INFO(1, 1, 1, "[0]") "}]", "has no name" },
	{ "[{\"name\":\"a\",\"verdict\":\"PASS\"}," "{\"ktstr_shard\":" INFO(1, 1, 1, "[6]") "}]",
	  "not a rising plan index below 6" },
	{ "[" REC("a", "PASS") "," REC("b", "PASS") ",{\"ktstr_shard\":" INFO(1, 1, 2, "[3,3]") "}]",
	  "not a rising plan index" },
	{ "[" REC("a", "PASS") ",{\"ktstr_shard\":" INFO(1, 1, 1, "[0,1]") "}]", "1 records but 2 positions" },
	{ "[" REC("a", "PASS") "," REC("b", "PASS") ",{\"ktstr_shard\":" INFO(1, 1, 1, "[0,1]") "}]",
	  "2 records but 2 positions and 1 variants assigned" },
	{ "[{\"ktstr_shard\":" INFO(3, 2, 0, "[]") "}]", "out of range" },
	{ "[{\"ktstr_shard\":" INFO(1, 100001, 0, "[]") "}]", "out of range" },
	{ "[{\"ktstr_shard\":{\"index\":1,\"total\":1}}]", "lacks a field" },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"
	  "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "not JSON: nesting too deep" },
};

Test(shard_merge, a_file_that_is_not_a_shard_file_is_refused_saying_why)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		char path[256];
		const char *f[1] = { path };
		struct out o;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/bad%zu.json", dir, i);
		fp = fopen(path, "w");
		fputs(bad_files[i][0], fp);
		fclose(fp);
		run_merge(&o, &deflim, 0, f, 1);
		cr_assert_eq(o.rc, 3, "%s", bad_files[i][0]);
		cr_assert(strstr(o.log, path) && strstr(o.log, bad_files[i][1]),
			  "file %zu: '%s' not in: %s", i, bad_files[i][1], o.log);
		cr_assert(strstr(o.log, "no shard file could be merged"), "%s", o.log);
		done(&o);
	}
}

Test(shard_merge, every_bound_is_enforced_at_its_edge)
{
	const char *a = shard_file("a.json", REC("a", "PASS") ",\n" REC("b", "PASS"),
				   INFO(1, 2, 2, "[0,1]"));
	const char *b = shard_file("b.json", REC("c", "PASS"), INFO(2, 2, 1, "[2]"));
	const char *f[3] = { a, b, "/dev/null" };
	struct merge_limits lim = deflim;
	long size;
	FILE *fp = fopen(a, "r");

	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	/* One file of exactly the limit merges; one byte less refuses it. */
	lim.file_bytes = (size_t)size;
	expect_merge(&lim, 0, f, 2, 0, NULL);
	lim.file_bytes = (size_t)size - 1;
	expect_merge(&lim, 0, f, 2, 3, "larger than the limit for one file");
	/* Records in all: 3 fit in 3, not in 2. */
	lim = deflim;
	lim.records = 3;
	expect_merge(&lim, 0, f, 2, 0, NULL);
	lim.records = 2;
	expect_merge(&lim, 0, f, 2, 3, "its 1 records pass the 2 the merge takes in all");
	/* Files: 2 of 2; a third is refused before it is opened. */
	lim = deflim;
	lim.files = 2;
	expect_merge(&lim, 0, f, 2, 0, NULL);
	expect_merge(&lim, 0, f, 3, 3, "/dev/null: more than 2 files: merge them in groups");
	/* Not a regular file: never read (a FIFO would block). */
	f[0] = "/dev/null";
	expect_merge(&deflim, 0, f, 1, 3, "/dev/null: cannot read it: not a regular file");
}

Test(shard_merge, an_infrastructure_error_in_a_record_is_exit_3)
{
	const char *f[1] = { shard_file("a.json", REC("a", "INFRA_ERROR"), INFO(1, 1, 1, "[0]")) };
	struct out o;

	run_merge(&o, &deflim, 0, f, 1);
	cr_assert_str_eq(o.log, "", "nothing wrong with the merge itself");
	cr_assert_eq(o.rc, 3, "but the record's verdict is");
	done(&o);
}

/* What a record carries for JUnit comes from another host: each text and
 * the property count are bounded before the JUnit writer sees them. */
Test(shard_merge, junit_texts_from_a_record_are_bounded)
{
	struct strbuf rec = { 0 }, xml = { 0 };
	const char *f[1];
	struct out o;
	size_t props = 0;

	cr_assert_eq(sb_printf(&rec, "  {\"name\":\"x\",\"verdict\":\"FAIL\",\"line\":7,\"report\":\""),
		     0);
	for (size_t i = 0; i < MERGE_REPORT_MAX + 1; i++)
		cr_assert_eq(sb_append(&rec, "r", 1), 0);
	cr_assert_eq(sb_printf(&rec, "\",\"console_tail\":\""), 0);
	for (size_t i = 0; i < MERGE_OUT_MAX + 1; i++)
		cr_assert_eq(sb_append(&rec, "c", 1), 0);
	cr_assert_eq(sb_printf(&rec, "\",\"earlier_attempts\":["), 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(sb_printf(&rec, "%s{\"verdict\":\"FAIL\",\"detail\":\"try %d\"}",
				       i ? "," : "", i), 0);
	cr_assert_eq(sb_printf(&rec, "],\"properties\":{"), 0);
	for (unsigned i = 0; i < MERGE_PROPS_MAX + 100; i++)
		cr_assert_eq(sb_printf(&rec, "%s\"p%u\":\"v\"", i ? "," : "", i), 0);
	cr_assert_eq(sb_printf(&rec, "}}"), 0);
	f[0] = shard_file("a.json", rec.buf, INFO(1, 1, 1, "[4]"));
	run_merge(&o, &deflim, 0, f, 1);
	cr_assert_eq(merge_render_junit(&o.m, &xml), 0);
	for (const char *p = xml.buf; (p = strstr(p, "<property name=\"p")); p++)
		props++;
	cr_assert_eq(props, MERGE_PROPS_MAX, "%zu properties", props);
	cr_assert_null(strstr(xml.buf, "rrrrrrrr"), "an over-long report was written");
	cr_assert_null(strstr(xml.buf, "<system-out>"), "an over-long console tail was written");
	cr_assert(strstr(xml.buf, "line=\"7\""));
	/* RECORD_NOTES_MAX earlier attempts, no more. */
	cr_assert(strstr(xml.buf, "message=\"try 7\""));
	cr_assert_null(strstr(xml.buf, "message=\"try 8\""));
	sb_free(&xml);
	sb_free(&rec);
	done(&o);
}

/* Shards whose assigned counts add up to more than the plan selected (each
 * within bounds, together a forgery): the count of variants in the missing
 * shard is 0, not a wrapped 2^64 - 1. */
Test(shard_merge, assigned_counts_past_the_selection_do_not_wrap)
{
	const char *f[2] = {
		shard_file("a.json", REC("a", "PASS") ",\n" REC("b", "PASS") ",\n" REC("c", "PASS"),
			   INFO(1, 3, 3, "[0,1,2]")),
		shard_file("b.json", REC("d", "PASS") ",\n" REC("e", "PASS") ",\n" REC("f", "PASS"),
			   INFO(2, 3, 3, "[3,4,5]")),
	};
	struct out o;

	run_merge(&o, &deflim, 0, f, 2);
	cr_assert_eq(o.rc, 3, "%s", o.log);
	cr_assert(strstr(o.log, "shard 3 of 3 missing"), "%s", o.log);
	cr_assert(strstr(o.log, "0 of the 5 selected variants were in the missing shards"), "%s",
		  o.log);
	done(&o);
}

/* The merged JUnit names the guest architecture the shards' run metadata
 * name (docs/results.md), each once; shards from before it name none. */
Test(shard_merge, the_merged_junit_names_the_shards_architecture)
{
	const char *f[2];
	struct strbuf xml = { 0 };
	struct out o;

	f[0] = shard_file("a.json",
			  "  {\"name\":\"x\",\"verdict\":\"PASS\",\"run\":{\"arch\":\"arm64\"}}",
			  INFO(1, 2, 1, "[0]"));
	f[1] = shard_file("b.json",
			  "  {\"name\":\"y\",\"verdict\":\"PASS\",\"run\":{\"arch\":\"arm64\"}}",
			  INFO(2, 2, 1, "[1]"));
	run_merge(&o, &deflim, 0, f, 2);
	cr_assert_eq(o.rc, 0, "%s", o.log);
	cr_assert_eq(merge_render_junit(&o.m, &xml), 0);
	cr_assert(strstr(xml.buf, "<property name=\"ktstr.arch\" value=\"arm64\"/>"), "%s", xml.buf);
	sb_free(&xml);
	done(&o);

	f[0] = shard_file("c.json", REC("x", "PASS"), INFO(1, 1, 1, "[0]"));
	run_merge(&o, &deflim, 0, f, 1);
	cr_assert_eq(merge_render_junit(&o.m, &xml), 0);
	cr_assert_null(strstr(xml.buf, "ktstr.arch"), "%s", xml.buf);
	sb_free(&xml);
	done(&o);
}
