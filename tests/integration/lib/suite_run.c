/* See suite_run.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ktstr/util.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* ktstr-orch drops root before the initramfs builder reads the scheduler
 * binaries; $KTSTR_SCHEDULER_PATH is usually under /root (0700), so the
 * tests hand it world-readable copies, as a user would install them. */
static void stage_schedulers(struct suite_env *e)
{
	const char *p = getenv("KTSTR_SCHEDULER_PATH");
	char cmd[16384], *out = NULL;

	if (!p || !*p)
		test_missing("KTSTR_SCHEDULER_PATH unset: build the schedulers with "
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

void suite_env_init(struct suite_env *e, bool schedulers)
{
	memset(e, 0, sizeof(*e));
	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", e->kernel, sizeof(e->kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	cr_assert_eq(vmtest_src_dir(e->src, sizeof(e->src)), 0);
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
	/* the orchestrator writes nothing here, but runs as nobody */
	cr_assert_eq(chmod(e->tmp, 0755), 0);
	if (schedulers)
		stage_schedulers(e);
}

/* `ktstr-orch --workers 1 run SUITE --json tmp/r.json [--filter F]` on
 * kernel (NULL = the test kernel). Returns the exit status; output in *out. */
int run_suite(const struct suite_env *e, const char *suite, const char *filter,
		     const char *kernel, char **out)
{
	return run_suite_args(e, suite, filter, kernel, NULL, out);
}

int run_suite_args(const struct suite_env *e, const char *suite, const char *filter,
		   const char *kernel, const char *args, char **out)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/tests/suites/%s", e->src, suite);
	return run_suite_path(e, path, filter, kernel, args, out);
}

int run_suite_path(const struct suite_env *e, const char *suite_path, const char *filter,
		   const char *kernel, const char *args, char **out)
{
	char cmd[16384];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int status = 0, ret;

	snprintf(cmd, sizeof(cmd),
		 "%s%s%s %s --workers 1 run %s --kernel %s --json %s/r.json%s%s %s "
		 "2>&1",
		 e->staged ? "KTSTR_SCHEDULER_PATH=" : "", e->staged ? e->tmp : "",
		 e->staged ? "/bin" : "", e->orch, suite_path, kernel ? kernel : e->kernel,
		 e->tmp, filter ? " --filter " : "", filter ? filter : "", args ? args : "");
	ret = vmtest_run(argv, RUN_TIMEOUT_MS, out, &status);
	cr_assert_eq(ret, 0, "ktstr-orch did not finish within %d s: %s", RUN_TIMEOUT_MS / 1000,
		     cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int sh_status(const char *cmd, int timeout_ms, char **out)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int status = 0;

	cr_assert_eq(vmtest_run(argv, timeout_ms, out, &status), 0, "did not end within %d s: %s",
		     timeout_ms / 1000, cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The --json record of test `name` (one record per line), malloc'd. */
char *json_record(const struct suite_env *e, const char *name)
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

