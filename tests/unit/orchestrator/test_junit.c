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
#include "junit.h"
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
		vmres_add_test_result(r, &tr, true);
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
		tr.n_failures = 1;
		tr.failures = cfs;
		tr.scheduler_log_tail = "sched: ]]> CDATA breaker\n";
		vmres_add_test_result(r, &tr, true);
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
	cr_assert_eq(junit_render(&sb, s, &p, recs, n), 0);
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
	cr_assert_eq(json_render(&sb, s, &p, recs, n), 0);
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
