/* scx_ktstr, the fixture scheduler, through the real `ktstr-orch run`:
 * healthy it passes; each knob is caught with the right verdict and
 * message (tests/suites/sched-fixture.yaml, one `--filter` run per knob).
 * Negative cases are decisive by construction (a scheduler that exits, is
 * rejected, never attaches, stalls a CPU, starves a cgroup for the whole
 * scenario, or gives half the workers 1/8 of the CPU). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ktstr/util.h"
#include "lib/vmtest.h"

/* ---- shared by sched_real.c, sched_fixture.c, guest_verdicts.c (each
 * integration file is its own binary; this block is kept identical). ---- */
#define RUN_TIMEOUT_MS (480 * 1000)

struct suite_env {
	char orch[1024], kernel[1024], src[1024], tmp[1024];
	bool staged; /* tmp/bin holds copies of the schedulers */
};

/* ktstr-orch drops root before the initramfs builder reads the scheduler
 * binaries; $KTSTR_SCHEDULER_PATH is usually under /root (0700), so the
 * tests hand it world-readable copies, as a user would install them. */
static void stage_schedulers(struct suite_env *e)
{
	const char *p = getenv("KTSTR_SCHEDULER_PATH");
	char cmd[16384], *out = NULL;

	if (!p || !*p)
		cr_skip_test("KTSTR_SCHEDULER_PATH unset: build the schedulers with "
			     "scripts/build-schedulers (scripts/run-tests does)");
	snprintf(cmd, sizeof(cmd),
		 "set -e; for d in $(echo '%s' | tr ':' ' '); do "
		 "[ -x \"$d/scx_ktstr\" ] && { mkdir -p %s/bin; cp \"$d\"/scx_* %s/bin/; break; }; done; "
		 "[ -x %s/bin/scx_ktstr ] || { echo 'no scx_ktstr in $KTSTR_SCHEDULER_PATH'; exit 1; }; "
		 "chmod -R a+rX %s",
		 p, e->tmp, e->tmp, e->tmp, e->tmp);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "staging schedulers from %s failed: %s", p,
		     out ? out : "");
	free(out);
	e->staged = true;
}

static void suite_env_init(struct suite_env *e, bool schedulers)
{
	memset(e, 0, sizeof(*e));
	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		cr_skip_test("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", e->kernel, sizeof(e->kernel)))
		cr_skip_test("no kernel to boot (set KTSTR_TEST_KERNEL)");
	cr_assert_eq(vmtest_src_dir(e->src, sizeof(e->src)), 0);
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
	/* the orchestrator writes nothing here, but runs as nobody */
	cr_assert_eq(chmod(e->tmp, 0755), 0);
	if (schedulers)
		stage_schedulers(e);
}

/* `ktstr-orch --workers 1 run SUITE --json tmp/r.json [--filter F]` on
 * kernel (NULL = the test kernel). Returns the exit status; output in *out. */
static int run_suite(const struct suite_env *e, const char *suite, const char *filter,
		     const char *kernel, char **out)
{
	char cmd[16384];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int status = 0, ret;

	snprintf(cmd, sizeof(cmd),
		 "%s%s%s %s --workers 1 run %s/tests/suites/%s --kernel %s --json %s/r.json%s%s 2>&1",
		 e->staged ? "KTSTR_SCHEDULER_PATH=" : "", e->staged ? e->tmp : "",
		 e->staged ? "/bin" : "", e->orch, e->src, suite, kernel ? kernel : e->kernel,
		 e->tmp, filter ? " --filter " : "", filter ? filter : "");
	ret = vmtest_run(argv, RUN_TIMEOUT_MS, out, &status);
	cr_assert_eq(ret, 0, "ktstr-orch did not finish within %d s: %s", RUN_TIMEOUT_MS / 1000,
		     cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The --json record of test `name` (one record per line), malloc'd. */
static char *json_record(const struct suite_env *e, const char *name)
{
	char path[1200], key[256], *text = NULL, *hit, *end, *rec;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/r.json", e->tmp);
	cr_assert_eq(read_file(path, &text, &n, 64u << 20), 0, "no JSON report at %s", path);
	snprintf(key, sizeof(key), "{\"name\":\"%s\",", name);
	hit = strstr(text, key);
	cr_assert_not_null(hit, "no JSON record for %s in:\n%s", name, text);
	end = strchr(hit, '\n');
	rec = strndup(hit, end ? (size_t)(end - hit) : strlen(hit));
	free(text);
	return rec;
}

#define assert_has(hay, needle, ...) \
	cr_assert(strstr((hay), (needle)), "missing \"%s\" in:\n%s", (needle), (hay))
/* ---- end of shared block ---- */

/* Run one test of sched-fixture.yaml; returns its JSON record. */
static char *fixture_run(struct suite_env *e, const char *name, int want_rc, char **out)
{
	char line[256];
	int rc;

	suite_env_init(e, true);
	rc = run_suite(e, "sched-fixture.yaml", name, NULL, out);
	cr_assert_eq(rc, want_rc, "exit %d, want %d:\n%s", rc, want_rc, *out);
	snprintf(line, sizeof(line), "%s  %s  (", want_rc ? "FAIL" : "PASS", name);
	assert_has(*out, line);
	assert_has(*out, want_rc ? "\n0 passed, 1 failed, 0 skipped\n"
				 : "\n1 passed, 0 failed, 0 skipped\n");
	return json_record(e, name);
}

Test(sched_fixture, healthy_passes, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "healthy", 0, &out);

	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"sched_ext_ops\":\"ktstr\"");
	assert_has(rec, "\"result_source\":\"ring\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, exit_after_is_scheduler_died_with_the_sched_ext_reason, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "exit_after", 1, &out);

	assert_has(out, "SCHED_DIED: scheduler died: scheduler process died unexpectedly");
	/* the kernel's reason and the exit message it carried */
	assert_has(out, "disabled (unregistered from BPF)");
	assert_has(out, "injected exit: --exit-after 1000 ms elapsed");
	assert_has(rec, "\"verdict\":\"SCHED_DIED\"");
	assert_has(rec, "\"sched_exit_reason\":");
	assert_has(rec, "scx_ktstr: ejected: kind=65"); /* scheduler log tail */
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, fail_verify_never_attaches_and_shows_the_verifier_log, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "fail_verify", 1, &out);

	assert_has(out, "SCHED_NOT_ATTACHED: scheduler never attached to sched_ext: scheduler "
			"exited with status 2");
	assert_has(out, "--- scheduler log (tail) ---");
	assert_has(out, "R0 invalid mem access 'scalar'");
	assert_has(rec, "\"verdict\":\"SCHED_NOT_ATTACHED\"");
	assert_has(rec, "-- BEGIN PROG LOAD LOG --");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, never_attach_is_not_attached, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "never_attach", 1, &out);

	assert_has(out, "SCHED_NOT_ATTACHED: scheduler never attached to sched_ext: timeout: "
			"sched_ext state \"disabled\"");
	assert_has(rec, "\"verdict\":\"SCHED_NOT_ATTACHED\"");
	assert_has(rec, "loaded, not attaching (--never-attach)");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, stall_is_reported_with_the_stalled_cpu, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "stall", 1, &out);

	/* sched_ext's watchdog ejects it; the verdict names the stall and the
	 * CPU the stalled task is stuck on (the fixture stalls CPU 1). */
	assert_has(out, "SCHED_DIED: scheduler died: scheduler process died unexpectedly");
	assert_has(out, "disabled (runnable task stall)");
	assert_has(out, "failed to run for");
	assert_has(out, "is on cpu1)");
	assert_has(rec, "\"verdict\":\"SCHED_DIED\"");
	assert_has(rec, "reason=\\\"runnable task stall\\\""); /* loader's log tail */
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, starve_cgroup_names_the_starved_workers, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "starve", 1, &out);
	const char *p;
	unsigned starved = 0;

	assert_has(out, "FAIL: tid ");
	/* both workers of cg0, and only they */
	for (p = rec; (p = strstr(p, "{\"check\":\"starvation\"")); p++) {
		const char *cg = strstr(p, "\"cgroup\":\"");

		cr_assert(cg && !strncmp(cg + 10, "cg0\"", 4), "a starved worker outside cg0:\n%s",
			  rec);
		starved++;
	}
	cr_assert_eq(starved, 2, "want 2 starvation failures (cg0's workers), got %u:\n%s",
		     starved, rec);
	assert_has(rec, "starved (0 work units");
	assert_has(rec, "\"verdict\":\"FAIL\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(sched_fixture, degrade_is_a_fairness_failure, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec = fixture_run(&e, "degrade", 1, &out);

	assert_has(out, "FAIL: unfair cgroup: spread=");
	assert_has(rec, "{\"check\":\"spread\"");
	assert_has(rec, "\"verdict\":\"FAIL\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
