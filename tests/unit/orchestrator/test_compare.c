/* `ktstr-orch compare`'s pieces: the dual gate (both thresholds, each
 * direction), --gate parsing (NaN / inf / negative refused), matching two
 * result files by full variant name, outcome changes, missing metrics,
 * metadata, and every bound of the result-file reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "compare.h"
#include "helpers.h"

static const struct result_limits lim = RESULT_LIMITS_DEFAULT;

static void rparse_ok(struct result_file *rf, const char *path, const char *json)
{
	char err[512] = "";

	cr_assert_eq(result_file_parse(rf, path, json, strlen(json), &lim, err, sizeof(err)), 0,
		     "%s", err);
}

/* A record: name, verdict, one worker's max gap, two cgroups' work. */
static char *rec(char *buf, size_t len, const char *name, const char *verdict, const char *gap,
		 unsigned cg0, unsigned cg1)
{
	snprintf(buf, len,
		 "{\"name\":\"%s\",\"verdict\":\"%s\",\"metrics\":{\"workers\":[{\"tid\":1,"
		 "\"max_gap_ms\":%s}],\"cgroups\":[{\"name\":\"cg0\",\"total_work_units\":%u},"
		 "{\"name\":\"cg1\",\"total_work_units\":%u}]}}",
		 name, verdict, gap, cg0, cg1);
	return buf;
}

static const struct cmp_item *find(const struct compare *c, enum cmp_kind k, const char *test,
				   const char *metric)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->it[i].kind == k && !strcmp(c->it[i].test, test) &&
		    (!metric || !strcmp(c->it[i].metric, metric)))
			return &c->it[i];
	return NULL;
}

Test(gate, regression_needs_both_thresholds)
{
	double wa, wr;

	/* 100 -> 140: +40 (> 30) and +40 % (> 25 %). */
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 30, 25, 100, 140, &wa, &wr), G_REGRESSION);
	cr_assert_float_eq(wa, 40, 1e-9);
	cr_assert_float_eq(wr, 40, 1e-9);
	/* Past the absolute threshold only: 1000 -> 1040 is +4 %. */
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 30, 25, 1000, 1040, &wa, &wr), G_WORSE);
	/* Past the relative threshold only: 10 -> 20 is +100 % but +10. */
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 30, 25, 10, 20, &wa, &wr), G_WORSE);
	/* Exactly at a threshold is not past it. */
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 40, 25, 100, 140, &wa, &wr), G_WORSE);
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 30, 40, 100, 140, &wa, &wr), G_WORSE);
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 30, 25, 100, 100, &wa, &wr), G_SAME);
}

Test(gate, direction)
{
	double wa, wr;

	/* Latency: lower is better, so a drop is better. */
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 0, 0, 100, 10, &wa, &wr), G_BETTER);
	cr_assert(wa < 0);
	/* Throughput: a drop is the regression, a rise is better. */
	cr_assert_eq(gate_judge(MD_HIGHER_BETTER, 5, 10, 100, 50, &wa, &wr), G_REGRESSION);
	cr_assert_eq(gate_judge(MD_HIGHER_BETTER, 5, 10, 100, 500, &wa, &wr), G_BETTER);
	/* A share: either way. */
	cr_assert_eq(gate_judge(MD_EITHER, 5, 20, 50, 20, &wa, &wr), G_REGRESSION);
	cr_assert_eq(gate_judge(MD_EITHER, 5, 20, 50, 80, &wa, &wr), G_REGRESSION);
	cr_assert_eq(gate_judge(MD_EITHER, 5, 20, 50, 52, &wa, &wr), G_WORSE);
	/* Not gated: said changed, never a regression. */
	cr_assert_eq(gate_judge(MD_NONE, 0, 0, 1, 1000, &wa, &wr), G_CHANGED);
}

Test(gate, from_zero_is_infinitely_worse_relatively)
{
	double wa, wr;

	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 0, 0, 0, 1, &wa, &wr), G_REGRESSION);
	cr_assert(isinf(wr) && wr > 0);
	cr_assert_eq(gate_judge(MD_LOWER_BETTER, 2, 0, 0, 1, &wa, &wr), G_WORSE);
}

Test(gate, parse)
{
	struct metric_gate g;
	char why[256];

	cr_assert_eq(metric_gate_parse("max_gap_ms=20,10%", &g, why, sizeof(why)), 0, "%s", why);
	cr_assert_str_eq(g.metric, "max_gap_ms");
	cr_assert_float_eq(g.abs, 20, 1e-9);
	cr_assert_float_eq(g.rel_pct, 10, 1e-9);
	cr_assert_eq(g.dir, MD_NONE);
	cr_assert_eq(metric_gate_parse("share_pct[cg0]=1.5,2.5%", &g, why, sizeof(why)), 0);
	cr_assert_eq(metric_gate_parse("payload.hackbench.time_s=0.1,5%,lower", &g, why,
				       sizeof(why)), 0, "%s", why);
	cr_assert_eq(g.dir, MD_LOWER_BETTER);
	cr_assert_eq(metric_gate_parse("payload.fio.iops=10,5%,higher", &g, why, sizeof(why)), 0);
	cr_assert_eq(g.dir, MD_HIGHER_BETTER);
	/* A payload metric has no table direction: the gate must say. */
	cr_assert_eq(metric_gate_parse("payload.fio.iops=10,5%", &g, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "higher"), "%s", why);
	static const char *const bad[] = {
		"max_gap_ms=nan,10%", "max_gap_ms=10,inf%", "max_gap_ms=infinity,1%",
		"max_gap_ms=-1,10%", "max_gap_ms=1,-10%", "max_gap_ms=10,10", "max_gap_ms=10",
		"max_gap_ms", "=1,1%", "no_such_metric=1,1%", "max_gap_ms=1,1%,sideways",
		"max_gap_ms=1e999,1%", "max_gap_ms=0x10,1%", "max_gap_ms=,1%",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(metric_gate_parse(bad[i], &g, why, sizeof(why)), -EINVAL, "%s accepted",
			     bad[i]);
}

Test(compare, matches_by_full_name_and_reports_each_side)
{
	struct result_file a, b;
	struct compare c;
	char err[512], r1[512], r2[512], r3[512], r4[512], ja[2048], jb[2048];

	/* The same test on two kernels: different variants, never matched. */
	snprintf(ja, sizeof(ja), "[%s,%s,%s]", rec(r1, 512, "t/k=7.2", "PASS", "10", 50, 50),
		 rec(r2, 512, "t/k=6.12", "PASS", "10", 50, 50),
		 rec(r3, 512, "gone", "PASS", "10", 50, 50));
	snprintf(jb, sizeof(jb), "[%s,%s,%s]", rec(r1, 512, "new", "PASS", "10", 50, 50),
		 rec(r2, 512, "t/k=7.2", "FAIL", "10", 50, 50),
		 rec(r4, 512, "t/k=6.12", "PASS", "10", 50, 50));
	rparse_ok(&a, "a.json", ja);
	rparse_ok(&b, "b.json", jb);
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.matched, 2);
	cr_assert_not_null(find(&c, CK_ONLY_A, "gone", NULL));
	cr_assert_not_null(find(&c, CK_ONLY_B, "new", NULL));
	const struct cmp_item *o = find(&c, CK_OUTCOME, "t/k=7.2", NULL);
	cr_assert_not_null(o);
	cr_assert(o->regression);
	cr_assert_str_eq(o->va, "PASS");
	cr_assert_str_eq(o->vb, "FAIL");
	cr_assert_null(find(&c, CK_OUTCOME, "t/k=6.12", NULL));
	cr_assert_eq(c.regressions, 1);
	compare_free(&c);
	/* The other way round a fix is not a regression. */
	cr_assert_eq(compare_run(&c, &b, &a, NULL, 0, err, sizeof(err)), 0, "%s", err);
	o = find(&c, CK_OUTCOME, "t/k=7.2", NULL);
	cr_assert(o && !o->regression);
	cr_assert_eq(c.regressions, 0);
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
}

Test(compare, metric_gates_and_overrides)
{
	struct result_file a, b;
	struct compare c;
	struct metric_gate g[1];
	char err[512], r1[512], r2[512], ja[600], jb[600], why[256];

	/* max_gap 100 -> 200 (+100 ms, +100 %): past 50 ms and 25 %. Shares
	 * 50/50 -> 52/48: within 5 points. */
	snprintf(ja, sizeof(ja), "[%s]", rec(r1, 512, "t", "PASS", "100", 50, 50));
	snprintf(jb, sizeof(jb), "[%s]", rec(r2, 512, "t", "PASS", "200", 52, 48));
	rparse_ok(&a, "a.json", ja);
	rparse_ok(&b, "b.json", jb);
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), 0, "%s", err);
	const struct cmp_item *m = find(&c, CK_METRIC, "t", "max_gap_ms");
	cr_assert(m && m->regression && m->g == G_REGRESSION);
	cr_assert_float_eq(m->a, 100, 1e-9);
	cr_assert_float_eq(m->b, 200, 1e-9);
	m = find(&c, CK_METRIC, "t", "share_pct[cg0]");
	cr_assert(m && !m->regression && m->g == G_WORSE);
	cr_assert_eq(c.regressions, 1);
	compare_free(&c);
	/* --gate max_gap_ms=150,10%: +100 ms is within 150. */
	cr_assert_eq(metric_gate_parse("max_gap_ms=150,10%", &g[0], why, sizeof(why)), 0);
	cr_assert_eq(compare_run(&c, &a, &b, g, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.regressions, 0);
	compare_free(&c);
	/* A key's gate: share_pct[cg0]=1,1% makes 50 -> 52 a regression. */
	cr_assert_eq(metric_gate_parse("share_pct[cg0]=1,1%", &g[0], why, sizeof(why)), 0);
	cr_assert_eq(compare_run(&c, &a, &b, g, 1, err, sizeof(err)), 0, "%s", err);
	m = find(&c, CK_METRIC, "t", "share_pct[cg0]");
	cr_assert(m && m->regression);
	m = find(&c, CK_METRIC, "t", "share_pct[cg1]");
	cr_assert(m && !m->regression, "the family's default still holds for cg1");
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
}

Test(compare, missing_metric_is_reported_not_a_regression)
{
	struct result_file a, b;
	struct compare c;
	char err[512];

	rparse_ok(&a, "a.json", "[{\"name\":\"t\",\"verdict\":\"PASS\",\"vm\":{\"monitor\":"
			       "{\"worst_imbalance_ratio\":2}}}]");
	rparse_ok(&b, "b.json", "[{\"name\":\"t\",\"verdict\":\"PASS\",\"metrics\":{\"workers\":"
			       "[{\"max_gap_ms\":5}]}}]");
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(find(&c, CK_MISSING_B, "t", "imbalance_ratio"));
	cr_assert_not_null(find(&c, CK_MISSING_A, "t", "max_gap_ms"));
	cr_assert_eq(c.regressions, 0);
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
}

Test(compare, payload_metrics_gated_only_with_a_direction)
{
	struct result_file a, b;
	struct compare c;
	struct metric_gate g;
	char err[512], why[256];

	rparse_ok(&a, "a.json", "[{\"name\":\"t\",\"verdict\":\"PASS\",\"metrics\":{\"payloads\":"
			       "[{\"name\":\"hb\",\"metrics\":{\"time_s\":1.0,\"gone\":null}}]}}]");
	rparse_ok(&b, "b.json", "[{\"name\":\"t\",\"verdict\":\"PASS\",\"metrics\":{\"payloads\":"
			       "[{\"name\":\"hb\",\"metrics\":{\"time_s\":2.0}}]}}]");
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), 0, "%s", err);
	const struct cmp_item *m = find(&c, CK_METRIC, "t", "payload.hb.time_s");
	cr_assert(m && m->g == G_CHANGED && !m->regression);
	compare_free(&c);
	cr_assert_eq(metric_gate_parse("payload.hb.time_s=0.5,20%,lower", &g, why, sizeof(why)), 0);
	cr_assert_eq(compare_run(&c, &a, &b, &g, 1, err, sizeof(err)), 0, "%s", err);
	m = find(&c, CK_METRIC, "t", "payload.hb.time_s");
	cr_assert(m && m->regression);
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
}

Test(compare, non_finite_metric_refused)
{
	struct result_file a, b;
	struct compare c;
	char err[512] = "";

	/* json-c reads NaN and Infinity literals: a file may hold them. */
	rparse_ok(&a, "a.json", "[{\"name\":\"t\",\"verdict\":\"PASS\",\"vm\":{\"monitor\":"
			       "{\"worst_imbalance_ratio\":NaN}}}]");
	rparse_ok(&b, "b.json", "[{\"name\":\"t\",\"verdict\":\"PASS\",\"metrics\":{\"workers\":"
			       "[{\"max_gap_ms\":Infinity}]}}]");
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "a.json") && strstr(err, "imbalance_ratio") &&
		  strstr(err, "not a finite number"), "%s", err);
	compare_free(&c);
	cr_assert_eq(compare_run(&c, &b, &b, NULL, 0, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "max_gap_ms"), "%s", err);
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
}

Test(compare, unknown_verdict_refused)
{
	struct result_file a;
	struct compare c;
	char err[512] = "";

	rparse_ok(&a, "a.json", "[{\"name\":\"t\",\"verdict\":\"GREAT\"}]");
	cr_assert_eq(compare_run(&c, &a, &a, NULL, 0, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "verdict"), "%s", err);
	compare_free(&c);
	result_file_free(&a);
}

Test(compare, metadata_differences_printed_and_absence_tolerated)
{
	struct result_file a, b, plain;
	struct compare c;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	/* Both layouts a file may have: an object around the records, and a
	 * header element in the array. */
	rparse_ok(&a, "a.json", "{\"schema\":1,\"run\":{\"tool_version\":\"0.1\",\"host\":\"h1\"},"
			       "\"records\":[{\"name\":\"t\",\"verdict\":\"PASS\"}]}");
	rparse_ok(&b, "b.json", "[{\"schema\":1,\"run\":{\"tool_version\":\"0.2\",\"host\":\"h1\"}},"
			       "{\"name\":\"t\",\"verdict\":\"PASS\"}]");
	rparse_ok(&plain, "p.json", "[{\"name\":\"t\",\"verdict\":\"PASS\"}]");
	cr_assert_eq(a.nmeta, 3);
	cr_assert_eq(b.nmeta, 3);
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), 0, "%s", err);
	f = open_memstream(&text, &len);
	compare_print(f, &c, &a, &b, false);
	fclose(f);
	cr_assert(strstr(text, "meta  run.tool_version: 0.1 -> 0.2\n"), "%s", text);
	cr_assert_null(strstr(text, "run.host"), "%s", text);
	free(text);
	compare_free(&c);
	cr_assert_eq(compare_run(&c, &a, &plain, NULL, 0, err, sizeof(err)), 0, "%s", err);
	f = open_memstream(&text, &len);
	compare_print(f, &c, &a, &plain, false);
	fclose(f);
	cr_assert_null(strstr(text, "meta"), "%s", text);
	cr_assert(strstr(text, "1 matched, 0 only in A, 0 only in B, 0 outcome changes, "
			       "0 regressions\n"), "%s", text);
	free(text);
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
	result_file_free(&plain);
}

static int rparse_err(const char *json, const struct result_limits *l, char *err, size_t len)
{
	struct result_file rf;
	int ret = result_file_parse(&rf, "x.json", json, strlen(json), l, err, len);

	if (!ret)
		result_file_free(&rf);
	return ret;
}

Test(read, refusals_name_the_file_and_position)
{
	char err[512];

	cr_assert_eq(rparse_err("[\n  {\"name\":\"t\",\n  \"verdict\": PASS}]", &lim, err,
			       sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "x.json:3:") && strstr(err, "not JSON"), "%s", err);
	cr_assert_eq(rparse_err("[]\n]", &lim, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "x.json:2:1") && strstr(err, "after"), "%s", err);
	cr_assert_eq(rparse_err("[{\"name\":\"t\"", &lim, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "ends inside"), "%s", err);
	cr_assert_eq(rparse_err("42", &lim, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rparse_err("[1]", &lim, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "element 0"), "%s", err);
	cr_assert_eq(rparse_err("[{\"name\":\"a\\u0000b\"}]", &lim, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rparse_err("[{\"name\":7}]", &lim, err, sizeof(err)), -EINVAL);
	cr_assert_eq(rparse_err("[{\"name\":\"t\"},{\"name\":\"u\"},{\"name\":\"t\"}]", &lim, err,
			       sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "'t' is reported twice (elements 0 and 2)"), "%s", err);
}

Test(read, bounds)
{
	struct result_limits l = { 64, 2, 8, 2 };
	struct result_file rf;
	char err[512], big[200];

	memset(big, ' ', sizeof(big) - 1);
	big[0] = '[';
	big[sizeof(big) - 2] = ']';
	big[sizeof(big) - 1] = 0;
	cr_assert_eq(rparse_err(big, &l, err, sizeof(err)), -EFBIG);
	cr_assert(strstr(err, "more than the 64"), "%s", err);
	cr_assert_eq(rparse_err("[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]", &l, err,
			       sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "more than 2 test records"), "%s", err);
	cr_assert_eq(rparse_err("[{\"name\":\"123456789\"}]", &l, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "1..8 bytes"), "%s", err);
	/* Nesting past RESULT_JSON_DEPTH. */
	{
		char deep[300];
		size_t i;

		strcpy(deep, "[{\"name\":\"t\",\"x\":");
		for (i = strlen(deep); i < 250; i++)
			deep[i] = '[';
		deep[i] = 0;
		cr_assert_eq(rparse_err(deep, &lim, err, sizeof(err)), -EINVAL);
		cr_assert(strstr(err, "not JSON"), "%s", err);
	}
	/* Metadata past its bound is counted, not kept. */
	static const char meta3[] = "{\"a\":1,\"b\":2,\"c\":3,\"records\":[]}";
	cr_assert_eq(result_file_parse(&rf, "m.json", meta3, strlen(meta3), &l, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(rf.nmeta, 2);
	cr_assert_eq(rf.meta_omitted, 1);
	result_file_free(&rf);
}

Test(read, file_errors_tell_unreadable_from_bad)
{
	struct result_file rf;
	char err[512], path[] = "/tmp/ktstr-cmp-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(result_file_read(&rf, "/nonexistent/ktstr/a.json", &lim, err, sizeof(err)),
		     -ENOENT);
	cr_assert(!result_read_bad_content(-ENOENT));
	cr_assert(strstr(err, "/nonexistent/ktstr/a.json: cannot open"), "%s", err);
	cr_assert_eq(result_file_read(&rf, "/tmp", &lim, err, sizeof(err)), -EISDIR);
	cr_assert_eq(write(fd, "[}", 2), 2);
	close(fd);
	cr_assert_eq(result_file_read(&rf, path, &lim, err, sizeof(err)), -EINVAL);
	cr_assert(result_read_bad_content(-EINVAL));
	cr_assert(strstr(err, path), "%s", err);
	/* Past the byte bound by its size alone: never read. */
	cr_assert_eq(truncate(path, (off_t)lim.bytes + 1), 0);
	cr_assert_eq(result_file_read(&rf, path, &lim, err, sizeof(err)), -EFBIG);
	cr_assert(result_read_bad_content(-EFBIG));
	unlink(path);
}

/* docs/reports.md's table of metrics is the code's, row for row: name,
 * unit, direction and both default thresholds. */
Test(compare_doc, table_matches_code)
{
	char path[1024], *doc = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/docs/reports.md", test_srcdir());
	cr_assert_eq(read_file(path, &doc, &len, 1 << 20), 0, "%s", path);
	for (size_t i = 0; i < compare_nmetrics; i++) {
		const struct metric_def *d = &compare_metrics[i];
		static const char *const dirs[] = { "lower", "higher", "either", "(none)" };
		char row[256];

		if (d->dir == MD_NONE)
			snprintf(row, sizeof(row), "| `%s` | | (none) | | |", d->name);
		else
			snprintf(row, sizeof(row), "| `%s` | %s | %s | %g | %g |", d->name, d->unit,
				 dirs[d->dir], d->abs, d->rel_pct);
		cr_assert(strstr(doc, row), "docs/reports.md lacks the row '%s'", row);
	}
	/* And no row the code does not have. */
	size_t rows = 0;
	for (const char *p = doc; (p = strstr(p, "\n| `")); p++) {
		const char *end = strchr(p + 4, '`');
		char name[64];

		if (!end || end - p - 4 >= (long)sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 4), p + 4);
		if (metric_def_find(name))
			rows++;
	}
	cr_assert_eq(rows, compare_nmetrics);
	free(doc);
}

/* Names, metric keys and metadata come from the files: printed without
 * their control bytes (a terminal escape, a forged line). */
Test(compare, text_from_the_files_is_cleaned)
{
	struct result_file a, b;
	struct compare c;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	rparse_ok(&a, "a.json", "[{\"host\":\"h\\u001b[2J\"},{\"name\":\"t\\u001b]0;x\\u0007\","
				"\"verdict\":\"PASS\",\"metrics\":{\"cgroups\":[{\"name\":\"c\\ng\","
				"\"total_work_units\":1}]}}]");
	rparse_ok(&b, "b.json", "[{\"host\":\"h2\"},{\"name\":\"t\\u001b]0;x\\u0007\","
				"\"verdict\":\"FAIL\",\"metrics\":{\"cgroups\":[{\"name\":\"c\\ng\","
				"\"total_work_units\":1}]}}]");
	cr_assert_eq(compare_run(&c, &a, &b, NULL, 0, err, sizeof(err)), 0, "%s", err);
	f = open_memstream(&text, &len);
	compare_print(f, &c, &a, &b, true);
	fclose(f);
	cr_assert_null(strchr(text, '\x1b'), "%s", text);
	cr_assert_null(strchr(text, '\x07'), "%s", text);
	cr_assert(strstr(text, "share_pct[c g]"), "%s", text);
	cr_assert(strstr(text, "REGRESSION  t ]0;x   PASS -> FAIL\n"), "%s", text);
	free(text);
	compare_free(&c);
	result_file_free(&a);
	result_file_free(&b);
}

/* A JSON Lines stream (an object a line, written as tests end): its header
 * line is metadata, its other lines records; a killed run's stream reads
 * up to its last whole line. */
Test(read, json_lines)
{
	struct result_file rf;
	char err[512];

	rparse_ok(&rf, "s.jsonl", "{\"schema\":1,\"tool_version\":\"0.2\"}\n"
				  "{\"name\":\"t\",\"verdict\":\"PASS\"}\n"
				  "{\"name\":\"u\",\"verdict\":\"FAIL\"}\n");
	cr_assert_eq(rf.nrec, 2);
	cr_assert_eq(rf.nmeta, 2);
	cr_assert_str_eq(rf.meta[1].key, "tool_version");
	cr_assert_geq(result_find(&rf, "u"), 0);
	result_file_free(&rf);
	cr_assert_eq(rparse_err("{\"name\":\"t\",\"verdict\":\"PASS\"}\n[1]\n", &lim, err,
				sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "x.json:2:1") && strstr(err, "one object a line"), "%s", err);
	/* Cut inside its last line: the lines before it, and where it was cut. */
	rparse_ok(&rf, "k.jsonl", "{\"name\":\"t\",\"verdict\":\"PASS\"}\n{\"name\":\"u\",\"ver");
	cr_assert_eq(rf.nrec, 1);
	cr_assert_eq(rf.cut_line, 2);
	result_file_free(&rf);
	/* One value cut short is no stream: refused. */
	cr_assert_eq(rparse_err("[{\"name\":\"u\",\"ver", &lim, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "ends inside a value"), "%s", err);
	cr_assert_eq(rparse_err("[]\n{}", &lim, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "text after the JSON value"), "%s", err);
	/* Lines count toward the record bound. */
	{
		struct result_limits l = { 1 << 20, 2, 64, 8 };
		struct strbuf sb = { 0 };

		for (int i = 0; i < 40; i++)
			cr_assert_eq(sb_printf(&sb, "{\"name\":\"t%d\"}\n", i), 0);
		cr_assert_eq(sb_append(&sb, "", 1), 0);
		cr_assert_eq(rparse_err(sb.buf, &l, err, sizeof(err)), -E2BIG);
		sb_free(&sb);
	}
}
