/* A C test program whose functions end badly, for tests/integration/capi.c:
 * a failed check with a message, a SIGSEGV after some output, a function
 * that never returns. Built by `make tests-build` as build/tests/capi-faults. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <ktstr/ktstr.h>

KTSTR_TEST(fault_message)
{
	ktstr_cgroup_add(ctx, "w", 2, KTSTR_WORK_CPU_SPIN);
	if (ktstr_run(ctx, 500))
		return 1;
	printf("ran %zu workers\n", ktstr_nworkers(ctx));
	return ktstr_fail(ctx, "widgets", "widget count 7, expected 8");
}

KTSTR_TEST(fault_segv)
{
	volatile int *p = NULL;

	(void)ctx;
	printf("capi-faults: about to dereference NULL\n");
	fflush(stdout);
	*p = 1;
	return 0;
}

/* ktstr's fixture scheduler, exiting with an error 2 s after it attached,
 * while the function's run holds for 6 s: PID 1's watch sees it, stops the
 * program and says SCHEDULER_DIED, as for a YAML test. */
static const struct ktstr_scheduler FIXTURE = {
	.name = "ktstr",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_ktstr",
	.ops_name = "ktstr",
};

KTSTR_TEST(fault_sched_dies, .scheduler = &FIXTURE,
	   .extra_sched_args = KTSTR_LIST("--exit-after", "2"))
{
	printf("capi-faults: holding while the scheduler exits\n");
	fflush(stdout);
	ktstr_cgroup_add(ctx, "w", 2, KTSTR_WORK_CPU_SPIN);
	ktstr_run(ctx, 6000);
	return ktstr_fail(ctx, "unreachable", "the run outlived the scheduler");
}

/* Not a fault: a function that cannot run here says so. */
KTSTR_TEST(fault_skip)
{
	return ktstr_skip(ctx, "needs %u CPUs, the VM has %u", ktstr_ncpus(ctx) + 62,
			  ktstr_ncpus(ctx));
}

KTSTR_TEST(fault_hang, .duration_ms = 3000)
{
	(void)ctx;
	printf("capi-faults: sleeping forever\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
