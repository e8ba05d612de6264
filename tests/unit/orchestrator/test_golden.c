/* Every suite under tests/golden/suites: good_*.yaml must parse and dump
 * exactly as good_*.out; bad_*.yaml must fail with exactly bad_*.err (file,
 * line, column and problem). KTSTR_UPDATE_GOLDEN=1 rewrites the files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "helpers.h"
#include "suite.h"
#include "suite_dump.h"

static void check_golden(const char *dir, const char *name, const char *got)
{
	char path[1024];
	const char *dot = strrchr(name, '.');

	snprintf(path, sizeof(path), "%s/%.*s.%s", dir, (int)(dot - name), name,
		 !strncmp(name, "good_", 5) ? "out" : "err");
	test_golden(path, got);
}

Test(golden, every_suite_matches_its_golden_output)
{
	char dir[1024];
	DIR *d;
	struct dirent *de;
	int seen_good = 0, seen_bad = 0;

	snprintf(dir, sizeof(dir), "%s/tests/golden/suites", test_srcdir());
	d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s (run from the repo root or set KTSTR_SRC_DIR)", dir);
	/* Suites are named by basename, so their directory is "." to the
	 * parser: paths they name (include_files, config_file) are found
	 * beside them from there. The golden files say "./include/..." and
	 * never where the checkout is. */
	cr_assert_eq(chdir(dir), 0, "cannot enter %s", dir);
	snprintf(dir, sizeof(dir), ".");
	while ((de = readdir(d))) {
		char path[1200], *text = NULL, err[2048] = "";
		size_t len;
		struct suite *s = NULL;
		int ret;
		size_t nl = strlen(de->d_name);

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cr_assert_eq(read_file(path, &text, &len, 1 << 20), 0);
		/* Named by basename so messages do not depend on the cwd. */
		ret = suite_parse(de->d_name, text, len, &s, err, sizeof(err));
		if (!strncmp(de->d_name, "good_", 5)) {
			char *out = NULL;
			size_t olen = 0;
			FILE *f = open_memstream(&out, &olen);

			cr_assert_eq(ret, 0, "%s should parse: %s", de->d_name, err);
			suite_dump(f, s);
			fclose(f);
			check_golden(dir, de->d_name, out);
			free(out);
			suite_free(s);
			seen_good++;
		} else {
			cr_assert_neq(ret, 0, "%s should be rejected", de->d_name);
			strcat(err, "\n");
			check_golden(dir, de->d_name, err);
			seen_bad++;
		}
		free(text);
	}
	closedir(d);
	cr_assert_geq(seen_good, 1);
	cr_assert_geq(seen_bad, 10);
}

Test(golden, every_error_names_file_line_and_column)
{
	const char *e = parse_err("tests:\n  - name: t\n    bogus: 1\n");

	cr_assert_str_eq(e, "test.yaml:3:5: unknown key 'bogus' in test (allowed: name, scheduler, "
			    "topology, scenario, duration, asserts, extra_sched_args, required_flags, "
			    "excluded_flags, constraints, requires_smt, memory_mb, timeout, performance_mode, "
			    "expect_failure, watchdog_timeout, include_files, c_test)");
}
