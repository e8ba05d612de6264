/* expect_failure: a known bug's test stays green while the bug is there
 * (XFAIL), turns red when it is fixed (XPASS) or when the test fails some
 * other way, and every report says which. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "helpers.h"
#include "junit.h"
#include "record.h"
#include "report.h"

static const char *xf_suite =
	"tests:\n"
	"  - name: known\n"
	"    expect_failure:\n"
	"      verdict: SCHED_DIED\n"
	"      detail_any: [\"runnable task stall\", \"RCU CPU stall\"]\n"
	"      why: \"upstream lost wake-up\"\n";

static struct verdict mk(enum verdict_kind k, const char *detail)
{
	struct verdict v = { .kind = k, .detail = detail ? strdup(detail) : NULL };

	return v;
}

Test(expect, parses_and_names_its_errors)
{
	struct suite *s = parse_ok(xf_suite);
	const struct expect_failure *x = &s->tests[0].xfail;

	cr_assert(x->set);
	cr_assert_eq(x->verdict, V_SCHED_DIED);
	cr_assert_eq(x->detail_any.n, 2);
	cr_assert_str_eq(x->why, "upstream lost wake-up");
	suite_free(s);
	cr_assert(strstr(parse_err("tests:\n  - name: a\n    expect_failure: {why: x}\n"),
			 "test.yaml:3:21: expect_failure needs 'verdict'"),
		  "%s", parse_err("tests:\n  - name: a\n    expect_failure: {why: x}\n"));
	cr_assert(strstr(parse_err("tests:\n  - name: a\n    expect_failure: {verdict: PASS, why: x}\n"),
			 "expect_failure.verdict 'PASS' is not a failure"));
	cr_assert(strstr(parse_err("tests:\n  - name: a\n"
				   "    expect_failure: {verdict: INFRA_ERROR, why: x}\n"),
			 "is not a failure a test can be expected to end with"));
	cr_assert(strstr(parse_err("tests:\n  - name: a\n    expect_failure: {verdict: FAIL}\n"),
			 "expect_failure needs 'why'"));
	cr_assert(strstr(parse_err("tests:\n  - name: a\n"
				   "    expect_failure: {verdict: FAIL, why: x, bogus: 1}\n"),
			 "unknown key 'bogus' in expect_failure"));
	cr_assert(strstr(parse_err("tests:\n  - name: a\n    expect_failure: FAIL\n"),
			 "expect_failure"));
}

Test(expect, the_expected_failure_becomes_xfail_and_anything_else_stays_visible)
{
	struct suite *s = parse_ok(xf_suite);
	const struct expect_failure *x = &s->tests[0].xfail;
	struct verdict v;

	v = mk(V_SCHED_DIED, "BPF scheduler \"userland\" disabled (runnable task stall)");
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_XFAIL);
	cr_assert(strstr(v.detail, "expected SCHED_DIED (upstream lost wake-up)") &&
		  strstr(v.detail, "runnable task stall"), "%s", v.detail);
	cr_assert_not(verdict_is_failure(v.kind));
	verdict_free(&v);

	/* the right verdict for another reason: a different bug, shown */
	v = mk(V_SCHED_DIED, "disabled (runtime error); out of memory");
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_SCHED_DIED);
	cr_assert(strstr(v.detail, "out of memory [expected SCHED_DIED"), "%s", v.detail);
	verdict_free(&v);

	v = mk(V_FAIL, "tid 5 starved");
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_FAIL);
	cr_assert(strstr(v.detail, "tid 5 starved [expected"), "%s", v.detail);
	verdict_free(&v);

	v = mk(V_PASS, NULL);
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_XPASS);
	cr_assert(verdict_is_failure(v.kind), "a stale expectation fails the run");
	cr_assert(strstr(v.detail, "remove expect_failure"), "%s", v.detail);
	verdict_free(&v);

	v = mk(V_INFRA, "worker crashed");
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_INFRA, "infrastructure errors are never the expected answer");
	cr_assert_str_eq(v.detail, "worker crashed");
	verdict_free(&v);
	suite_free(s);
}

/* intermittent: a race some runs miss. Its failure is XFAIL, a pass stays
 * PASS (not XPASS), any other failure still fails. */
Test(expect, an_intermittent_bug_lets_a_pass_stay_a_pass)
{
	struct suite *s = parse_ok("tests:\n"
				   "  - name: racy\n"
				   "    expect_failure:\n"
				   "      verdict: SCHED_DIED\n"
				   "      detail_any: [\"runnable task stall\"]\n"
				   "      why: \"upstream race\"\n"
				   "      intermittent: true\n");
	const struct expect_failure *x = &s->tests[0].xfail;
	struct verdict v;

	cr_assert(x->intermittent);
	v = mk(V_PASS, NULL);
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_PASS, "the race did not strike: a plain pass");
	verdict_free(&v);
	v = mk(V_SCHED_DIED, "disabled (runnable task stall)");
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_XFAIL);
	verdict_free(&v);
	v = mk(V_FAIL, "unfair cgroup: spread=90%");
	cr_assert_eq(expect_apply(x, &v), 0);
	cr_assert_eq(v.kind, V_FAIL, "another failure is never hidden");
	verdict_free(&v);
	suite_free(s);
	cr_assert(strstr(parse_err("tests:\n  - name: a\n"
				   "    expect_failure: {verdict: FAIL, why: x, intermittent: maybe}\n"),
			 "expect_failure.intermittent"),
		  "%s", parse_err("tests:\n  - name: a\n"
				  "    expect_failure: {verdict: FAIL, why: x, intermittent: maybe}\n"));
}

Test(expect, totals_summary_and_exit_code)
{
	struct test_record r[3];
	struct run_totals t;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(r, 0, sizeof(r));
	r[0].verdict.kind = V_PASS;
	r[1].verdict.kind = V_XFAIL;
	r[2].verdict.kind = V_SKIP;
	records_totals(r, 3, &t);
	cr_assert_eq(t.passed, 1);
	cr_assert_eq(t.xfailed, 1);
	cr_assert_eq(t.failed, 0);
	cr_assert_eq(records_exit_code(&t), 0);
	f = open_memstream(&text, &len);
	report_summary(f, &t);
	fclose(f);
	cr_assert_str_eq(text, "1 passed, 0 failed, 1 skipped, 1 expected failure\n");
	free(text);
	r[1].verdict.kind = V_XPASS;
	records_totals(r, 3, &t);
	cr_assert_eq(t.failed, 1);
	cr_assert_eq(records_exit_code(&t), 1);
	cr_assert_str_eq(verdict_name(V_XFAIL), "XFAIL");
	cr_assert_str_eq(verdict_name(V_XPASS), "XPASS");
}
