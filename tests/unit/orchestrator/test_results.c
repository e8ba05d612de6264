/* The CI outputs of a run (docs/results.md): JUnit and JSON Lines against
 * golden files and the JUnit schema (tests/data/junit.xsd), a merged JUnit
 * equal to an unsharded run's, a --jsonl that keeps what finished when the
 * run is killed, and the GitHub Actions escaping and summary bounds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "fake_backend.h"
#include "gha.h"
#include "helpers.h"
#include "jsonl.h"
#include "jsonl_record.h"
#include "junit.h"
#include "report.h"
#include "runner.h"
#include "shard_info.h"
#include "shard_merge.h"
#include "vmres.h"

static const char suite_text[] = "tests:\n"
				 "  - {name: ok}\n"
				 "  - {name: bad}\n"
				 "  - {name: infra}\n"
				 "  - {name: big, topology: \"1,8,8,2\"}\n"
				 "  - {name: flaky}\n";

static const struct plan_opts host_opts = {
	.host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16, .max_vcpus = 64 },
	.kernel_scx = 1,
};

/* A run's metadata with nothing that changes between runs. */
static void fixed_meta(struct runmeta *m, const char *suite)
{
	memset(m, 0, sizeof(*m));
	m->tool_version = "VERSION";
	snprintf(m->host, sizeof(m->host), "host.example");
	m->start_ms = 1767225600000ull;
	runmeta_iso8601(m->start_ms, m->started, sizeof(m->started));
	m->duration_ms = 4242;
	m->finished = true;
	m->arch = "arm64";
	m->suite = suite;
	memset(m->suite_sha256, 'a', SHA256_HEX_LEN);
	m->nkernels = 1;
	m->kernels[0].name = "7.2.13-test";
	memset(m->kernels[0].sha256, 'b', SHA256_HEX_LEN);
	snprintf(m->host_cpus, sizeof(m->host_cpus), "0-1");
	snprintf(m->reservation, sizeof(m->reservation), "--cpu-cap: these CPUs for the whole run");
}

/* Records of every shape: pass, check failure (guest bytes), infra,
 * host skip, and a pass after a failed attempt. */
static void make_records(struct suite **s, struct plan *p, struct test_record **recs, size_t *n)
{
	char err[256];

	*s = parse_ok(suite_text);
	cr_assert_eq(plan_build(*s, &host_opts, p, err, sizeof(err)), 0, "%s", err);
	*n = 5;
	*recs = calloc(5, sizeof(**recs));
	for (size_t i = 0; i < 5; i++) {
		(*recs)[i].vidx = i;
		(*recs)[i].attempts = 1;
		(*recs)[i].wall_ms = 1234;
		(*recs)[i].builder_sandboxed = (*recs)[i].builder_landlock = 1;
		strcpy((*recs)[i].engine, "qemu-tcg");
	}
	{
		Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
		Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;

		tr.status = KTSTR__TEST_RESULT__STATUS__PASSED;
		vmres_add_pid1_result(r, &tr);
		vmres_set_console(r, "[    1.0] Linux version 7.2\n[    2.0] reboot: Power down\n");
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
		cf.message = "spread=42% <&> \"q\" \x01 \xff";
		cf.has_limit = 1;
		cf.limit = 15;
		tr.n_failures = 1;
		tr.failures = cfs;
		vmres_add_pid1_result(r, &tr);
		vmres_set_console(r, "console \x1b[31mred\x1b[0m\r\n]]> \x07 bell\n");
		verdict_from_result(r, NULL, &(*recs)[1].verdict);
		(*recs)[1].vm = r;
	}
	verdict_from_result(NULL, "VM worker failed: garbage frame", &(*recs)[2].verdict);
	(*recs)[3].attempts = 0;
	(*recs)[3].wall_ms = 0;
	(*recs)[3].builder_sandboxed = (*recs)[3].builder_landlock = -1;
	(*recs)[3].verdict.kind = V_SKIP;
	(*recs)[3].verdict.detail = strdup("needs 128 CPUs; host has 64");
	{
		struct test_record *f = &(*recs)[4];
		Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
		Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;

		/* The first attempt: an infrastructure error, kept as a note. */
		verdict_from_result(NULL, "VM worker failed: worker died (signal 9)", &f->verdict);
		cr_assert_eq(report_note_attempt(*s, p, f), 0);
		record_free_attempt(f);
		tr.status = KTSTR__TEST_RESULT__STATUS__PASSED;
		vmres_add_pid1_result(r, &tr);
		verdict_from_result(r, NULL, &f->verdict);
		f->vm = r;
		f->attempts = 2;
	}
}

static void free_records(struct suite *s, struct plan *p, struct test_record *recs, size_t n)
{
	runner_free_records(recs, n);
	plan_free(p);
	if (s)
		suite_free(s);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *write_tmp(const char *text, size_t len)
{
	static char paths[8][64];
	static int next;
	char *path = paths[next++ % 8];
	int fd;

	snprintf(path, 64, "/tmp/ktstr-results-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, text, len), 0);
	close(fd);
	return path;
}

/* xmllint against the schema; 0 = valid. Its messages go to a file of
 * this call's own (mkstemp): two test runs at once never share one. */
static int xsd_check(const char *xml, size_t len)
{
	char *path = write_tmp(xml, len), *errpath = write_tmp("", 0);
	int rc = sh("xmllint --noout --schema %s/tests/data/junit.xsd %s 2>%s", test_srcdir(), path,
		    errpath);

	if (rc) {
		char *err = NULL;
		size_t elen;

		read_file(errpath, &err, &elen, 1 << 16);
		cr_log_info("xmllint: %s", err ? err : "?"); /* an error only where the test expects validity */
		free(err);
	}
	unlink(errpath);
	unlink(path);
	return rc;
}

static void check_golden(const char *name, const char *got)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/golden/results/%s", test_srcdir(), name);
	test_golden(path, got);
}

Test(results, junit_matches_its_golden_file_and_the_schema)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct runmeta m;
	struct strbuf sb = { 0 };
	size_t n;

	make_records(&s, &p, &recs, &n);
	fixed_meta(&m, s->path);
	cr_assert_eq(junit_render(&sb, s, &p, recs, n, &m), 0);
	check_golden("run.junit.xml", sb.buf);
	cr_assert_eq(xsd_check(sb.buf, sb.len), 0, "the schema rejects:\n%s", sb.buf);
	/* What a CI page reads: where the test is, when and where it ran,
	 * the console, the flaky mark. */
	cr_assert(strstr(sb.buf, "name=\"bad\" time=\"1.234\" file=\"test.yaml\" line=\"3\""),
		  "%s", sb.buf);
	cr_assert(strstr(sb.buf, "timestamp=\"2026-01-01T00:00:00Z\" hostname=\"host.example\""));
	cr_assert(strstr(sb.buf, "<system-out>console \xEF\xBF\xBD[31mred"), "%s", sb.buf);
	cr_assert(strstr(sb.buf, "<flakyError message=\"VM worker failed: worker died (signal 9)\" "
				 "type=\"INFRA_ERROR\"><stackTrace>"), "%s", sb.buf);
	cr_assert(strstr(sb.buf, "<property name=\"flaky\" value=\"true\"/>"));
	cr_assert(strstr(sb.buf, "<property name=\"ktstr.version\" value=\"VERSION\"/>"));
	cr_assert(strstr(sb.buf, "<property name=\"ktstr.host_cpus\" value=\"0-1\"/>"));
	cr_assert(strstr(sb.buf, "<property name=\"ktstr.arch\" value=\"arm64\"/>"));
	sb_free(&sb);
	free_records(s, &p, recs, n);
}

/* The schema is a real check: what breaks it is refused. */
Test(results, the_schema_refuses_what_ci_could_not_read)
{
	static const char *const bad[] = {
		/* a test case without a name */
		"<testsuites><testsuite name=\"s\" tests=\"1\"><testcase classname=\"c\"/>"
		"</testsuite></testsuites>",
		/* a negative time */
		"<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\" classname=\"c\" "
		"time=\"-1\"/></testsuite></testsuites>",
		/* a timestamp that is not ISO 8601 */
		"<testsuites><testsuite name=\"s\" tests=\"0\" timestamp=\"yesterday\"/></testsuites>",
		/* line 0 */
		"<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\" classname=\"c\" "
		"line=\"0\"/></testsuite></testsuites>",
		/* a flaky mark without its type */
		"<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\" classname=\"c\">"
		"<flakyFailure message=\"m\"/></testcase></testsuite></testsuites>",
		/* properties after the test cases */
		"<testsuites><testsuite name=\"s\" tests=\"0\"><testcase name=\"t\" classname=\"c\"/>"
		"<properties/></testsuite></testsuites>",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_neq(xsd_check(bad[i], strlen(bad[i])), 0, "accepted: %s", bad[i]);
}

Test(results, jsonl_matches_its_golden_file_and_each_line_is_json)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct runmeta m;
	struct strbuf sb = { 0 };
	size_t n;
	char *path;

	make_records(&s, &p, &recs, &n);
	fixed_meta(&m, s->path);
	cr_assert_eq(jsonl_header_line(&sb, &m), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(jsonl_test_line(&sb, s, &p, &recs[i]), 0);
	cr_assert_eq(jsonl_end_line(&sb, recs, n, 3, false, &m), 0);
	check_golden("run.jsonl", sb.buf);
	path = write_tmp(sb.buf, sb.len);
	cr_assert_eq(sh("python3 -c 'import json,sys\n"
			"L=[json.loads(l) for l in open(\"%s\",encoding=\"utf-8\",errors=\"strict\")]\n"
			"assert [l[\"type\"] for l in L]==[\"header\"]+[\"test\"]*5+[\"end\"], L\n"
			"h=L[0]; assert h[\"schema\"]==%d and h[\"tool_version\"]==\"VERSION\"\n"
			"assert h[\"run\"][\"kernels\"][0][\"sha256\"]==\"b\"*64\n"
			"t=L[2]; assert t[\"name\"]==\"bad\" and t[\"line\"]==3 and t[\"verdict\"]==\"FAIL\"\n"
			"assert \"spread=42%%\" in t[\"report\"]\n"
			"f=L[5]; assert f[\"flaky\"] and f[\"earlier_attempts\"][0][\"verdict\"]==\"INFRA_ERROR\"\n"
			"e=L[6]; assert (e[\"tests\"],e[\"passed\"],e[\"flaky\"],e[\"exit_code\"])==(5,2,1,3), e\n'",
			path, RESULTS_SCHEMA),
		     0, "%s", sb.buf);
	unlink(path);
	sb_free(&sb);
	free_records(s, &p, recs, n);
}

Test(results, json_records_carry_schema_version_and_run)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct runmeta m;
	struct strbuf sb = { 0 };
	size_t n;
	char *path;

	make_records(&s, &p, &recs, &n);
	fixed_meta(&m, s->path);
	cr_assert_eq(json_render(&sb, s, &p, recs, n, &m), 0);
	path = write_tmp(sb.buf, sb.len);
	cr_assert_eq(sh("python3 -c 'import json\n"
			"d=json.load(open(\"%s\"))\n"
			"assert len(d)==5\n"
			"for r in d: assert r[\"schema\"]==%d and r[\"tool_version\"]==\"VERSION\" and "
			"r[\"run\"][\"host\"]==\"host.example\" and r[\"run\"][\"duration_ms\"]==4242 and "
			"r[\"run\"][\"suite_sha256\"]==\"a\"*64 and r[\"run\"][\"host_cpus\"]==\"0-1\"\n'",
			path, RESULTS_SCHEMA),
		     0, "%s", sb.buf);
	unlink(path);
	sb_free(&sb);
	free_records(s, &p, recs, n);
}

/* Guest bytes in <system-out> are bounded: the last JUNIT_OUT_LINES lines,
 * then at most JUNIT_OUT_MAX bytes of them, the last line kept. */
Test(results, system_out_is_the_bounded_tail_of_the_console)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct strbuf sb = { 0 }, big = { 0 };
	size_t n;
	const char *o, *e;

	make_records(&s, &p, &recs, &n);
	/* 300 lines of 1 KiB (\xff bytes too), then the last. */
	for (int i = 0; i < 300; i++) {
		cr_assert_eq(sb_printf(&big, "line %03d ", i), 0);
		for (int k = 0; k < 1000; k++)
			cr_assert_eq(sb_append(&big, k % 100 ? "x" : "\xff", 1), 0);
		cr_assert_eq(sb_append(&big, "\n", 1), 0);
	}
	cr_assert_eq(sb_printf(&big, "THE LAST LINE\n"), 0);
	vmres_set_console(recs[0].vm, big.buf);
	cr_assert_eq(junit_render(&sb, s, &p, recs, n, NULL), 0);
	o = strstr(sb.buf, "<system-out>");
	cr_assert_not_null(o);
	e = strstr(o, "</system-out>");
	cr_assert_not_null(e);
	/* The escaped text may grow (U+FFFD is 3 bytes for one); what was
	 * taken from the console is at most JUNIT_OUT_MAX bytes. */
	cr_assert_leq((size_t)(e - o), 3 * JUNIT_OUT_MAX, "system-out is %zu bytes", (size_t)(e - o));
	cr_assert(e - o > 1000);
	cr_assert(strstr(e - 20, "THE LAST LINE"), "the last line is not kept: %.40s", e - 40);
	cr_assert_null(strstr(o, "line 000 "), "more than the tail");
	cr_assert_eq(xsd_check(sb.buf, sb.len), 0);
	sb_free(&sb);
	sb_free(&big);
	free_records(s, &p, recs, n);
}

/* A failure report is bounded too (REPORT_TEXT_MAX), whatever the detail. */
Test(results, a_failure_report_is_bounded)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n, len;
	char *text, *huge = malloc(4u << 20);

	make_records(&s, &p, &recs, &n);
	memset(huge, 'd', (4u << 20) - 1);
	huge[(4u << 20) - 1] = '\0';
	free(recs[1].verdict.detail);
	recs[1].verdict.detail = huge;
	cr_assert_eq(report_text(s, &p, &recs[1], &text, &len), 0);
	cr_assert_eq(len, REPORT_TEXT_MAX);
	cr_assert_eq(strlen(text), len);
	cr_assert(strstr(text, "[report cut at "), "no note of the cut");
	free(text);
	free_records(s, &p, recs, n);
}

/* Drop what may differ between two runs of one plan: times, when and
 * where it ran and the run's properties (the testsuite's). */
static void normalise(char *x)
{
	static const char *const attrs[] = { " time=\"", " timestamp=\"", " hostname=\"" };
	char *a, *b;

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++)
		while ((a = strstr(x, attrs[i]))) {
			b = strchr(a + strlen(attrs[i]), '"');
			memmove(a, b + 1, strlen(b + 1) + 1);
		}
	a = strstr(x, "\n    <properties>\n");
	b = a ? strstr(a, "\n    </properties>\n") : NULL;
	if (a && b)
		memmove(a, b + strlen("\n    </properties>"), strlen(b + strlen("\n    </properties>")) + 1);
}

static const char shard_suite[] = "tests:\n"
				  "  - {name: t1}\n  - {name: t2-bad}\n  - {name: t3}\n"
				  "  - {name: t4-flaky}\n  - {name: t5-infra}\n  - {name: t6}\n"
				  "  - {name: big, topology: \"1,8,8,2\"}\n";

/* One run of shard k of n (n 0: unsharded) through the fake backend. */
static void run_shard(struct suite *s, uint32_t k, uint32_t n, struct strbuf *junit,
		      struct strbuf *json)
{
	struct plan_opts o = host_opts;
	struct fake_backend fb;
	struct plan p;
	struct test_record *recs;
	size_t nrecs;
	struct runmeta m;
	static const int no_image[16] = { -1, -1, -1, -1, -1, -1, -1, -1,
					  -1, -1, -1, -1, -1, -1, -1, -1 };
	FILE *devnull = fopen("/dev/null", "w");
	struct runner_cfg cfg = { .suite = s, .plan = &p, .backend = &fb.be,
				  .initrd_fds = no_image, .workers = 2, .retries = 1,
				  .out = devnull };
	char err[256];

	o.part_k = k;
	o.part_n = n;
	fake_backend_init(&fb);
	fb.match[0] = "bad";
	fb.how[0] = FAKE_FAIL;
	fb.match[1] = "flaky";
	fb.how[1] = FAKE_FLAKY;
	fb.match[2] = "infra";
	fb.how[2] = FAKE_INFRA;
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(runner_run(&cfg, &recs, &nrecs), 0);
	fixed_meta(&m, s->path);
	snprintf(m.host, sizeof(m.host), "shard%u.example", k);
	if (junit)
		cr_assert_eq(junit_render(junit, s, &p, recs, nrecs, &m), 0);
	if (json) {
		cr_assert_eq(json_render(json, s, &p, recs, nrecs, &m), 0);
		cr_assert_eq(shard_info_append(json, &p, recs, nrecs, "--partition", s->path), 0);
	}
	fclose(devnull);
	free_records(NULL, &p, recs, nrecs);
}

/* Issue 17: `merge --junit` writes through junit.c, so the merged file
 * has the cases, properties, reports, console tails and flaky marks of an
 * unsharded run's; only times and the run's metadata differ. */
Test(results, merged_junit_equals_an_unsharded_runs)
{
	struct suite *s = parse_ok(shard_suite);
	struct strbuf whole = { 0 }, sj[3] = { { 0 } }, merged = { 0 };
	static const struct merge_limits lim = MERGE_LIMITS_DEFAULT;
	struct merge m;
	FILE *null = fopen("/dev/null", "w");
	char *paths[3] = { NULL, NULL, NULL };

	run_shard(s, 0, 0, &whole, NULL);
	for (uint32_t k = 1; k <= 3; k++) {
		run_shard(s, k, 3, NULL, &sj[k - 1]);
		/* merge keeps the path (borrowed) until merge_free. */
		paths[k - 1] = strdup(write_tmp(sj[k - 1].buf, sj[k - 1].len));
		if (k == 1)
			merge_init(&m, &lim, 3, null);
		cr_assert_eq(merge_add_file(&m, paths[k - 1]), 0);
		unlink(paths[k - 1]);
	}
	cr_assert_eq(merge_finish(&m), 0);
	cr_assert_not(m.infra, "the shards did not merge cleanly");
	cr_assert_eq(merge_render_junit(&m, &merged), 0);
	cr_assert_eq(xsd_check(merged.buf, merged.len), 0, "%s", merged.buf);
	cr_assert(strstr(merged.buf, "hostname=\"shard1.example,shard2.example,shard3.example\"") ||
			  strstr(merged.buf, "hostname=\"shard"),
		  "%s", merged.buf);
	cr_assert(strstr(merged.buf, "<flakyFailure"), "%s", merged.buf);
	cr_assert(strstr(merged.buf, "<system-out>[    1.0] Linux version 7.2"), "%s", merged.buf);
	normalise(whole.buf);
	normalise(merged.buf);
	cr_assert_str_eq(merged.buf, whole.buf);
	merge_free(&m);
	fclose(null);
	sb_free(&whole);
	sb_free(&merged);
	for (int k = 0; k < 3; k++) {
		sb_free(&sj[k]);
		free(paths[k]);
	}
	suite_free(s);
}

/* A run killed (SIGKILL, nothing runs after it) while a test is running:
 * its --jsonl keeps the header and every test that had ended, each a
 * whole JSON line, and has no "end" line. */
Test(results, a_killed_run_keeps_its_header_and_finished_tests)
{
	char dir[] = "/tmp/ktstr-jsonl-XXXXXX", path[128];
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	int st, lines = 0;
	pid_t pid;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run.jsonl", dir);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct suite *s = parse_ok("tests:\n  - {name: a}\n  - {name: b-slow}\n"
					   "  - {name: c-slow}\n");
		struct fake_backend fb;
		struct plan p;
		struct jsonl j = JSONL_INIT;
		struct runmeta m;
		struct test_record *recs;
		size_t n;
		static const int no_image[16] = { -1, -1, -1, -1, -1, -1, -1, -1,
						  -1, -1, -1, -1, -1, -1, -1, -1 };
		FILE *devnull = fopen("/dev/null", "w");
		struct runner_cfg cfg = { .suite = s, .plan = &p, .backend = &fb.be,
					  .initrd_fds = no_image, .workers = 1, .out = devnull,
					  .on_done = jsonl_on_done, .on_done_ctx = &j };
		char err[256];

		fake_backend_init(&fb);
		fb.match[0] = "slow";
		fb.how[0] = FAKE_WAIT_FOR_STOP;
		if (plan_build(s, &host_opts, &p, err, sizeof(err)) ||
		    jsonl_open(&j, path, err, sizeof(err)) || runmeta_init(&m, s, &p) ||
		    jsonl_start(&j, s, &p, &m))
			_exit(2);
		runner_run(&cfg, &recs, &n);
		runmeta_finish(&m);
		jsonl_finish(&j, recs, n, 0, false);
		_exit(0);
	}
	/* Wait for the header and the first test's line (bounded: 10 s). */
	for (int i = 0; i < 500 && lines < 2; i++) {
		char *text = NULL;
		size_t len = 0;

		nanosleep(&nap, NULL);
		lines = 0;
		if (!read_file(path, &text, &len, 1 << 20))
			for (size_t k = 0; k < len; k++)
				lines += text[k] == '\n';
		free(text);
	}
	cr_assert_eq(lines, 2, "the run wrote %d lines in 10 s", lines);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the run ended before the kill: the test proves nothing");
	cr_assert_eq(sh("python3 -c 'import json\n"
			"raw=open(\"%s\",\"rb\").read()\n"
			"assert raw.endswith(b\"\\n\"), raw\n"
			"L=[json.loads(l) for l in raw.decode(\"utf-8\").splitlines()]\n"
			"assert L[0][\"type\"]==\"header\" and L[0][\"schema\"]==%d, L[0]\n"
			"assert L[0][\"run\"][\"duration_ms\"] is None\n"
			"assert L[1][\"type\"]==\"test\" and L[1][\"name\"]==\"a\" and "
			"L[1][\"verdict\"]==\"PASS\", L[1]\n"
			"assert all(l[\"type\"]!=\"end\" for l in L)\n'",
			path, RESULTS_SCHEMA),
		     0);
	unlink(path);
	rmdir(dir);
}

/* A NUL the guest printed does not end the console tail: what follows it
 * still reaches <system-out> and the JSON record. */
Test(results, a_nul_in_the_console_does_not_cut_system_out)
{
	static const char con[] = "before\0after NUL\n";
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct strbuf sb = { 0 };
	size_t n;

	make_records(&s, &p, &recs, &n);
	free(recs[0].vm->console_tail.data);
	recs[0].vm->console_tail.data = malloc(sizeof(con) - 1);
	memcpy(recs[0].vm->console_tail.data, con, sizeof(con) - 1);
	recs[0].vm->console_tail.len = sizeof(con) - 1;
	cr_assert_eq(junit_render(&sb, s, &p, recs, n, NULL), 0);
	cr_assert(strstr(sb.buf, "<system-out>before\xEF\xBF\xBD" "after NUL</system-out>"), "%s",
		  sb.buf);
	sb_free(&sb);
	cr_assert_eq(jsonl_test_line(&sb, s, &p, &recs[0]), 0);
	cr_assert(strstr(sb.buf, "\"console_tail\":\"before\xEF\xBF\xBD" "after NUL\""), "%s", sb.buf);
	sb_free(&sb);
	free_records(s, &p, recs, n);
}

/* The digests are sha256sum's; a file that is not regular or is too big is
 * refused at once (a FIFO never blocks), and the run's metadata says so
 * with an empty digest, not an error. */
Test(results, run_metadata_digests_are_bounded_and_exact)
{
	char dir[] = "/tmp/ktstr-meta-XXXXXX", path[128], fifo[128], big[128], hex[SHA256_HEX_LEN + 1];
	char *want = NULL, *text = NULL;
	size_t len;
	struct suite *s;
	struct plan p;
	struct runmeta m;
	struct strbuf sb = { 0 };
	int fd;
	char err[256];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.yaml", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(big, sizeof(big), "%s/big", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_eq(write_full(fd, suite_text, strlen(suite_text)), 0);
	close(fd);
	cr_assert_eq(sh("sha256sum %s | cut -c1-64 > %s/want", path, dir), 0);
	snprintf(fifo, sizeof(fifo), "%s/want", dir);
	cr_assert_eq(read_file(fifo, &want, &len, 256), 0);
	want[SHA256_HEX_LEN] = '\0';
	cr_assert_eq(suite_load(path, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(plan_build(s, &host_opts, &p, err, sizeof(err)), 0);
	cr_assert_eq(runmeta_init(&m, s, &p), 0);
	cr_assert_str_eq(m.suite_sha256, want);
	cr_assert_eq(runmeta_json(&sb, &m), 0);
	cr_assert(strstr(sb.buf, "\"duration_ms\":null"), "%s", sb.buf);
	cr_assert(strstr(sb.buf, "\"host_cpus\":null,\"reservation\":\"none\""), "%s", sb.buf);
	sb_free(&sb);
	runmeta_free(&m);
	/* A FIFO: refused without waiting for a writer. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	cr_assert_eq(runmeta_hash_fd(fd, hex), -EINVAL);
	cr_assert_str_eq(hex, "");
	close(fd);
	/* Past RUNMETA_HASH_MAX (sparse: nothing is read). */
	fd = open(big, O_CREAT | O_RDWR, 0600);
	cr_assert_eq(ftruncate(fd, (off_t)RUNMETA_HASH_MAX + 1), 0);
	cr_assert_eq(runmeta_hash_fd(fd, hex), -EFBIG);
	close(fd);
	free(want);
	free(text);
	plan_free(&p);
	suite_free(s);
	cr_assert_eq(sh("rm -rf %s", dir), 0);
}

/* A stopped run: the tests the stop left unrun still get their lines, then
 * "end" says the run was interrupted, with its exit status. */
Test(results, an_interrupted_run_ends_its_jsonl_with_every_test)
{
	char dir[] = "/tmp/ktstr-jsonl-XXXXXX", path[128];
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct runmeta m;
	struct jsonl j = JSONL_INIT;
	size_t n;
	char err[256];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.jsonl", dir);
	make_records(&s, &p, &recs, &n);
	fixed_meta(&m, s->path);
	recs[4].verdict.kind = V_STOPPED;
	cr_assert_eq(jsonl_open(&j, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(jsonl_start(&j, s, &p, &m), 0);
	jsonl_on_done(&j, &recs[3]);
	jsonl_on_done(&j, &recs[0]);
	cr_assert_eq(jsonl_finish(&j, recs, n, 130, true), 0);
	cr_assert_eq(j.lines, 1 + 5 + 1);
	jsonl_close(&j);
	cr_assert_eq(sh("python3 -c 'import json\n"
			"L=[json.loads(l) for l in open(\"%s\")]\n"
			"assert [l.get(\"name\") for l in L[1:-1]]==[\"big\",\"ok\",\"bad\",\"infra\",\"flaky\"], L\n"
			"e=L[-1]; assert e[\"type\"]==\"end\" and e[\"interrupted\"] and e[\"exit_code\"]==130 "
			"and e[\"stopped\"]==1, e\n'",
			path),
		     0);
	/* A link in its place is refused, not written through. */
	unlink(path);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	j = (struct jsonl)JSONL_INIT;
	cr_assert_neq(jsonl_open(&j, path, err, sizeof(err)), 0);
	cr_assert(strstr(err, "never writes through a link"), "%s", err);
	jsonl_close(&j);
	unlink(path);
	rmdir(dir);
	free_records(s, &p, recs, n);
}
