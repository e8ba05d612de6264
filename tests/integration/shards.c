/* Shards end to end (docs/farms.md, "Shards" and "Merging"): a small
 * suite run whole and as shards chosen by `--partition auto` from GitLab's
 * and Slurm's variables, merged back into the whole run's records; and a
 * merge that lacks a shard's file exits 3 naming the shard. Real VMs (three
 * 1 s EEVDF tests per run) and one skip that needs none. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

static const char suite_yaml[] =
	"tests:\n"
	"  - {name: e1, scenario: steady, duration: 1s}\n"
	"  - {name: e2, scenario: steady, duration: 1s, topology: {llcs: 2}}\n"
	"  - {name: needs_smt, scenario: steady, duration: 1s, requires_smt: true}\n"
	"  - {name: e3, scenario: steady, duration: 1s}\n";

/* What differs from one run of a test to the next by time alone. */
static const char *const timing[] = { "wall_ms", "vm", "metrics", "stimulus_events",
				      /* the console's kernel timestamps, the run's start */
				      "console_tail", "run" };

static int sh(const char *cmd, char **out)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int status = 0;

	cr_assert_eq(vmtest_run(argv, RUN_TIMEOUT_MS, out, &status), 0, "hung: %s", cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static json_object *load(const char *path)
{
	json_object *o = json_object_from_file(path);

	cr_assert_not_null(o, "%s: %s", path, json_util_get_last_err());
	cr_assert(json_object_is_type(o, json_type_array), "%s", path);
	return o;
}

/* Same records, same order, same keys in the same order, same values
 * but for the timing fields. */
static void assert_same_records(const char *dir, const char *whole_name, const char *merged_name)
{
	char wp[1100], mp[1100];
	json_object *whole, *merged;
	size_t n;

	snprintf(wp, sizeof(wp), "%s/%s", dir, whole_name);
	snprintf(mp, sizeof(mp), "%s/%s", dir, merged_name);
	whole = load(wp);
	merged = load(mp);
	n = json_object_array_length(whole);

	cr_assert_eq(json_object_array_length(merged), n, "record count");
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(whole, i);
		json_object *b = json_object_array_get_idx(merged, i);
		struct json_object_iterator ia = json_object_iter_begin(a), ea = json_object_iter_end(a);
		struct json_object_iterator ib = json_object_iter_begin(b), eb = json_object_iter_end(b);

		for (; !json_object_iter_equal(&ia, &ea); json_object_iter_next(&ia),
							  json_object_iter_next(&ib)) {
			const char *k = json_object_iter_peek_name(&ia);
			bool timed = false;

			cr_assert(!json_object_iter_equal(&ib, &eb), "record %zu: merged lacks %s", i, k);
			cr_assert_str_eq(json_object_iter_peek_name(&ib), k, "record %zu: key order", i);
			for (size_t t = 0; t < sizeof(timing) / sizeof(timing[0]); t++)
				timed |= !strcmp(k, timing[t]);
			if (!timed)
				cr_assert(json_object_equal(json_object_iter_peek_value(&ia),
							    json_object_iter_peek_value(&ib)),
					  "record %zu key %s: %s vs %s", i, k,
					  json_object_to_json_string(json_object_iter_peek_value(&ia)),
					  json_object_to_json_string(json_object_iter_peek_value(&ib)));
		}
		cr_assert(json_object_iter_equal(&ib, &eb), "record %zu: merged has more keys", i);
	}
	json_object_put(whole);
	json_object_put(merged);
}

Test(shards, gitlab_and_slurm_shards_merge_into_the_unsharded_run, .timeout = 900)
{
	struct suite_env e;
	char cmd[8192], suite[1200], *out = NULL;
	FILE *f;
	int rc;

	suite_env_init(&e, false);
	snprintf(suite, sizeof(suite), "%s/shards.yaml", e.tmp);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	fputs(suite_yaml, f);
	fclose(f);

	snprintf(cmd, sizeof(cmd), "%s --workers 2 run %s --kernel %s --json %s/whole.json 2>&1",
		 e.orch, suite, e.kernel, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "unsharded run: exit %d\n%s", rc, out);
	free(out);

	/* GitLab: CI_NODE_INDEX counts from 1. */
	for (int k = 1; k <= 2; k++) {
		snprintf(cmd, sizeof(cmd),
			 "env CI_NODE_INDEX=%d CI_NODE_TOTAL=2 %s --workers 2 run %s --kernel %s "
			 "--partition auto --json %s/gl%d.json 2>&1",
			 k, e.orch, suite, e.kernel, e.tmp, k);
		rc = sh(cmd, &out);
		cr_assert_eq(rc, 0, "GitLab shard %d: exit %d\n%s", k, rc, out);
		assert_has(out, "shard ");
		free(out);
	}
	snprintf(cmd, sizeof(cmd), "%s merge --json %s/gl.json --junit %s/gl.xml --expect-shards 2 "
				   "%s/gl2.json %s/gl1.json",
		 e.orch, e.tmp, e.tmp, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "merge: exit %d\n%s", rc, out);
	assert_has(out, "3 passed, 0 failed, 1 skipped");
	free(out);
	assert_same_records(e.tmp, "whole.json", "gl.json");
	/* Valid against the schema, with the cases' file and line and the
	 * console in system-out, as a run's own JUnit (docs/results.md). */
	snprintf(cmd, sizeof(cmd),
		 "xmllint --noout --schema %s/tests/data/junit.xsd %s/gl.xml 2>&1 | grep -v ' validates$'; "
		 "xmllint --noout --schema %s/tests/data/junit.xsd %s/gl.xml 2>/dev/null && "
		 "grep -c ' line=\"[0-9]*\">' %s/gl.xml && grep -c '<system-out>' %s/gl.xml",
		 e.src, e.tmp, e.src, e.tmp, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "merged JUnit is not valid:\n%s", out);
	cr_assert_str_eq(out, "4\n3\n", "4 cases with a line, 3 with a console:\n%s", out);
	free(out);

	/* Slurm: an array --array=10-12, ids from SLURM_ARRAY_TASK_MIN. */
	for (int k = 0; k < 3; k++) {
		snprintf(cmd, sizeof(cmd),
			 "env SLURM_ARRAY_TASK_ID=%d SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_MAX=12 "
			 "SLURM_ARRAY_TASK_COUNT=3 %s --workers 2 run %s --kernel %s --partition auto "
			 "--json %s/sl%d.json 2>&1",
			 10 + k, e.orch, suite, e.kernel, e.tmp, k);
		rc = sh(cmd, &out);
		cr_assert_eq(rc, 0, "Slurm task %d: exit %d\n%s", 10 + k, rc, out);
		free(out);
	}
	snprintf(cmd, sizeof(cmd), "%s merge --json %s/sl.json %s/sl0.json %s/sl1.json %s/sl2.json",
		 e.orch, e.tmp, e.tmp, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "merge: exit %d\n%s", rc, out);
	free(out);
	assert_same_records(e.tmp, "whole.json", "sl.json");

	/* Task 11's file never arrived. */
	snprintf(cmd, sizeof(cmd), "%s merge --json %s/part.json %s/sl0.json %s/sl2.json 2>&1",
		 e.orch, e.tmp, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 3, "a missing shard is an infrastructure error: exit %d\n%s", rc, out);
	assert_has(out, "shard 2 of 3 missing: no file given carries it");
	free(out);
	snprintf(cmd, sizeof(cmd), "grep -c '\"name\":\"ktstr-shard/2-of-3\",\"verdict\":\"INFRA_ERROR\"' "
				   "%s/part.json", e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "the merged report has a record for the missing shard:\n%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}
