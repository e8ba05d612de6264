/* Schedulers and tests as C code (docs/c-api.md). One binary, two roles:
 *
 *   ./ktstr-example-sched_tests list              the plan, as ktstr-orch list shows it
 *   ./ktstr-example-sched_tests run --filter simple   run in VMs (ktstr-orch run options)
 *   ./ktstr-example-sched_tests suite             the same tests as a suite file
 *
 * In the VM, ktstr-guest runs `./ktstr-example-sched_tests --ktstr-guest-run NAME`
 * after the scheduler is up; the function's checks are the test's verdict.
 * Built by `make examples` (static and shared libktstr). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fork, pipe under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/ktstr.h>

/* scx_simple, the kernel's example scheduler (scripts/build-schedulers), found
 * by name. Two flags: `verbose` requires `fifo`, so the profiles are
 * default, fifo and fifo+verbose, never verbose alone. */
static const struct ktstr_scheduler SIMPLE = {
	.name = "simple",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_simple",
	.flags = (const struct ktstr_flag[]){
		{ .name = "fifo", .args = KTSTR_LIST("-f") },
		{ .name = "verbose", .args = KTSTR_LIST("-v"), .requires_flags = KTSTR_LIST("fifo") },
		{ 0 },
	},
	.asserts = { .max_gap_ms = KTSTR_SET(3000) },
};

/* ktstr's own fixture scheduler (schedulers/fixture), healthy. */
static const struct ktstr_scheduler FIXTURE = {
	.name = "ktstr",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_ktstr",
	.ops_name = "ktstr",
};

/* A workload of the test's own: forked children run a loop of ours (an LCG
 * walk) for 300 ms each and report how far they got through a pipe; beside
 * them, one of the guest's work types under the scenario engine. */
static unsigned long long own_loop(unsigned ms)
{
	struct timespec t0, t;
	unsigned long long n = 0, x = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 4096; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < (long)ms);
	return x ? n : n + 1; /* x used: the loop is not optimised away */
}

static int custom_workload(struct ktstr_ctx *ctx)
{
	unsigned nchild = ktstr_ncpus(ctx);
	int bad = 0;

	for (unsigned i = 0; i < nchild; i++) {
		int fd[2];
		unsigned long long n = 0;
		pid_t p;

		if (pipe(fd))
			return ktstr_fail(ctx, "setup", "pipe failed");
		p = fork();
		if (p == 0) {
			unsigned long long got = own_loop(300);

			(void)!write(fd[1], &got, sizeof(got));
			_exit(0);
		}
		close(fd[1]);
		if (p < 0 || read(fd[0], &n, sizeof(n)) != (ssize_t)sizeof(n))
			bad |= ktstr_fail(ctx, "own_loop", "child %u reported nothing", i);
		close(fd[0]);
		if (p > 0)
			waitpid(p, NULL, 0);
		printf("own loop child %u: %llu rounds in 300 ms\n", i, n);
		bad |= ktstr_check(ctx, n > 0, "child %u made no progress", i);
	}
	if (ktstr_cgroup_add(ctx, "mixed", 2, KTSTR_WORK_MIXED))
		return ktstr_fail(ctx, "setup", "%s", ktstr_error(ctx));
	if (ktstr_run(ctx, 1000) < 0)
		return 1;
	for (size_t i = 0; i < ktstr_nworkers(ctx); i++) {
		struct ktstr_worker_stats w;

		ktstr_worker(ctx, i, &w);
		printf("worker %u (%s): %llu work units, %llu iterations\n", (unsigned)w.tid,
		       w.cgroup, (unsigned long long)w.work_units,
		       (unsigned long long)w.iterations);
		bad |= ktstr_check(ctx, w.iterations > 0, "worker %u ran no iteration",
				   (unsigned)w.tid);
	}
	return bad;
}

/* Two cgroups on disjoint CPUs: the isolation assert (the YAML check) and a
 * check of ours over the telemetry both say no worker left its cpuset. */
static int cpuset_check(struct ktstr_ctx *ctx)
{
	int bad = 0;

	if (ktstr_ncpus(ctx) < 2)
		return ktstr_skip(ctx, "needs 2 CPUs, the VM has %u", ktstr_ncpus(ctx));
	if (ktstr_cgroup_add(ctx, "a", 2, KTSTR_WORK_CPU_SPIN) ||
	    ktstr_cgroup_cpus(ctx, "a", "0") || ktstr_cgroup_add(ctx, "b", 2, KTSTR_WORK_CPU_SPIN) ||
	    ktstr_cgroup_cpus(ctx, "b", "1"))
		return ktstr_fail(ctx, "setup", "%s", ktstr_error(ctx));
	if (ktstr_run(ctx, 1000))
		return 1;
	for (size_t i = 0; i < ktstr_nworkers(ctx); i++) {
		struct ktstr_worker_stats w;
		uint32_t want;

		ktstr_worker(ctx, i, &w);
		want = strcmp(w.cgroup, "a") ? 1 : 0;
		for (uint32_t k = 0; k < w.ncpus_used; k++)
			bad |= ktstr_check(ctx, w.cpus_used[k] == want,
					   "worker %u of %s ran on cpu %u, outside its cpuset %u",
					   (unsigned)w.tid, w.cgroup, (unsigned)w.cpus_used[k],
					   (unsigned)want);
	}
	return bad;
}

KTSTR_TEST(simple_custom_workload, .scheduler = &SIMPLE, .required_flags = KTSTR_LIST("fifo"))
{
	return custom_workload(ctx);
}

KTSTR_TEST(simple_cpuset, .scheduler = &SIMPLE, .llcs = 2,
	   .asserts = { .isolation = KTSTR_SET(1) })
{
	return cpuset_check(ctx);
}

KTSTR_TEST(ktstr_custom_workload, .scheduler = &FIXTURE)
{
	return custom_workload(ctx);
}

KTSTR_TEST(ktstr_cpuset, .scheduler = &FIXTURE, .asserts = { .isolation = KTSTR_SET(1) })
{
	return cpuset_check(ctx);
}

/* Steps: a cgroup pinned by affinity to CPU 1, a second cgroup added after
 * 400 ms and stopped 400 ms later, then a last hold. Checked on the
 * telemetry: the pinned workers never left CPU 1, the added ones ran.
 * Fairness inside "added" is not a property of this layout: a yielder the
 * scheduler puts on CPU 1 shares it with the two pinned spinners, one on
 * CPU 0 has it alone (CI saw spread=21%, 41-62%; a yielder beside two
 * spinners can be off-CPU nearly always), so spread is not judged here:
 * a limit of 100 %. */
KTSTR_TEST(ktstr_steps, .scheduler = &FIXTURE, .asserts = { .max_spread_pct = KTSTR_SET(100) })
{
	unsigned added = 0;
	int bad = 0;

	if (ktstr_cgroup_add(ctx, "pinned", 2, KTSTR_WORK_CPU_SPIN) ||
	    ktstr_cgroup_affinity(ctx, "pinned", "1") || ktstr_step(ctx, 400) ||
	    ktstr_step(ctx, 400) || ktstr_step_add(ctx, "added", 2, KTSTR_WORK_YIELD_HEAVY) ||
	    ktstr_step(ctx, 400) || ktstr_step_stop(ctx, "added"))
		return ktstr_fail(ctx, "setup", "%s", ktstr_error(ctx));
	if (ktstr_run(ctx, 1200))
		return 1;
	for (size_t i = 0; i < ktstr_nworkers(ctx); i++) {
		struct ktstr_worker_stats w;

		ktstr_worker(ctx, i, &w);
		if (!strcmp(w.cgroup, "added")) {
			added++;
			bad |= ktstr_check(ctx, w.iterations > 0, "added worker %u never ran",
					   (unsigned)w.tid);
			continue;
		}
		for (uint32_t k = 0; k < w.ncpus_used; k++)
			bad |= ktstr_check(ctx, w.cpus_used[k] == 1,
					   "pinned worker %u ran on cpu %u", (unsigned)w.tid,
					   (unsigned)w.cpus_used[k]);
	}
	bad |= ktstr_check(ctx, added == 2, "%u added workers reported, expected 2", added);
	return bad;
}

/* Fails on purpose, so the run stays green: XFAIL, with the message. */
KTSTR_TEST(eevdf_expected_failure, .expect_verdict = "FAIL",
	   .expect_why = "demonstrates a failing check of the test's own",
	   .expect_detail_any = KTSTR_LIST("queue depth 3 > limit 2"))
{
	ktstr_cgroup_add(ctx, "one", 1, KTSTR_WORK_CPU_SPIN);
	ktstr_run(ctx, 300);
	return ktstr_fail(ctx, "queue", "queue depth 3 > limit 2");
}
