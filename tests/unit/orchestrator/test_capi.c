/* The C API's host role (libktstr/render.c, docs/c-api.md): the same
 * scheduler and tests written in C (registered here with KTSTR_TEST) and in
 * YAML (tests/golden/list/capi_twin.yaml, its tests naming a C test binary
 * with c_test:) give the same plan (`list` output) and the same parsed
 * suite (the golden dump: merged command lines, profiles, asserts,
 * constraints, the c_test payload and scenario). And the public header
 * compiles as C11 -pedantic and as C++. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ktstr/ktstr.h>
#include <ktstr/util.h>

#include "helpers.h"
#include "plan.h"
#include "render.h"
#include "report.h"
#include "suite.h"
#include "suite_dump.h"

/* A binary every host has: c_test: only needs an executable file here. */
#define TWIN_BINARY "/bin/true"

static const struct ktstr_scheduler TWIN_SCHED = {
	.name = "twin",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_twin",
	.ops_name = "twin",
	.attach_timeout_ms = 9000,
	.watchdog_timeout_ms = 5000,
	.topology = { 1, 2, 2, 1 },
	.sched_args = KTSTR_LIST("--exit-dump-len", "1048576"),
	.cgroup_parent = "/ktstr/cells",
	.sysctls = KTSTR_LIST("kernel.sched_rt_runtime_us=-1"),
	.kargs = KTSTR_LIST("nosmt=force"),
	.flags = (const struct ktstr_flag[]){
		{ .name = "llc", .args = KTSTR_LIST("--enable-llc") },
		{ .name = "steal", .args = KTSTR_LIST("--enable-stealing"),
		  .requires_flags = KTSTR_LIST("llc") },
		{ .name = "borrow", .args = KTSTR_LIST("--borrow") },
		{ 0 },
	},
	.asserts = { .max_throughput_cv = KTSTR_SET(0.5), .not_starved = KTSTR_SET(1) },
	.constraints = { .max_llcs = KTSTR_SET(8), .max_cpus = KTSTR_SET(64) },
};

static const struct ktstr_scheduler TWIN_BUILTIN = {
	.name = "builtin",
	.kind = KTSTR_SCHED_KERNEL_BUILTIN,
	.enable = KTSTR_LIST("echo 1 > /sys/kernel/x"),
	.disable = KTSTR_LIST("echo 0 > /sys/kernel/x"),
};

KTSTR_TEST(twin_steady, .scheduler = &TWIN_SCHED, .threads_per_core = 2, .duration_ms = 4000,
	   .extra_sched_args = KTSTR_LIST("--verbose"), .required_flags = KTSTR_LIST("llc"),
	   .asserts = { .max_gap_ms = KTSTR_SET(1500), .isolation = KTSTR_SET(1) },
	   .constraints = { .min_llcs = KTSTR_SET(2) })
{
	return 0;
}

KTSTR_TEST(twin_excluded, .scheduler = &TWIN_SCHED, .excluded_flags = KTSTR_LIST("borrow"),
	   .timeout_ms = 90000, .memory_mb = 1024, .watchdog_timeout_ms = 3000)
{
	return 0;
}

KTSTR_TEST(twin_eevdf, .expect_verdict = "FAIL", .expect_why = "a known bug",
	   .expect_detail_any = KTSTR_LIST("stuck"))
{
	return 1;
}

KTSTR_TEST(twin_builtin, .scheduler = &TWIN_BUILTIN, .llcs = 1)
{
	return 0;
}

extern const struct ktstr_test __start_ktstr_tests[], __stop_ktstr_tests[];

static char *load_twin(void)
{
	char path[1024], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/tests/golden/list/capi_twin.yaml", test_srcdir());
	cr_assert_eq(read_file(path, &text, &len, 1 << 20), 0, "cannot read %s", path);
	return text;
}

static char *render_c(void)
{
	char *text = NULL, err[512] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(ktstr_render_suite(f, __start_ktstr_tests, __stop_ktstr_tests, TWIN_BINARY,
					err, sizeof(err)),
		     0, "%s", err);
	fclose(f);
	return text;
}

/* What the dump leaves out: the scheduler fields that reach the guest
 * without the command line, and expect_failure. */
static void facts(FILE *f, const struct suite *s)
{
	for (size_t i = 0; i < s->nscheds; i++) {
		const struct sched_def *sd = &s->scheds[i];

		fprintf(f, "sched %s ops %s attach %u watchdog %u cgroup_parent %s\n", sd->name,
			sd->ops_name ? sd->ops_name : "-", sd->attach_timeout_ms,
			sd->watchdog_timeout_ms, sd->cgroup_parent ? sd->cgroup_parent : "-");
		for (size_t k = 0; k < sd->sysctls.n; k++)
			fprintf(f, "  sysctl %s\n", sd->sysctls.v[k]);
		for (size_t k = 0; k < sd->kargs.n; k++)
			fprintf(f, "  karg %s\n", sd->kargs.v[k]);
	}
	for (size_t i = 0; i < s->ntests; i++) {
		const struct test_def *t = &s->tests[i];

		fprintf(f, "test %s xfail %d why %s", t->name, (int)t->xfail.verdict,
			t->xfail.why ? t->xfail.why : "-");
		for (size_t k = 0; k < t->xfail.detail_any.n; k++)
			fprintf(f, " [%s]", t->xfail.detail_any.v[k]);
		fputc('\n', f);
	}
}

/* The line numbers of the two files differ, and only they may. */
static void strip_lines(char *s)
{
	char *p;

	while ((p = strstr(s, " (line "))) {
		char *e = strchr(p, ')');

		memmove(p, e + 1, strlen(e + 1) + 1);
	}
}

/* `list`, the suite dump and facts() of text, as one string. */
static char *plan_of(const char *name, const char *text)
{
	char err[2048] = "", *got = NULL;
	size_t glen = 0;
	struct suite *s = NULL;
	struct plan p = { 0 };
	struct plan_opts o = {
		.gauntlet = true, .kernel_scx = 1, .quiet = true,
		.host = { .cpus = 8, .llcs = 2, .max_cpus_per_llc = 4,
			  .engine = KTSTR__ENGINE__ENGINE_QEMU, .emulated = true, .max_vcpus = 32,
			  .kvm_kind = "absent" },
	};
	struct kernel_choice kc = { .image = "/cache/kernels/7.2.13/vmlinux", .scx = 1 };
	FILE *f;

	cr_assert_eq(suite_parse(name, text, strlen(text), &s, err, sizeof(err)), 0, "%s:\n%s",
		     err, text);
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	f = open_memstream(&got, &glen);
	cr_assert_eq(report_list(f, s, &p, &o.host, &kc, 1), 0);
	cr_assert_eq(suite_dump(f, s), 0);
	facts(f, s);
	fclose(f);
	strip_lines(got);
	plan_free(&p);
	suite_free(s);
	return got;
}

Test(capi, c_and_yaml_give_the_same_plan)
{
	char *yaml = load_twin(), *c = render_c();
	char *from_yaml = plan_of("capi_twin.yaml", yaml), *from_c = plan_of("capi_twin.yaml", c);

	cr_expect_str_eq(from_c, from_yaml,
			 "C and YAML plans differ.\nrendered suite:\n%s\nC plan:\n%s\nYAML plan:\n%s",
			 c, from_c, from_yaml);
	/* Not two empty plans: every test, profile and the c_test made it. */
	cr_assert(strstr(from_c, "gauntlet/twin_steady/"), "%s", from_c);
	/* The guide's merge order: cgroup_parent, sched_args,
	 * extra_sched_args, the flags' args in declaration order. */
	cr_assert(strstr(from_c, "profile llc+steal: [--cell-parent-cgroup] [/ktstr/cells] "
				 "[--exit-dump-len] [1048576] [--verbose] [--enable-llc] "
				 "[--enable-stealing]\n"),
		  "%s", from_c);
	cr_assert(strstr(from_c, "c_test twin_builtin in payload c_test.true"), "%s", from_c);
	free(yaml);
	free(c);
	free(from_yaml);
	free(from_c);
}

Test(capi, a_path_scheduler_without_binary_is_refused)
{
	static const struct ktstr_scheduler bad = { .name = "p", .kind = KTSTR_SCHED_PATH };
	struct ktstr_test t = { .name = "t", .scheduler = &bad };
	char *text = NULL, err[512] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(ktstr_render_suite(f, &t, &t + 1, TWIN_BINARY, err, sizeof(err)), -EINVAL);
	fclose(f);
	cr_assert(strstr(err, "scheduler 'p': KTSTR_SCHED_PATH needs .binary"), "%s", err);
	free(text);
}

/* A field the scheduler's kind would ignore is refused, not dropped. */
static const struct ktstr_scheduler enable_on_name = {
	.name = "n",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_n",
	.enable = KTSTR_LIST("echo 1"),
};
static const struct ktstr_scheduler binary_on_none = {
	.name = "z",
	.kind = KTSTR_SCHED_NONE,
	.binary = "scx_z",
};

static void refused(const struct ktstr_scheduler *sd, const char *want)
{
	struct ktstr_test t = { .name = "t", .scheduler = sd };
	char *text = NULL, err[512] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(ktstr_render_suite(f, &t, &t + 1, TWIN_BINARY, err, sizeof(err)), -EINVAL);
	fclose(f);
	cr_assert(strstr(err, want), "%s", err);
	free(text);
}

Test(capi, a_field_its_kind_ignores_is_refused)
{
	refused(&enable_on_name, "scheduler 'n': .enable/.disable (only KTSTR_SCHED_KERNEL_BUILTIN "
				 "runs commands) is set but its kind does not use it");
	refused(&binary_on_none, "scheduler 'z': .binary (only KTSTR_SCHED_NAME and "
				 "KTSTR_SCHED_PATH start one) is set");
}

/* Strings are written as YAML double-quoted scalars: quotes, backslashes
 * and control characters come back as they were. */
static const struct ktstr_scheduler q = {
	.name = "q",
	.kind = KTSTR_SCHED_NAME,
	.binary = "scx_q",
	.sched_args = KTSTR_LIST("--x=\"a\\b\"", "tab\there"),
};

Test(capi, strings_survive_quoting)
{
	struct ktstr_test t = { .name = "t", .scheduler = &q };
	char *text = NULL, err[2048] = "";
	size_t len = 0;
	struct suite *s = NULL;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(ktstr_render_suite(f, &t, &t + 1, TWIN_BINARY, err, sizeof(err)), 0);
	fclose(f);
	cr_assert_eq(suite_parse("q.yaml", text, strlen(text), &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s->scheds[1].sched_args.v[0], "--x=\"a\\b\"");
	cr_assert_str_eq(s->scheds[1].sched_args.v[1], "tab\there");
	suite_free(s);
	free(text);
}

static void compile(const char *cc, const char *std, const char *lang)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "%s -x %s -std=%s -Wall -Wextra -Werror -pedantic -fsyntax-only -I%s/include "
		 "%s/tests/unit/orchestrator/data/capi_header.c 2>&1",
		 cc, lang, std, test_srcdir(), test_srcdir());
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed: %s", cmd);
}

Test(capi, header_compiles_as_c11_pedantic)
{
	compile("cc", "c11", "c");
}

Test(capi, header_compiles_as_cxx)
{
	compile("c++", "c++20", "c++");
}
