/* Payload metrics (orchestrator/payload_metric.h): what the host reads from
 * a run's output (the last match, numbers, bounds, what the guest may send
 * past the bounds), how it judges a test with them, expect_failure on top,
 * and what the report, JUnit and JSON say. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/payload.h>

#include "expect.h"
#include "helpers.h"
#include "jsonl_record.h"
#include "junit.h"
#include "payload_metric.h"
#include "report.h"
#include "runner.h"
#include "vmres.h"

/* One compiled metric, as the parser leaves it. */
static void metric(struct payload_metric *m, const char *pattern)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->name, "time_s");
	m->pattern = strdup(pattern);
	cr_assert_eq(regcomp(&m->re, pattern, REG_EXTENDED | REG_NEWLINE), 0, "%s", pattern);
	cr_assert_eq(m->re.re_nsub, 1);
}

static void unmetric(struct payload_metric *m)
{
	regfree(&m->re);
	free(m->pattern);
}

static struct payload_metric_value extract(const char *pattern, const char *out, size_t len)
{
	struct payload_metric m;
	struct payload_metric_value v;

	metric(&m, pattern);
	payload_metric_extract(&m, out, len, &v);
	unmetric(&m);
	return v;
}

#define TIME "^Time: ([0-9.]+)"
#define X(pattern, out) extract(pattern, out, strlen(out))

Test(payload_metric, the_last_match_wins)
{
	struct payload_metric_value v =
		X(TIME, "Running in process mode\nTime: 1.5\nnoise\nTime: 2.25\nafter\n");

	cr_assert_eq(v.status, PM_OK);
	cr_assert_eq(v.value, 2.25);
	cr_assert_str_eq(v.name, "time_s");
	/* Within one line, its last match. */
	v = X("t=([0-9]+)", "t=1 t=2\nt=3 t=4 x");
	cr_assert_eq(v.status, PM_OK);
	cr_assert_eq(v.value, 4);
	/* No trailing newline, CRLF endings, the first line only. */
	cr_assert_eq(X(TIME, "Time: 7").value, 7);
	cr_assert_eq(X("^Time: ([0-9.]+)\r?$", "Time: 3\r\nTime: 8\r\n").value, 8);
}

Test(payload_metric, anchors_see_lines_not_where_a_search_resumed)
{
	/* '^' never matches after an earlier match on the same line. */
	cr_assert_eq(X("^(a)", "aa").status, PM_NOT_A_NUMBER); /* matched, 'a' is no number */
	cr_assert_eq(X("(^[0-9])", "12").value, 1);
	cr_assert_eq(X(TIME, "xTime: 1\n").status, PM_NO_MATCH);
	cr_assert_eq(X("([0-9]+)$", "1 2\n3 4\nfoo").value, 4);
}

Test(payload_metric, empty_or_unmatched_output_is_no_match)
{
	cr_assert_eq(X(TIME, "").status, PM_NO_MATCH);
	cr_assert_eq(extract(TIME, NULL, 0).status, PM_NO_MATCH);
	cr_assert_eq(X(TIME, "\n\n\n").status, PM_NO_MATCH);
	cr_assert_eq(X(TIME, "time: 1\n").status, PM_NO_MATCH);
}

Test(payload_metric, a_group_that_is_not_a_whole_finite_number_is_refused)
{
	struct payload_metric_value v = X(TIME, "Time: 1.2.3\n");

	cr_assert_eq(v.status, PM_NOT_A_NUMBER);
	cr_assert_str_eq(v.text, "1.2.3");
	cr_assert_eq(X("^Time: (.*)$", "Time: inf\n").status, PM_NOT_A_NUMBER);
	cr_assert_eq(X("^Time: (.*)$", "Time: -INFINITY\n").status, PM_NOT_A_NUMBER);
	cr_assert_eq(X("^Time: (.*)$", "Time: nan\n").status, PM_NOT_A_NUMBER);
	cr_assert_eq(X("^Time: (.*)$", "Time: 1e999\n").status, PM_NOT_A_NUMBER); /* overflows */
	cr_assert_eq(X("^Time: (.*)$", "Time: \n").status, PM_NOT_A_NUMBER);
	cr_assert_eq(X("^Time: (.*)$", "Time: 12abc\n").status, PM_NOT_A_NUMBER);
	/* A group that took no part in the match. */
	cr_assert_eq(X("(x)?Time", "Time\n").status, PM_NOT_A_NUMBER);
	/* What strtod reads whole, and finite, is a number. */
	cr_assert_eq(X("^Time: (.*)$", "Time: -1e3\n").value, -1000);
	cr_assert_eq(X("^Time: (.*)$", "Time: 0x10\n").value, 16);
}

Test(payload_metric, a_capture_longer_than_a_number_is_cut_in_the_message)
{
	char out[201] = { 0 };
	struct payload_metric_value v;

	memset(out, '1', 200);
	memcpy(out, "Time: ", 6);
	v = extract(TIME, out, 200);
	cr_assert_eq(v.status, PM_NOT_A_NUMBER);
	cr_assert_eq(strlen(v.text), PAYLOAD_METRIC_NUMBER_MAX);
	cr_assert_str_eq(v.text + PAYLOAD_METRIC_NUMBER_MAX - 4, "1...");
	/* PAYLOAD_METRIC_NUMBER_MAX digits are still a number. */
	v = extract(TIME, out, 6 + PAYLOAD_METRIC_NUMBER_MAX);
	cr_assert_eq(v.status, PM_OK);
}

Test(payload_metric, bytes_that_are_not_text_stay_out_of_messages)
{
	static const char out[] = "Time: 1\0002\x01\xff\n";
	/* '.' never matches a NUL (glibc's POSIX syntax); "[^a]" does. */
	struct payload_metric_value v = extract("^Time: ([^a]*)$", out, sizeof(out) - 1);

	cr_assert_eq(v.status, PM_NOT_A_NUMBER); /* a NUL inside is not "1" */
	cr_assert_str_eq(v.text, "1?2??");
}

Test(payload_metric, bounds_fail_past_min_and_max_and_hold_at_them)
{
	struct payload_metric m;
	struct payload_metric_value v;
	char d[160];

	metric(&m, TIME);
	m.has_min = m.has_max = true;
	m.min = 0.5;
	m.max = 30;
	payload_metric_extract(&m, "Time: 31.2\n", 11, &v);
	cr_assert_eq(v.status, PM_ABOVE_MAX);
	cr_assert_eq(v.value, 31.2);
	payload_metric_describe(&v, d, sizeof(d));
	cr_assert_str_eq(d, "time_s 31.2 > max 30");
	payload_metric_extract(&m, "Time: 0.25\n", 11, &v);
	cr_assert_eq(v.status, PM_BELOW_MIN);
	payload_metric_describe(&v, d, sizeof(d));
	cr_assert_str_eq(d, "time_s 0.25 < min 0.5");
	payload_metric_extract(&m, "Time: 30\n", 9, &v);
	cr_assert_eq(v.status, PM_OK);
	payload_metric_extract(&m, "Time: 0.5\n", 10, &v);
	cr_assert_eq(v.status, PM_OK);
	payload_metric_describe(&v, d, sizeof(d));
	cr_assert_str_eq(d, "time_s=0.5");
	unmetric(&m);
}

/* The guest decides what it sends: only the last KTSTR_PAYLOAD_TAIL_BYTES
 * are searched, and of each line its first PAYLOAD_METRIC_LINE_MAX bytes. */
Test(payload_metric, only_the_tail_and_the_head_of_each_line_are_searched)
{
	size_t len = KTSTR_PAYLOAD_TAIL_BYTES + 100;
	char *out = calloc(1, len + 1);

	memset(out, '\n', len);
	memcpy(out, "Time: 1\n", 8);
	cr_assert_eq(extract(TIME, out, len).status, PM_NO_MATCH, "before the tail");
	memcpy(out + 100, "Time: 2\n", 8);
	cr_assert_eq(extract(TIME, out, len).value, 2, "the tail's first line");
	free(out);

	out = calloc(1, 4097);
	memset(out, 'a', 4096);
	memcpy(out + PAYLOAD_METRIC_LINE_MAX - 7, "t=1 t=2", 7);
	memcpy(out + PAYLOAD_METRIC_LINE_MAX + 10, "t=9", 3);
	cr_assert_eq(extract("t=([0-9])", out, 4096).value, 2, "past the line's head");
	/* '$' does not match where the line was cut. */
	cr_assert_eq(extract("t=([0-9])$", out, PAYLOAD_METRIC_LINE_MAX).value, 2);
	cr_assert_eq(extract("t=([0-9])$", out, PAYLOAD_METRIC_LINE_MAX + 1).status, PM_NO_MATCH);
	free(out);
}

Test(payload_metric, patterns_are_refused_where_matching_time_is_not_bounded)
{
	cr_assert_null(payload_metric_pattern_why(TIME));
	cr_assert_not_null(payload_metric_pattern_why("a\n(b)"));
	cr_assert_not_null(payload_metric_pattern_why("(a)\\1"));
	cr_assert_null(payload_metric_pattern_why("(a)\\\\1"));	/* a '\' then '1' */
	cr_assert_null(payload_metric_pattern_why("([\\1])"));	/* '\' and '1' in a bracket */
	cr_assert_null(payload_metric_pattern_why("([]{}[:digit:]{]{9})"));
	/* The bound itself: 8 * 8 = 64 copies, one more is refused. */
	cr_assert_null(payload_metric_pattern_why("(a{8}){8}"));
	cr_assert_not_null(payload_metric_pattern_why("(a{8}){9}"));
	cr_assert_not_null(payload_metric_pattern_why("(x{1,256}){1,256}"));
	cr_assert_not_null(payload_metric_pattern_why("(x{,9}){,8}"), "{,n} is {0,n}");
	cr_assert_null(payload_metric_pattern_why("([0-9]{1,64})"));
	cr_assert_not_null(payload_metric_pattern_why("a{2,300}{300}(b)"));
	cr_assert_not_null(payload_metric_pattern_why("(a{99999999999999999999})"));
	cr_assert_null(payload_metric_pattern_why("(a{0}){64}"));
	cr_assert_null(payload_metric_pattern_why("\\{999999}(a)"));	/* a literal '{' */
}

Test(payload_metric, numbers_are_written_to_read_back)
{
	char b[32];

	payload_metric_num(0.1, b, sizeof(b));
	cr_assert_str_eq(b, "0.1");
	payload_metric_num(30, b, sizeof(b));
	cr_assert_str_eq(b, "30");
	payload_metric_num(1.0 / 3, b, sizeof(b));
	cr_assert_eq(strtod(b, NULL), 1.0 / 3);
	payload_metric_num(-1e300, b, sizeof(b));
	cr_assert_str_eq(b, "-1e+300");
}

/* ---- judging a test, and what the reports say ---- */

static const char metric_suite[] =
	"payloads:\n"
	"  sh:\n"
	"    path: /bin/sh\n"
	"    metrics:\n"
	"      - {name: time_s, pattern: \"^Time: ([0-9.]+)\", max: 30}\n"
	"      - {name: rate, pattern: \"rate=([0-9]+)\"}\n"
	"  plain: {path: /bin/sh}\n"
	"tests:\n"
	"  - name: t\n"
	"  - name: x\n"
	"    expect_failure: {verdict: FAIL, detail_any: [\"metric time_s 31\"], why: known slow}\n";

static Ktstr__PayloadResult run(const char *name, const char *output, bool judged)
{
	Ktstr__PayloadResult p = KTSTR__PAYLOAD_RESULT__INIT;

	p.name = (char *)name;
	p.output = (char *)output;
	p.has_judged = 1;
	p.judged = judged;
	p.has_exit_status = 1;
	return p;
}

/* A verdict from a guest result with runs (all PASSED unless failed). */
static void judged(struct verdict *v, Ktstr__PayloadResult *runs, size_t n, bool failed)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;
	Ktstr__PayloadResult *pr[8];

	for (size_t i = 0; i < n; i++)
		pr[i] = &runs[i];
	tr.status = failed ? KTSTR__TEST_RESULT__STATUS__FAILED : KTSTR__TEST_RESULT__STATUS__PASSED;
	tr.detail = failed ? "payload sh: exit 1, expected 0" : NULL;
	tr.n_payloads = n;
	tr.payloads = pr;
	vmres_add_pid1_result(r, &tr);
	cr_assert_eq(verdict_from_result(r, NULL, v), 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(payload_metric, judged_runs_fill_values_and_a_pass_stays_a_pass)
{
	struct suite *s = parse_ok(metric_suite);
	Ktstr__PayloadResult runs[] = {
		run("sh", "Time: 1.5\nrate=10\n", true),
		run("plain", "Time: 99\n", true),	   /* declares no metrics */
		run("sh", "nothing\n", false),		   /* unjudged: killed */
		run("sh", "Time: 2\nrate=7 rate=8\n", true),
	};
	struct verdict v;

	judged(&v, runs, 4, false);
	cr_assert_eq(payload_metrics_judge(s, &v), 0);
	cr_assert_eq(v.kind, V_PASS);
	cr_assert_eq(v.nmetrics, 4);
	cr_assert_eq(v.metrics[0].run, 0);
	cr_assert_eq(v.metrics[0].value, 1.5);
	cr_assert_eq(v.metrics[1].value, 10);
	cr_assert_eq(v.metrics[2].run, 3);
	cr_assert_eq(v.metrics[2].value, 2);
	cr_assert_eq(v.metrics[3].value, 8);
	verdict_free(&v);
	suite_free(s);
}

/* The guest's result with runs, judged with s's metrics: FAIL with detail. */
static void judged_fails(const struct suite *s, Ktstr__PayloadResult *runs, size_t n, bool failed,
			 const char *detail)
{
	struct verdict v;

	judged(&v, runs, n, failed);
	cr_assert_eq(payload_metrics_judge(s, &v), 0);
	cr_assert_eq(v.kind, V_FAIL);
	cr_assert_str_eq(v.detail, detail);
	verdict_free(&v);
}

Test(payload_metric, a_metric_failure_fails_the_test_with_its_message)
{
	struct suite *s = parse_ok(metric_suite);
	Ktstr__PayloadResult over[] = { run("sh", "Time: 31.2\nrate=1\n", true) };
	Ktstr__PayloadResult none[] = { run("sh", "rate=1\n", true),
					run("sh", "Time: x\n", true) };

	judged_fails(s, over, 1, false, "payload sh: metric time_s 31.2 > max 30");
	/* Three failures: the first, and how many more. */
	judged_fails(s, none, 2, false, "payload sh: metric time_s: no match of \"^Time: ([0-9.]+)\" "
					 "in its output (and 2 more)");
	/* A test that failed already keeps its reason first. */
	judged_fails(s, over, 1, true, "checks failed: payload sh: exit 1, expected 0; payload sh: "
				       "metric time_s 31.2 > max 30");
	suite_free(s);
}

Test(payload_metric, a_worse_verdict_keeps_its_detail_and_skips_read_nothing)
{
	struct suite *s = parse_ok(metric_suite);
	Ktstr__PayloadResult over[] = { run("sh", "Time: 31.2\n", true) };
	struct verdict v;

	judged(&v, over, 1, false);
	v.kind = V_SCHED_DIED;
	cr_assert_eq(payload_metrics_judge(s, &v), 0);
	cr_assert_eq(v.kind, V_SCHED_DIED);
	cr_assert_str_eq(v.detail, "passed");
	cr_assert_eq(v.nmetrics, 2, "still read, for the report");
	verdict_free(&v);

	/* No guest result: nothing to read. */
	verdict_from_result(NULL, "worker died", &v);
	cr_assert_eq(payload_metrics_judge(s, &v), 0);
	cr_assert_eq(v.kind, V_INFRA);
	cr_assert_eq(v.nmetrics, 0);
	verdict_free(&v);
	suite_free(s);
}

Test(payload_metric, expect_failure_matches_a_metric_failure)
{
	struct suite *s = parse_ok(metric_suite);
	Ktstr__PayloadResult over[] = { run("sh", "Time: 31.2\nrate=1\n", true) };
	Ktstr__PayloadResult fine[] = { run("sh", "Time: 3\nrate=1\n", true) };
	struct verdict v;

	judged(&v, over, 1, false);
	cr_assert_eq(payload_metrics_judge(s, &v), 0);
	cr_assert_eq(expect_apply(&s->tests[1].xfail, &v), 0);
	cr_assert_eq(v.kind, V_XFAIL, "%s", v.detail);
	verdict_free(&v);
	/* Fast enough: the bug may be fixed. */
	judged(&v, fine, 1, false);
	cr_assert_eq(payload_metrics_judge(s, &v), 0);
	cr_assert_eq(expect_apply(&s->tests[1].xfail, &v), 0);
	cr_assert_eq(v.kind, V_XPASS);
	verdict_free(&v);
	suite_free(s);
}

Test(payload_metric, reports_print_every_value_in_one_format)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct suite *s = parse_ok(metric_suite);
	Ktstr__PayloadResult runs[] = { run("sh", "Time: 31.25\nrate=7\n", true),
					run("plain", "x\n", true),
					run("sh", "rate=9\n", true) };
	struct test_record rec = { .vidx = 0, .attempts = 1, .wall_ms = 1000,
				   .builder_sandboxed = 1, .builder_landlock = 1 };
	struct strbuf sb = { 0 };
	struct plan p;
	char err[256], *text = NULL;
	size_t tlen = 0;
	FILE *f;

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	strcpy(rec.engine, "qemu-tcg");
	judged(&rec.verdict, runs, 3, false);
	cr_assert_eq(payload_metrics_judge(s, &rec.verdict), 0);

	cr_assert_eq(json_render(&sb, s, &p, &rec, 1, NULL), 0);
	cr_assert(strstr(sb.buf, "{\"name\":\"sh\",\"exit_status\":0,\"output\":\"Time: "
				 "31.25\\nrate=7\\n\",\"judged\":true,\"metrics\":{\"time_s\":31.25,"
				 "\"rate\":7}},{\"name\":\"plain\",\"exit_status\":0,\"output\":\"x\\n\","
				 "\"judged\":true},{\"name\":\"sh\",\"exit_status\":0,\"output\":"
				 "\"rate=9\\n\",\"judged\":true,\"metrics\":{\"time_s\":null,\"rate\":9}}]"),
		  "%s", sb.buf);
	sb_free(&sb);

	cr_assert_eq(junit_render(&sb, s, &p, &rec, 1, NULL), 0);
	cr_assert(strstr(sb.buf, "<property name=\"payload.sh.time_s\" value=\"31.25\"/>\n"
				 "        <property name=\"payload.sh.rate\" value=\"7\"/>\n"
				 "        <property name=\"payload.sh#2.time_s\" value=\"none\"/>\n"
				 "        <property name=\"payload.sh#2.rate\" value=\"9\"/>\n"
				 "      </properties>"),
		  "%s", sb.buf);
	sb_free(&sb);

	f = open_memstream(&text, &tlen);
	report_test_line(f, s, &p, &rec);
	report_failure(f, s, &p, &rec);
	fclose(f);
	cr_assert(strstr(text, "FAIL  t  (qemu-tcg, 1.0s, sh time_s 31.25 > max 30, rate=7, sh "
			       "time_s: no match, rate=9) FAIL: payload sh: metric time_s 31.25 > "
			       "max 30 (and 1 more)\n"),
		  "%s", text);
	cr_assert(strstr(text, "--- payload sh ---\n  exit 0 (expected exit 0), 0 ms, foreground, "
			       "step 0, 0 bytes of output\n  metrics: time_s 31.25 > max 30, rate=7\n"),
		  "%s", text);
	cr_assert(strstr(text, "--- payload plain ---\n  exit 0 (expected exit 0), 0 ms, foreground, "
			       "step 0, 0 bytes of output\n  | x\n"),
		  "%s", text);
	cr_assert(strstr(text, "  metrics: time_s: no match, rate=9\n"), "%s", text);
	free(text);
	verdict_free(&rec.verdict);
	plan_free(&p);
	suite_free(s);
}
