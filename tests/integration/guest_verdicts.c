/* The guest's verdicts under EEVDF through the real `ktstr-orch run`
 * (tests/suites/guest-verdicts.yaml, noscx.yaml): steady and cpuset runs
 * pass on two topologies; a FIFO hog starving a normal worker and workers
 * moved out of their cpuset behind the scenario's back are caught; a run
 * with the SHM ring off reports through COM2; a sched_ext scheduler on a
 * kernel without sched_ext is skipped (config known) or not attached. */
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

Test(guest_verdicts, steady_and_cpuset_pass_on_two_topologies, .timeout = 600)
{
	static const char *const tests[] = { "steady_1llc", "steady_2llc", "cpuset_1llc",
					     "cpuset_2llc" };
	struct suite_env e;
	char *out = NULL;
	int rc;

	suite_env_init(&e, false);
	/* the four names share no substring with the other tests but "_" */
	rc = run_suite(&e, "guest-verdicts.yaml", "llc", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "\n4 passed, 0 failed, 0 skipped\n");
	for (size_t i = 0; i < 4; i++) {
		char line[128], *rec;

		snprintf(line, sizeof(line), "PASS  %s  (", tests[i]);
		assert_has(out, line);
		rec = json_record(&e, tests[i]);
		assert_has(rec, "\"verdict\":\"PASS\"");
		free(rec);
	}
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, a_fifo_hog_starving_a_normal_worker_is_caught, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	const char *m;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "fifo_starves_normal", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	m = strstr(out, "FAIL  fifo_starves_normal  (");
	cr_assert_not_null(m, "%s", out);
	m = strstr(m, "FAIL: tid ");
	cr_assert_not_null(m, "%s", out);
	cr_assert(atoi(m + 10) > 1 && !strncmp(strchr(m + 10, ' '), " starved (0 work units)", 23),
		  "want \"tid N starved (0 work units)\":\n%s", out);
	rec = json_record(&e, "fifo_starves_normal");
	assert_has(rec, "{\"check\":\"starvation\"");
	assert_has(rec, "\"cgroup\":\"normal\"");
	cr_assert_null(strstr(rec, "\"cgroup\":\"rt\",\"tid\""), "the FIFO worker is not starved:\n%s",
		       rec);
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, workers_moved_out_of_their_cpuset_break_isolation, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "isolation_break", NULL, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL  isolation_break  (");
	assert_has(out, " ran on unexpected CPUs 1");
	rec = json_record(&e, "isolation_break");
	assert_has(rec, "{\"check\":\"isolation\"");
	assert_has(rec, "\"cgroup\":\"narrow\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, with_the_ring_off_the_result_comes_through_com2, .timeout = 600)
{
	struct suite_env e;
	char *out = NULL, *rec;
	int rc;

	suite_env_init(&e, false);
	rc = run_suite(&e, "guest-verdicts.yaml", "ring_off", NULL, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  ring_off  (");
	rec = json_record(&e, "ring_off");
	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"result_source\":\"com2\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(guest_verdicts, a_scheduler_on_a_kernel_without_sched_ext_never_attaches, .timeout = 600)
{
	const char *k = getenv("KTSTR_TEST_KERNEL_NOSCX");
	struct suite_env e;
	char cmd[8192], kern[1200], *out = NULL, *rec;
	int rc;

	if (!k || !*k)
		cr_skip_test("KTSTR_TEST_KERNEL_NOSCX unset (scripts/run-tests fetches bookworm's "
			     "6.12 kernel for it)");
	suite_env_init(&e, true);
	/* With its config beside it the orchestrator knows: skipped, no VM. */
	rc = run_suite(&e, "noscx.yaml", NULL, k, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "SKIP  simple_without_sched_ext");
	assert_has(out, "kernel has no sched_ext");
	free(out);
	out = NULL;
	/* Without it (a bare image), the VM boots and the guest must say so. */
	snprintf(kern, sizeof(kern), "%s/vmlinux", e.tmp);
	snprintf(cmd, sizeof(cmd), "ln '%s' %s 2>/dev/null || cp '%s' %s", k, kern, k, kern);
	cr_assert_eq(vmtest_sh(cmd, 60000, NULL), 0, "cannot copy %s to %s", k, kern);
	rc = run_suite(&e, "noscx.yaml", NULL, kern, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	assert_has(out, "FAIL  simple_without_sched_ext  (");
	assert_has(out, "SCHED_NOT_ATTACHED");
	assert_has(out, "sched_ext sysfs absent");
	rec = json_record(&e, "simple_without_sched_ext");
	assert_has(rec, "\"verdict\":\"SCHED_NOT_ATTACHED\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
