/* guest/ctest.c: what PID 1 takes from a C test program's result file
 * (docs/c-api.md). The file is the tenant's: bounded (1 MiB), decoded or
 * refused, and only the statuses a test body may give are taken. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/util.h>

#include "ctest.h"
#include "result.h"

static Ktstr__CTestSpec spec(void)
{
	Ktstr__CTestSpec ct = KTSTR__CTEST_SPEC__INIT;

	ct.payload = (char *)"c_test.prog";
	ct.function = (char *)"fn";
	return ct;
}

static void tmp_path(char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "/tmp/ktstr-ctest-unit-XXXXXX");
	fd = mkstemp(buf);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A child result: status st, detail, one failure, one worker. */
static void write_child(const char *path, Ktstr__TestResult__Status st, const char *detail)
{
	struct result r;
	struct verdict_failure f = { 0 };
	struct worker_report wr = { .magic = WREPORT_MAGIC, .tid = 42, .work_units = 7 };
	size_t n;
	uint8_t *buf;

	result_init(&r, "fn");
	snprintf(f.check, sizeof(f.check), "widgets");
	snprintf(f.message, sizeof(f.message), "widget count 7, expected 8");
	cr_assert_eq(result_add_failure(&r, &f), 0);
	cr_assert_eq(result_add_worker(&r, &wr, "cg", KTSTR__WORK_TYPE__WORK_CPU_SPIN), 0);
	result_set(&r, st, "%s", detail);
	n = ktstr__test_result__get_packed_size(&r.tr);
	buf = malloc(n);
	ktstr__test_result__pack(&r.tr, buf);
	write_bytes(path, buf, n);
	free(buf);
	result_free(&r);
}

Test(ctest, a_failed_function_gives_its_detail_checks_and_telemetry)
{
	Ktstr__CTestSpec ct = spec();
	struct result res;
	char path[64];

	tmp_path(path, sizeof(path));
	write_child(path, KTSTR__TEST_RESULT__STATUS__FAILED, "widget count 7, expected 8");
	result_init(&res, "t");
	ctest_merge_from(&ct, &res, path);
	cr_assert_eq(res.tr.status, KTSTR__TEST_RESULT__STATUS__FAILED);
	cr_assert_str_eq(res.tr.detail, "widget count 7, expected 8");
	cr_assert_eq(res.tr.n_failures, 1);
	cr_assert_str_eq(res.tr.failures[0]->check, "widgets");
	cr_assert_eq(res.tr.n_workers, 1);
	cr_assert_eq(res.tr.workers[0]->tid, 42);
	cr_assert_eq(access(path, F_OK), -1, "the result file is consumed");
	result_free(&res);
}

Test(ctest, a_status_only_pid1_may_give_is_refused)
{
	Ktstr__CTestSpec ct = spec();
	struct result res;
	char path[64];

	tmp_path(path, sizeof(path));
	write_child(path, KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED, "forged");
	result_init(&res, "t");
	ctest_merge_from(&ct, &res, path);
	cr_assert_eq(res.tr.status, KTSTR__TEST_RESULT__STATUS__FAILED);
	cr_assert(strstr(res.tr.detail, "reported status 2, which only the guest may give"), "%s",
		  res.tr.detail);
	result_free(&res);
}

Test(ctest, no_result_file_fails_the_test)
{
	Ktstr__CTestSpec ct = spec();
	struct result res;

	result_init(&res, "t");
	ctest_merge_from(&ct, &res, "/nonexistent/ktstr-ctest-result.pb");
	cr_assert_eq(res.tr.status, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED);
	cr_assert(strstr(res.tr.detail, "c_test fn (payload c_test.prog): exited 0 but left no "
					"result"),
		  "%s", res.tr.detail);
	result_free(&res);
}

Test(ctest, a_result_over_1_mib_is_refused)
{
	Ktstr__CTestSpec ct = spec();
	struct result res;
	char path[64], *big = calloc(1, KTSTR_CTEST_RESULT_MAX + 1);

	tmp_path(path, sizeof(path));
	write_bytes(path, big, KTSTR_CTEST_RESULT_MAX + 1);
	result_init(&res, "t");
	ctest_merge_from(&ct, &res, path);
	cr_assert_eq(res.tr.status, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED);
	cr_assert(strstr(res.tr.detail, "larger than 1 MiB"), "%s", res.tr.detail);
	unlink(path);
	free(big);
	result_free(&res);
}

Test(ctest, garbage_is_refused)
{
	Ktstr__CTestSpec ct = spec();
	struct result res;
	char path[64];

	tmp_path(path, sizeof(path));
	write_bytes(path, "\xff\xff\xff\xff", 4);
	result_init(&res, "t");
	ctest_merge_from(&ct, &res, path);
	cr_assert_eq(res.tr.status, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED);
	cr_assert(strstr(res.tr.detail, "does not decode as ktstr.TestResult"), "%s",
		  res.tr.detail);
	result_free(&res);
}

/* A crash, a timeout or the scheduler's death already decided the test:
 * a result file (written before) changes nothing. */
Test(ctest, an_earlier_failure_stands)
{
	Ktstr__CTestSpec ct = spec();
	struct result res;
	char path[64];

	tmp_path(path, sizeof(path));
	write_child(path, KTSTR__TEST_RESULT__STATUS__PASSED, "");
	result_init(&res, "t");
	result_set(&res, KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED, "died");
	ctest_merge_from(&ct, &res, path);
	cr_assert_eq(res.tr.status, KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED);
	cr_assert_str_eq(res.tr.detail, "died");
	cr_assert_eq(res.tr.n_workers, 0);
	unlink(path);
	result_free(&res);
}
