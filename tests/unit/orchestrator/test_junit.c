/* JUnit XML must be valid (xmllint) whatever the guest printed; the JSON
 * file has one record per test with the engine and the metrics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_backend.h"
#include "helpers.h"
#include "jsonl_record.h"
#include "junit.h"
#include "report.h"
#include "runner.h"
#include "vmres.h"

static void make_records(struct suite **s, struct plan *p, struct test_record **recs, size_t *n)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16, .max_vcpus = 64 },
			       .kernel_scx = 1 };
	char err[256];

	*s = parse_ok("tests:\n  - {name: ok}\n  - {name: bad}\n  - {name: infra}\n"
		      "  - {name: big, topology: \"1,8,8,2\"}\n");
	/* Test names are plain by schema; the suite path is not. */
	free((*s)->path);
	(*s)->path = strdup("suites/a<&>\"b'.yaml");
	cr_assert_eq(plan_build(*s, &o, p, err, sizeof(err)), 0);
	*n = 4;
	*recs = calloc(4, sizeof(**recs));
	for (size_t i = 0; i < 4; i++) {
		(*recs)[i].vidx = i;
		(*recs)[i].attempts = 1;
		(*recs)[i].wall_ms = 1234;
		strcpy((*recs)[i].engine, "qemu-tcg");
	}
	{
		Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
		Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;

		tr.status = KTSTR__TEST_RESULT__STATUS__PASSED;
		tr.has_guest_cpus = 1;
		tr.guest_cpus = 2;
		vmres_add_pid1_result(r, &tr);
		verdict_from_result(r, NULL, &(*recs)[0].verdict);
		(*recs)[0].vm = r;
	}
	{
		Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
		Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;
		Ktstr__CheckFailure cf = KTSTR__CHECK_FAILURE__INIT;
		Ktstr__CheckFailure *cfs[1] = { &cf };

		tr.status = KTSTR__TEST_RESULT__STATUS__FAILED;
		cf.check = "spread";
		cf.message = "unfair cgroup: spread=42% <&> \"quoted\" \x01\x02 bad byte \xff";
		cf.has_limit = 1;
		cf.limit = 15;
		tr.n_failures = 1;
		tr.failures = cfs;
		tr.scheduler_log_tail = "sched: ]]> CDATA breaker\n";
		vmres_add_pid1_result(r, &tr);
		vmres_set_console(r, "console \x1b[31mred\x1b[0m and \x07 bell\n");
		verdict_from_result(r, NULL, &(*recs)[1].verdict);
		(*recs)[1].vm = r;
	}
	verdict_from_result(NULL, "VM worker failed: garbage frame", &(*recs)[2].verdict);
	(*recs)[3].attempts = 0;
	(*recs)[3].verdict.kind = V_SKIP;
	(*recs)[3].verdict.detail = strdup("needs 128 CPUs; host has 64");
}

static int run_xmllint(const char *path)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execlp("xmllint", "xmllint", "--noout", path, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(junit, output_is_valid_xml_with_failures_errors_and_skips)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n;
	struct strbuf sb = { 0 };
	char path[] = "/tmp/ktstr-junit-XXXXXX";
	int fd = mkstemp(path);

	make_records(&s, &p, &recs, &n);
	cr_assert_eq(junit_render(&sb, s, &p, recs, n, NULL), 0);
	cr_assert_eq(write_full(fd, sb.buf, sb.len), 0);
	close(fd);
	cr_assert_eq(run_xmllint(path), 0, "xmllint rejected:\n%s", sb.buf);
	cr_assert(strstr(sb.buf, "tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""), "%s", sb.buf);
	cr_assert(strstr(sb.buf, "name=\"suites/a&lt;&amp;&gt;&quot;b&apos;.yaml\""), "%s", sb.buf);
	cr_assert(strstr(sb.buf, "<skipped message=\"needs 128 CPUs; host has 64\""));
	cr_assert(strstr(sb.buf, "<error message=\"VM worker failed: garbage frame\""));
	unlink(path);
	sb_free(&sb);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

Test(junit, json_has_one_record_per_test_with_engine_and_metrics)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n;
	struct strbuf sb = { 0 };
	char path[] = "/tmp/ktstr-json-XXXXXX";
	int fd = mkstemp(path);
	char cmd[256];

	make_records(&s, &p, &recs, &n);
	cr_assert_eq(json_render(&sb, s, &p, recs, n, NULL), 0);
	cr_assert_eq(write_full(fd, sb.buf, sb.len), 0);
	close(fd);
	/* python3 is part of the base system here; json.tool validates. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(\"%s\")); "
		 "assert len(d)==4; assert d[0][\"engine\"]==\"qemu-tcg\"; "
		 "assert d[0][\"metrics\"][\"guest_cpus\"]==2; "
		 "assert d[1][\"verdict\"]==\"FAIL\"; assert d[3][\"skipped\"]'",
		 path);
	cr_assert_eq(system(cmd), 0, "JSON invalid or incomplete:\n%s", sb.buf);
	unlink(path);
	sb_free(&sb);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

/* Bytes a hostile guest can print (its scheduler log, COM2, the console):
 * UTF-16 surrogates, U+FFFE/U+FFFF, overlong forms, stray continuation
 * bytes, C0 controls. Were passed through: xmllint and Python rejected the
 * files. Every one is replaced, the rest kept. */
static const char hostile_bytes[] = "ok \xED\xA0\x80 sur \xEF\xBF\xBE fffe \xEF\xBF\xBF ffff "
				    "\xC0\xAF overlong \xE0\x80\xAF \x80 \xFF \x01\x1b[0m "
				    "\xF4\x90\x80\x80 big \xE2\x82\xAC euro\n";

Test(junit, reports_stay_valid_whatever_bytes_the_guest_prints)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n;
	struct strbuf xml = { 0 }, json = { 0 };
	char xpath[] = "/tmp/ktstr-junit-XXXXXX", jpath[] = "/tmp/ktstr-json-XXXXXX", cmd[512];
	int xfd = mkstemp(xpath), jfd = mkstemp(jpath);

	make_records(&s, &p, &recs, &n);
	vmres_set_console((Ktstr__VmResult *)recs[1].vm, hostile_bytes);
	free(recs[1].verdict.detail);
	recs[1].verdict.detail = strdup(hostile_bytes);
	cr_assert_eq(junit_render(&xml, s, &p, recs, n, NULL), 0);
	cr_assert_eq(json_render(&json, s, &p, recs, n, NULL), 0);
	cr_assert_eq(write_full(xfd, xml.buf, xml.len), 0);
	cr_assert_eq(write_full(jfd, json.buf, json.len), 0);
	close(xfd);
	close(jfd);
	cr_assert_eq(run_xmllint(xpath), 0, "xmllint rejected:\n%s", xml.buf);
	cr_assert(strstr(xml.buf, "euro"), "text after the bad bytes is kept");
	cr_assert(strstr(xml.buf, "\xE2\x82\xAC euro"), "valid UTF-8 is kept as is");
	cr_assert_null(strstr(xml.buf, "\xEF\xBF\xBE"), "U+FFFE is not an XML char");
	/* Strict UTF-8 decoding of the whole file, then JSON. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json; t=open(\"%s\",\"rb\").read().decode(\"utf-8\",\"strict\"); "
		 "d=json.loads(t); assert \"euro\" in d[1][\"detail\"]'",
		 jpath);
	cr_assert_eq(system(cmd), 0, "JSON is not strict UTF-8 JSON:\n%s", json.buf);
	cr_assert_null(strstr(json.buf, "\xED\xA0\x80"), "a surrogate passed into the JSON");
	unlink(xpath);
	unlink(jpath);
	sb_free(&xml);
	sb_free(&json);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

/* What people read: every failed check with the limit it was held to, and
 * the COM2 tail without the kilobytes of base64 the TestResult travels as
 * (the verdict decodes it). */
Test(report, failed_checks_print_their_limit_and_com2_hides_the_result_blob)
{
	struct suite *s;
	struct plan p = { 0 };
	struct test_record *recs;
	size_t n, len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);

	make_records(&s, &p, &recs, &n);
	cr_assert_not_null(f);
	cr_assert_eq(report_failure(f, s, &p, &recs[1]), 0);
	fclose(f);
	cr_assert(strstr(text, "  [spread] unfair cgroup: spread=42%"), "%s", text);
	cr_assert(strstr(text, "(limit 15 %)\n"), "%s", text);
	cr_assert(strstr(text, "--- guest output COM2 (tail) ---"), "%s", text);
	cr_assert(strstr(text, "[TestResult: "), "%s", text);
	cr_assert_null(strstr(text, "===KTSTR_TEST_RESULT_START==="), "the blob is shown:\n%s",
		       text);
	free(text);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}
