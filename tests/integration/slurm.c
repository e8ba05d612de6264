/* Shards on a real job scheduler (docs/farms.md, "Proof on Slurm"): a
 * private Slurm cluster on localhost (Debian's slurmctld, slurmd and
 * munged, its own key, ports, spool and state in a temp dir) runs
 * tests/suites/slurm-shards.yaml as a 4-task job array, each task a
 * `ktstr-orch run --partition auto` that reads its shard from Slurm's own
 * variables. One task is cancelled (scancel) and one has its ktstr-orch
 * killed with SIGKILL mid-run: the merge is an infrastructure error that
 * names the shard with no file, never fewer tests. Both tasks requeued, the
 * merge equals one unsharded run record for record.
 *
 * The cluster lives in its own PID namespace (unshare --pid --kill-child,
 * under PR_SET_PDEATHSIG): whatever happens to this test, even criterion
 * killing it at its timeout, no daemon or job outlives it; the test
 * proves from /proc that none did. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ktstr/util.h"
#include "lib/shard_records.h"
#include "lib/slurm_cluster.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

#define TASKS 4
#define ARRAY_MS (600 * 1000)	  /* every task of the array ended */
#define STARTED_MS (300 * 1000)	  /* a task's ktstr-orch running */
#define VM_GONE_MS (10 * 1000)	  /* a killed task's worker and QEMU gone */

/* Waits (bounded) until task's ktstr-orch is mid-run: its shard chosen
 * and a VM of it started (the worker says so in the task's log). */
static void wait_task_started(const char *job, int task)
{
	const char *dir = slurm_cluster_dir();
	char log[64], cmd[2600];
	long end = (long)ktstr_now_ms() + STARTED_MS;

	snprintf(log, sizeof(log), "task-%d.log", task);
	snprintf(cmd, sizeof(cmd), "grep -q -- '--partition auto: shard' %s/%s && "
				   "grep -q 'worker: running ' %s/%s",
		 dir, log, dir, log);
	while (vmtest_sh(cmd, SLURM_CMD_MS, NULL)) {
		char id[64], state[64];

		snprintf(id, sizeof(id), "%s_%d", job, task);
		slurm_job_field(id, "JobState", state, sizeof(state));
		cr_assert(!strcmp(state, "PENDING") || !strcmp(state, "RUNNING"),
			  "task %s is %s before its ktstr-orch started\n%s", id, state, slurm_log_tail(log));
		cr_assert_lt((long)ktstr_now_ms(), end, "task %s: no VM of its ktstr-orch started within %d s",
			     id, STARTED_MS / 1000);
		slurm_nap_ms(500);
	}
}


/* Task job_task's state and exit code (want_exit NULL: any), said with
 * its run time on stderr (the measured figures of docs/farms.md). */
static void assert_task(const char *job, int task, const char *want_state, const char *want_exit)
{
	char id[64], state[64], code[64], run[64], log[64];

	snprintf(id, sizeof(id), "%s_%d", job, task);
	snprintf(log, sizeof(log), "task-%d.log", task);
	slurm_job_field(id, "JobState", state, sizeof(state));
	slurm_job_field(id, "ExitCode", code, sizeof(code));
	slurm_job_field(id, "RunTime", run, sizeof(run));
	fprintf(stderr, "slurm: task %s %s exit %s run time %s\n", id, state, code, run);
	cr_assert_str_eq(state, want_state, "task %s\n%s", id, slurm_log_tail(log));
	if (want_exit)
		cr_assert_str_eq(code, want_exit, "task %s\n%s", id, slurm_log_tail(log));
}

/* "name=VERDICT ..." of a --json report's records, in its order. */
static void verdicts(const char *file, char *buf, size_t len)
{
	const char *dir = slurm_cluster_dir();
	char path[1200];
	json_object *a;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	a = json_object_from_file(path);
	cr_assert_not_null(a, "%s: %s", path, json_util_get_last_err());
	cr_assert(json_object_is_type(a, json_type_array), "%s", path);
	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *r = json_object_array_get_idx(a, i), *name, *verdict;

		cr_assert(json_object_object_get_ex(r, "name", &name) &&
				  json_object_object_get_ex(r, "verdict", &verdict),
			  "%s: record %zu: %s", path, i, json_object_to_json_string(r));
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s=%s", i ? " " : "",
			 json_object_get_string(name), json_object_get_string(verdict));
	}
	json_object_put(a);
}

TestSuite(slurm, .init = slurm_cluster_start, .fini = slurm_cluster_teardown);

Test(slurm, job_array_shards_merge_into_the_unsharded_run_and_a_killed_task_is_missing,
     .timeout = 1500)
{
	const char *dir = slurm_cluster_dir();
	struct suite_env e;
	char cmd[8192], script[1100], job[64], what[4096], *out = NULL;
	long t0 = (long)ktstr_now_ms(), t;
	int rc, left;

	suite_env_init(&e, false);
	/* One task: its shard, chosen by --partition auto from Slurm's
	 * variables. exec, so that the task's ktstr-orch is its batch step. */
	snprintf(script, sizeof(script), "%s/task.sh", dir);
	snprintf(cmd, sizeof(cmd),
		 "#!/bin/sh\n"
		 "exec %s --workers 1 run %s/tests/suites/slurm-shards.yaml --kernel %s "
		 "--partition auto --allow-empty --json %s/shard-$SLURM_ARRAY_TASK_ID.json\n",
		 e.orch, e.src, e.kernel, dir);
	slurm_write_file(script, cmd, 0755);
	snprintf(cmd, sizeof(cmd),
		 "sbatch --parsable --array=0-%d --cpus-per-task=1 --job-name=ktstr-shards "
		 "--chdir=%s --output=%s/task-%%a.log %s 2>&1",
		 TASKS - 1, dir, dir, script);
	rc = sh_status(cmd, SLURM_CMD_MS, &out);
	cr_assert_eq(rc, 0, "sbatch: %s", out);
	cr_assert_lt(strcspn(out, "\n"), sizeof(job));
	snprintf(job, sizeof(job), "%.*s", (int)strcspn(out, "\n;"), out);
	free(out);

	/* Task 1 cancelled the way a user or a time limit does: SIGTERM,
	 * then SIGKILL. */
	wait_task_started(job, 1);
	snprintf(cmd, sizeof(cmd), "scancel %s_1 2>&1", job);
	rc = sh_status(cmd, SLURM_CMD_MS, &out);
	cr_assert_eq(rc, 0, "%s: %s", cmd, out);
	free(out);
	/* Task 2's ktstr-orch killed outright, as the OOM killer would. */
	wait_task_started(job, 2);
	snprintf(cmd, sizeof(cmd), "%s/shard-2.json", dir);
	cr_assert_geq(slurm_ns_procs(cmd, SIGKILL, what, sizeof(what)), 1,
		      "task 2's ktstr-orch not found");
	fprintf(stderr, "slurm: killed task 2's ktstr-orch: %s", what);

	slurm_wait_job_ended(job, ARRAY_MS);
	t = (long)ktstr_now_ms();
	fprintf(stderr, "slurm: array with two tasks killed ended after %ld s\n", (t - t0) / 1000);
	/* No VM outlives its task, not even the one whose ktstr-orch got
	 * SIGKILL: every task has ended, so no worker or QEMU may be left. */
	for (long end = t + VM_GONE_MS;; slurm_nap_ms(200)) {
		left = slurm_ns_procs("ktstr-vmm-worker", 0, what, sizeof(what));
		if (!left)
			left = slurm_ns_procs("qemu-system-x86_64", 0, what, sizeof(what));
		if (!left)
			break;
		cr_assert_lt((long)ktstr_now_ms(), end, "%d VM processes outlived their tasks by %d s:\n%s",
			     left, VM_GONE_MS / 1000, what);
	}
	fprintf(stderr, "slurm: no VM process left %ld ms after the tasks ended\n", (long)ktstr_now_ms() - t);
	assert_task(job, 0, "COMPLETED", "0:0");
	assert_task(job, 1, "CANCELLED", NULL);
	assert_task(job, 2, "FAILED", "0:9");
	assert_task(job, 3, "COMPLETED", "0:0");

	snprintf(cmd, sizeof(cmd), "cd %s && %s merge --expect-shards %d --json partial.json "
				   "shard-*.json 2>&1",
		 dir, e.orch, TASKS);
	rc = sh_status(cmd, SLURM_CMD_MS, &out);
	fprintf(stderr, "slurm: merge without tasks 1 and 2 (exit %d):\n%s", rc, out);
	cr_assert_eq(rc, 3, "a killed task is an infrastructure error: exit %d\n%s", rc, out);
	assert_has(out, "shard 3 of 4 missing: no file given carries it");
	assert_has(out, "1 of the 4 selected variants were in the missing shards");
	assert_has(out, "1 passed, 2 failed, 1 skipped");
	free(out);
	snprintf(cmd, sizeof(cmd), "grep -q 'stopping every VM' %s/task-1.log", dir);
	cr_assert_eq(vmtest_sh(cmd, SLURM_CMD_MS, NULL), 0, "task 1 was not stopped mid-run by SIGTERM\n%s",
		     slurm_log_tail("task-1.log"));
	/* The balanced assignment (tests/suites/slurm-shards.yaml) puts e2 in
	 * shard 2 (task 1) and e3 in shard 3 (task 2). Task 1's ktstr-orch,
	 * stopped by SIGTERM, wrote its shard with e2 STOPPED; task 2's wrote
	 * nothing: its shard is a record of its own, never left out. */
	verdicts("partial.json", what, sizeof(what));
	fprintf(stderr, "slurm: merged records: %s\n", what);
	cr_assert_str_eq(what, "e1=PASS e2=STOPPED needs_smt=SKIP ktstr-shard/3-of-4=INFRA_ERROR");

	/* Rerun both, as the farm's operator would, and the merge is whole. */
	slurm_requeue(job, 1);
	slurm_requeue(job, 2);
	slurm_wait_job_ended(job, ARRAY_MS);
	fprintf(stderr, "slurm: requeued tasks ended after %ld s\n", ((long)ktstr_now_ms() - t) / 1000);
	for (int k = 0; k < TASKS; k++)
		assert_task(job, k, "COMPLETED", "0:0");
	snprintf(cmd, sizeof(cmd), "cd %s && %s merge --expect-shards %d --json merged.json "
				   "--junit merged.xml shard-*.json 2>&1",
		 dir, e.orch, TASKS);
	rc = sh_status(cmd, SLURM_CMD_MS, &out);
	fprintf(stderr, "slurm: merge of the 4 tasks (exit %d):\n%s", rc, out);
	cr_assert_eq(rc, 0, "merge: exit %d\n%s", rc, out);
	assert_has(out, "3 passed, 0 failed, 1 skipped");
	free(out);
	verdicts("merged.json", what, sizeof(what));
	cr_assert_str_eq(what, "e1=PASS e2=PASS needs_smt=SKIP e3=PASS");

	/* The same suite, unsharded, outside Slurm. */
	t = (long)ktstr_now_ms();
	snprintf(cmd, sizeof(cmd), "%s --workers 1 run %s/tests/suites/slurm-shards.yaml --kernel %s "
				   "--json %s/whole.json 2>&1",
		 e.orch, e.src, e.kernel, dir);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	fprintf(stderr, "slurm: unsharded run (exit %d, %ld s):\n%s", rc, ((long)ktstr_now_ms() - t) / 1000,
		out);
	cr_assert_eq(rc, 0, "unsharded run: exit %d\n%s", rc, out);
	assert_has(out, "3 passed, 0 failed, 1 skipped");
	free(out);
	assert_same_records(dir, "whole.json", "merged.json");

	t = (long)ktstr_now_ms();
	left = slurm_cluster_stop(what, sizeof(what));
	cr_assert_eq(left, 0, "%d processes of the cluster outlived its teardown:\n%s", left, what);
	fprintf(stderr, "slurm: cluster stopped, no process left, in %ld ms\n", (long)ktstr_now_ms() - t);
	fprintf(stderr, "slurm: whole test %ld s\n", ((long)ktstr_now_ms() - t0) / 1000);
	vmtest_rm_rf(e.tmp);
}
