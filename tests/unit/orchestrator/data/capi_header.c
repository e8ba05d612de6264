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

/* The VM builder's declarations, used as a program would. */
int header_vm_run(const char *prog);
int header_vm_run(const char *prog)
{
	static const char *const args[] = { "a b", "c" };
	struct ktstr_vm_builder *b = ktstr_vm_builder_new();
	struct ktstr_vm_result r;
	int ret;

	if (!b)
		return -1;
	ret = ktstr_vm_builder_init(b, prog, args, 2) ||
	      ktstr_vm_builder_topology(b, 1, 1, 2, 1) ||
	      ktstr_vm_builder_memory_mb(b, 512) ||
	      ktstr_vm_builder_engine(b, KTSTR_VM_ENGINE_QEMU) ||
	      ktstr_vm_builder_timeout_s(b, 60) || ktstr_vm_builder_env(b, "A=1") ||
	      ktstr_vm_builder_kernel(b, "6.12") || ktstr_vm_builder_include(b, "/etc/hosts");
	if (!ret)
		ret = ktstr_vm_run(b, &r);
	if (!ret)
		ret = r.outcome == KTSTR_VM_EXITED ? r.exit_code : -(int)r.outcome;
	ktstr_vm_result_free(&r);
	ktstr_vm_builder_free(b);
	return ret;
}
