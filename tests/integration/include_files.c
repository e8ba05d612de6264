/* include_files and config_file through the real `ktstr-orch run`
 * (tests/suites/include-files.yaml), proven from inside the guest: the
 * included check.sh, run by the host's /bin/sh as a payload, finds every
 * file at its guest path with the host file's lines (a directory walked,
 * the test's own file only in its own image), and prints the fixture
 * scheduler's log: the command line it was started with, --config first,
 * and the options it read from the config file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* Run test name of the suite alone; assert its exit status and its result
 * line; return its --json record (malloc'd). */
static char *run_one(struct suite_env *e, const char *name, int want_rc, const char *verdict)
{
	char line[128], *out = NULL, *rec;
	int rc;

	suite_env_init(e, true);
	rc = run_suite(e, "include-files.yaml", name, NULL, &out);
	cr_assert_eq(rc, want_rc, "exit %d:\n%s", rc, out);
	snprintf(line, sizeof(line), "%s  %s  (", verdict, name);
	assert_has(out, line);
	if (want_rc)
		assert_has(out, "payload sh: exit 1, expected 0");
	rec = json_record(e, name);
	free(out);
	return rec;
}

/* What the guests of both passing tests report about the shared files. */
static void assert_shared(const char *rec)
{
	assert_has(rec, "OK /opt/ktstr-data/hello.txt\\n");
	assert_has(rec, "OK /opt/ktstr-data/sub/b.txt\\n");
	assert_has(rec, "OK /include-files/scx_ktstr.conf\\n");
	/* The scheduler read its config file's bytes (schedulers/fixture). */
	assert_has(rec, "scx_ktstr: --config /include-files/scx_ktstr.conf: --timeout-ms 24000\\n");
	assert_has(rec, "scx_ktstr: --cell-parent-cgroup /ktstr: noted");
}

Test(include_files, own_files_and_config_reach_the_guest_and_the_scheduler, .timeout = 900)
{
	struct suite_env e;
	char *rec = run_one(&e, "include_own", 0, "PASS");

	assert_shared(rec);
	assert_has(rec, "OK /etc/ktstr/hello.txt\\n");
	/* docs/suite-format.md, "Merge rules": config_file, cgroup_parent,
	 * sched_args, extra_sched_args, flags. */
	assert_has(rec, "scx_ktstr: argv: --config /include-files/scx_ktstr.conf "
			"--cell-parent-cgroup /ktstr --timeout-ms 25000 --timeout-ms 26000 "
			"--timeout-ms 27000\\n");
	free(rec);
	vmtest_rm_rf(e.tmp);
}

Test(include_files, a_test_without_its_own_files_boots_the_schedulers_image, .timeout = 900)
{
	struct suite_env e;
	char *rec = run_one(&e, "include_shared", 0, "PASS");

	assert_shared(rec);
	assert_has(rec, "ABSENT /etc/ktstr/hello.txt\\n");
	assert_has(rec, "scx_ktstr: argv: --config /include-files/scx_ktstr.conf "
			"--cell-parent-cgroup /ktstr --timeout-ms 25000\\n");
	free(rec);
	vmtest_rm_rf(e.tmp);
}

Test(include_files, the_check_fails_when_a_file_is_missing, .timeout = 900)
{
	struct suite_env e;
	char *rec = run_one(&e, "include_missing_fails", 1, "FAIL");

	assert_has(rec, "MISSING /etc/ktstr/hello.txt\\n");
	free(rec);
	vmtest_rm_rf(e.tmp);
}
