/* Shards end to end (docs/farms.md, "Shards" and "Merging"): a small
 * suite run whole and as shards chosen by `--partition auto` from GitLab's
 * and Slurm's variables, merged back into the whole run's records; and a
 * merge that lacks a shard's file exits 3 naming the shard. Real VMs (three
 * 1 s EEVDF tests per run) and one skip that needs none. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/shard_records.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* Sharding is proven here, not fairness: on a loaded 2-CPU TCG host the
 * default spread (15 %) and gap (2 s) limits fail now and then (spread
 * 15.3 % and 25 % seen here), so those two are widened; every other check,
 * not_starved included, holds. */
#define LOOSE "asserts: {max_spread_pct: 90, max_gap_ms: 30000}"
static const char suite_yaml[] =
	"tests:\n"
	"  - {name: e1, scenario: steady, duration: 1s, " LOOSE "}\n"
	"  - {name: e2, scenario: steady, duration: 1s, topology: {llcs: 2}, " LOOSE "}\n"
	"  - {name: needs_smt, scenario: steady, duration: 1s, requires_smt: true}\n"
	"  - {name: e3, scenario: steady, duration: 1s, " LOOSE "}\n";

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
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "unsharded run: exit %d\n%s", rc, out);
	free(out);

	/* GitLab: CI_NODE_INDEX counts from 1. */
	for (int k = 1; k <= 2; k++) {
		snprintf(cmd, sizeof(cmd),
			 "env CI_NODE_INDEX=%d CI_NODE_TOTAL=2 %s --workers 2 run %s --kernel %s "
			 "--partition auto --json %s/gl%d.json 2>&1",
			 k, e.orch, suite, e.kernel, e.tmp, k);
		rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
		cr_assert_eq(rc, 0, "GitLab shard %d: exit %d\n%s", k, rc, out);
		assert_has(out, "shard ");
		free(out);
	}
	snprintf(cmd, sizeof(cmd), "%s merge --json %s/gl.json --junit %s/gl.xml --expect-shards 2 "
				   "%s/gl2.json %s/gl1.json",
		 e.orch, e.tmp, e.tmp, e.tmp, e.tmp);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "merge: exit %d\n%s", rc, out);
	assert_has(out, "3 passed, 0 failed, 1 skipped");
	free(out);
	assert_same_records(e.tmp, "whole.json", "gl.json");
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s/gl.xml 2>&1", e.tmp);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	cr_assert(rc == 0 || rc == 127, "merged JUnit is not well-formed:\n%s", out);
	free(out);

	/* Slurm: an array --array=10-12, ids from SLURM_ARRAY_TASK_MIN. */
	for (int k = 0; k < 3; k++) {
		snprintf(cmd, sizeof(cmd),
			 "env SLURM_ARRAY_TASK_ID=%d SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_MAX=12 "
			 "SLURM_ARRAY_TASK_COUNT=3 %s --workers 2 run %s --kernel %s --partition auto "
			 "--json %s/sl%d.json 2>&1",
			 10 + k, e.orch, suite, e.kernel, e.tmp, k);
		rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
		cr_assert_eq(rc, 0, "Slurm task %d: exit %d\n%s", 10 + k, rc, out);
		free(out);
	}
	snprintf(cmd, sizeof(cmd), "%s merge --json %s/sl.json %s/sl0.json %s/sl1.json %s/sl2.json",
		 e.orch, e.tmp, e.tmp, e.tmp, e.tmp);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "merge: exit %d\n%s", rc, out);
	free(out);
	assert_same_records(e.tmp, "whole.json", "sl.json");

	/* Task 11's file never arrived. */
	snprintf(cmd, sizeof(cmd), "%s merge --json %s/part.json %s/sl0.json %s/sl2.json 2>&1",
		 e.orch, e.tmp, e.tmp, e.tmp);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 3, "a missing shard is an infrastructure error: exit %d\n%s", rc, out);
	assert_has(out, "shard 2 of 3 missing: no file given carries it");
	free(out);
	snprintf(cmd, sizeof(cmd), "grep -c '\"name\":\"ktstr-shard/2-of-3\",\"verdict\":\"INFRA_ERROR\"' "
				   "%s/part.json", e.tmp);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "the merged report has a record for the missing shard:\n%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}
