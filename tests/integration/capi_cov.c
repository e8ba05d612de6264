/* run --coverage end to end (docs/c-api.md, "Coverage"): build/tests/capi-cov
 * (gcc --coverage, two tests that each call counted() once) runs through
 * its own `run --coverage DIR` in two QEMU VMs. Each VM's .gcda comes back
 * through the ring to DIR/TEST/<absolute object directory>/, where gcov
 * (with the build's .gcno) counts the marked line once; `gcov-tool merge`
 * of the two trees counts it twice; a line neither test runs stays
 * unexecuted. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

#define SRC_REL "tests/integration/data/capi_cov.c"

/* The count gcov gives the source line holding mark, in dir (which holds
 * capi_cov.gcno and capi_cov.gcda): "1", "2", "#####". gcov runs in the
 * source tree, where the .gcno's relative source path was compiled. */
static void gcov_count(const char *dir, const char *src, const char *mark, char *count, size_t len)
{
	char cmd[8192], *out = NULL, *line, *colon;

	snprintf(cmd, sizeof(cmd), "cd %.2000s && gcov -t -o %.2000s " SRC_REL " 2>&1", src, dir);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s:\n%s", cmd, out);
	line = strstr(out, mark);
	cr_assert_not_null(line, "no line with %s in gcov's output:\n%s", mark, out);
	while (line > out && line[-1] != '\n')
		line--;
	colon = strchr(line, ':');
	cr_assert_not_null(colon);
	while (*line == ' ')
		line++;
	snprintf(count, len, "%.*s", (int)(colon - line), line);
	free(out);
}

Test(capi_cov, two_vms_counts_merge, .timeout = 900)
{
	char build[PATH_MAX], objdir[PATH_MAX], src[PATH_MAX], cov[PATH_MAX + 8];
	char cmd[16384], vm[2][PATH_MAX], count[32], *out = NULL;
	struct suite_env e;
	struct dirent *de;
	DIR *d;
	int n = 0, status = 0;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	suite_env_init(&e, true);
	cr_assert_eq(vmtest_build_dir(build, sizeof(build)), 0);
	snprintf(cmd, sizeof(cmd), "%s/tests/capi-cov-obj", build);
	if (!realpath(cmd, objdir) || access("/usr/bin/gcov-tool", X_OK))
		test_missing("build/tests/capi-cov (make tests-build) or gcov-tool (gcc)");
	cr_assert_eq(vmtest_src_dir(src, sizeof(src)), 0);
	snprintf(cov, sizeof(cov), "%s/cov", e.tmp);
	snprintf(cmd, sizeof(cmd),
		 "KTSTR_ORCH=%s KTSTR_SCHEDULER_PATH=%s/bin %s/tests/capi-cov run --workers 1 "
		 "--kernel %s --coverage %s --filter cov_ 2>&1",
		 e.orch, e.tmp, build, e.kernel, cov);
	cr_assert_eq(vmtest_run(argv, RUN_TIMEOUT_MS, &out, &status), 0, "%s", cmd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s:\n%s", cmd, out);
	assert_has(out, "PASS  cov_one  (");
	assert_has(out, "PASS  cov_two  (");
	assert_has(out, "coverage: 2 file(s) from 2 VM(s) under ");
	free(out);

	/* One tree per VM, the .gcda at its absolute build path. */
	d = opendir(cov);
	cr_assert_not_null(d, "%s", cov);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			cr_assert_lt(n, 2, "more than two VM trees in %s", cov);
			snprintf(vm[n++], sizeof(vm[0]), "%.3000s/%.255s", cov, de->d_name);
		}
	closedir(d);
	cr_assert_eq(n, 2, "%d VM trees in %s", n, cov);
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p %.1500s/g%d && cp %.1500s/capi_cov.gcno %.1500s/g%d/ && cp %.1500s%.1500s/capi_cov.gcda %.1500s/g%d/",
			 e.tmp, i, objdir, e.tmp, i, vm[i], objdir, e.tmp, i);
		cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s:\n%s", cmd, out);
		free(out);
		snprintf(cmd, sizeof(cmd), "%s/g%d", e.tmp, i);
		gcov_count(cmd, src, "KTSTR-COV-MARK", count, sizeof(count));
		cr_assert_str_eq(count, "1", "VM %s: the marked line ran %s times", vm[i], count);
	}
	/* The documented merge: the two trees summed. */
	snprintf(cmd, sizeof(cmd),
		 "gcov-tool merge -o %.1500s/merged %.1500s %.1500s && mkdir -p %.1500s/gm && cp %.1500s/capi_cov.gcno %.1500s/gm/ && "
		 "cp %.1500s/merged%.1500s/capi_cov.gcda %.1500s/gm/",
		 e.tmp, vm[0], vm[1], e.tmp, objdir, e.tmp, e.tmp, objdir, e.tmp);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s:\n%s", cmd, out);
	free(out);
	snprintf(cmd, sizeof(cmd), "%s/gm", e.tmp);
	gcov_count(cmd, src, "KTSTR-COV-MARK", count, sizeof(count));
	cr_assert_str_eq(count, "2", "merged: the marked line ran %s times", count);
	gcov_count(cmd, src, "KTSTR-COV-NEVER", count, sizeof(count));
	cr_assert_str_eq(count, "#####", "merged: a line never run counts %s", count);
	vmtest_rm_rf(e.tmp);
}

/* The count llvm-cov gives the line holding mark ("   13|      2|  code"). */
static void llvm_count(const char *bin, const char *profdata, const char *mark, char *count,
		       size_t len)
{
	char cmd[8192], *out = NULL, *line, *bar;

	snprintf(cmd, sizeof(cmd), "llvm-cov show %.2000s -instr-profile=%.2000s 2>&1", bin,
		 profdata);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s:\n%s", cmd, out);
	line = strstr(out, mark);
	cr_assert_not_null(line, "no line with %s in llvm-cov's output:\n%s", mark, out);
	while (line > out && line[-1] != '\n')
		line--;
	bar = strchr(line, '|');
	cr_assert_not_null(bar);
	line = bar + 1;
	while (*line == ' ')
		line++;
	snprintf(count, len, "%.*s", (int)strcspn(line, "|"), line);
	free(out);
}

/* clang -fprofile-instr-generate: each VM's .profraw lands in DIR/TEST/,
 * and llvm-profdata merge sums them: the marked line 1 per VM, 2 merged. */
Test(capi_cov, clang_profraw_two_vms_merge, .timeout = 900)
{
	char build[PATH_MAX], bin[PATH_MAX + 32], cov[PATH_MAX + 8], cmd[16384], pd[PATH_MAX + 32];
	char count[32], *out = NULL;
	struct suite_env e;
	int status = 0;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	suite_env_init(&e, true);
	cr_assert_eq(vmtest_build_dir(build, sizeof(build)), 0);
	snprintf(bin, sizeof(bin), "%.2000s/tests/capi-cov-clang", build);
	if (access(bin, X_OK) || access("/usr/bin/llvm-profdata", X_OK) ||
	    access("/usr/bin/llvm-cov", X_OK))
		test_missing("build/tests/capi-cov-clang (make tests-build with clang) or "
			     "llvm-profdata/llvm-cov (llvm)");
	snprintf(cov, sizeof(cov), "%.2000s/cov", e.tmp);
	snprintf(cmd, sizeof(cmd),
		 "LLVM_PROFILE_FILE=%s/host.profraw KTSTR_ORCH=%s KTSTR_SCHEDULER_PATH=%s/bin %s run "
		 "--workers 1 --kernel %s --coverage %s --filter cov_ 2>&1",
		 e.tmp, e.orch, e.tmp, bin, e.kernel, cov);
	cr_assert_eq(vmtest_run(argv, RUN_TIMEOUT_MS, &out, &status), 0, "%s", cmd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s:\n%s", cmd, out);
	assert_has(out, "coverage: 2 file(s) from 2 VM(s) under ");
	free(out);
	/* The host role's own profile went where LLVM_PROFILE_FILE said, not
	 * into the working directory or among the guests'. */
	snprintf(pd, sizeof(pd), "%.2000s/host.profraw", e.tmp);
	cr_assert_eq(access(pd, F_OK), 0, "the host role wrote no %s", pd);
	for (int i = 0; i < 2; i++) {
		const char *t = i ? "cov_two" : "cov_one";

		snprintf(pd, sizeof(pd), "%.2000s/%d.profdata", e.tmp, i);
		snprintf(cmd, sizeof(cmd), "llvm-profdata merge -o %.2000s %.2000s/%s/ktstr-*.profraw",
			 pd, cov, t);
		cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s:\n%s", cmd, out);
		free(out);
		llvm_count(bin, pd, "KTSTR-COV-MARK", count, sizeof(count));
		cr_assert_str_eq(count, "1", "%s: the marked line ran %s times", t, count);
	}
	snprintf(pd, sizeof(pd), "%.2000s/m.profdata", e.tmp);
	snprintf(cmd, sizeof(cmd), "llvm-profdata merge -o %.2000s %.2000s/*/ktstr-*.profraw", pd,
		 cov);
	cr_assert_eq(vmtest_sh(cmd, 60000, &out), 0, "%s:\n%s", cmd, out);
	free(out);
	llvm_count(bin, pd, "KTSTR-COV-MARK", count, sizeof(count));
	cr_assert_str_eq(count, "2", "merged: the marked line ran %s times", count);
	llvm_count(bin, pd, "KTSTR-COV-NEVER", count, sizeof(count));
	cr_assert_str_eq(count, "0", "merged: a line never run counts %s", count);
	vmtest_rm_rf(e.tmp);
}

/* A suite without a c_test: --coverage would collect nothing, so it is
 * refused before any VM starts. */
Test(capi_cov, refused_without_c_test)
{
	struct suite_env e;
	char cmd[4096], *out = NULL;
	int rc;

	suite_env_init(&e, false);
	snprintf(cmd, sizeof(cmd), "%s run --coverage %s/cov %s/tests/suites/noscx.yaml 2>&1",
		 e.orch, e.tmp, e.src);
	rc = sh_status(cmd, 60000, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "--coverage: ");
	assert_has(out, "has no c_test test");
	free(out);
	vmtest_rm_rf(e.tmp);
}
