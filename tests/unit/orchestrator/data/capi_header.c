/* Compiled by test_capi.c as C11 -pedantic and as C++20 -pedantic, both
 * with -Wall -Wextra -Werror: the public header and its macros as a user
 * writes them. Never linked. */
#include <ktstr/ktstr.h>

#ifdef __cplusplus
static const char *const fifo_args[] = { "-f", NULL };
static const char *const verbose_args[] = { "-v", NULL };
static const char *const verbose_requires[] = { "fifo", NULL };
static const struct ktstr_flag flags[] = {
	{ "fifo", fifo_args, NULL },
	{ "verbose", verbose_args, verbose_requires },
	{ NULL, NULL, NULL },
};
#define FLAGS flags
#else
#define FLAGS                                                                          \
	((const struct ktstr_flag[]){                                                  \
		{ .name = "fifo", .args = KTSTR_LIST("-f") },                           \
		{ .name = "verbose", .args = KTSTR_LIST("-v"), .requires_flags = KTSTR_LIST("fifo") }, \
		{ 0 } })
#endif

#ifdef __cplusplus
/* g++ -Wextra: a designated initializer must name every field, else
 * -Wmissing-field-initializers; a C++ user writes this pragma or all fields. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
static const struct ktstr_scheduler SCHED = {
	.name = "simple",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_simple",
	.flags = FLAGS,
	.topology = { 1, 2, 2, 1 },
	.asserts = { .max_gap_ms = KTSTR_SET(1500) },
};
#ifdef __cplusplus
#pragma GCC diagnostic pop
#endif

KTSTR_TEST(header_plain)
{
	return ktstr_cgroup_add(ctx, "a", 2, KTSTR_WORK_CPU_SPIN) || ktstr_run(ctx, 100);
}

KTSTR_TEST(header_fields, .scheduler = &SCHED, .llcs = 2, .duration_ms = 5000)
{
	struct ktstr_worker_stats w;

	if (ktstr_nworkers(ctx) && !ktstr_worker(ctx, 0, &w))
		return ktstr_check(ctx, w.work_units > 0, "worker %u idle", (unsigned)w.tid);
	return ktstr_fail(ctx, "mine", "%s", ktstr_test_name(ctx));
}
