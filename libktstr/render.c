/* The host role's one job before ktstr-orch: the program's registered tests
 * and their schedulers written as a suite file (docs/suite-format.md), each
 * test a `c_test:` naming this program and its function. ktstr-orch then
 * parses, checks, plans, lists and runs it exactly as a hand-written suite:
 * one semantics, one set of error messages, no second planner. */
#include "render.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A YAML double-quoted scalar: every string is written so, whatever it
 * holds (arguments start with '-', names may look like numbers). */
static void q(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void list(FILE *f, const char *indent, const char *key, const char *const *v)
{
	if (!count(v))
		return;
	fprintf(f, "%s%s: [", indent, key);
	for (size_t i = 0; v[i]; i++) {
		if (i)
			fputs(", ", f);
		q(f, v[i]);
	}
	fputs("]\n", f);
}

static void num(FILE *f, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.17g", v);
}

#define OPT(type, field, is_bool) { #field, offsetof(type, field), is_bool }
struct opt_key {
	const char *key;
	size_t off;
	int is_bool;
};

static const struct opt_key assert_keys[] = {
	OPT(struct ktstr_asserts, not_starved, 1),
	OPT(struct ktstr_asserts, max_spread_pct, 0),
	OPT(struct ktstr_asserts, max_gap_ms, 0),
	OPT(struct ktstr_asserts, isolation, 1),
	OPT(struct ktstr_asserts, max_throughput_cv, 0),
	OPT(struct ktstr_asserts, min_work_rate, 0),
	OPT(struct ktstr_asserts, max_p99_wake_latency_ns, 0),
	OPT(struct ktstr_asserts, max_wake_latency_cv, 0),
	OPT(struct ktstr_asserts, min_iteration_rate, 0),
	OPT(struct ktstr_asserts, max_migration_ratio, 0),
	OPT(struct ktstr_asserts, max_imbalance_ratio, 0),
	OPT(struct ktstr_asserts, max_local_dsq_depth, 0),
	OPT(struct ktstr_asserts, fail_on_stall, 1),
	OPT(struct ktstr_asserts, sustained_samples, 0),
};

static const struct opt_key cons_keys[] = {
	OPT(struct ktstr_constraints, min_numa_nodes, 0),
	OPT(struct ktstr_constraints, max_numa_nodes, 0),
	OPT(struct ktstr_constraints, min_llcs, 0),
	OPT(struct ktstr_constraints, max_llcs, 0),
	OPT(struct ktstr_constraints, min_cpus, 0),
	OPT(struct ktstr_constraints, max_cpus, 0),
	OPT(struct ktstr_constraints, requires_smt, 1),
};

/* key: {k: v, ...} with the fields that are set; nothing when none is. */
static void opts(FILE *f, const char *indent, const char *key, const void *base,
		 const struct opt_key *keys, size_t n)
{
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ktstr_opt *o = (const struct ktstr_opt *)((const char *)base + keys[i].off);

		if (!o->set)
			continue;
		if (any)
			fprintf(f, ", %s: ", keys[i].key);
		else
			fprintf(f, "%s%s: {%s: ", indent, key, keys[i].key);
		if (keys[i].is_bool)
			fputs(o->value != 0 ? "true" : "false", f);
		else
			num(f, o->value);
		any = 1;
	}
	if (any)
		fputs("}\n", f);
}

/* A relative path names a file relative to the working directory, where
 * the developer ran the program; the suite lives elsewhere. */
static int abs_path(const char *p, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (p[0] == '/')
		return snprintf(out, len, "%s", p) < (int)len ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, len, "%s/%s", cwd, p) < (int)len ? 0 : -ENAMETOOLONG;
}

/* A field its kind does not use would be ignored: refused instead. */
static int check_kind_fields(const struct ktstr_scheduler *sd, char *err, size_t errlen)
{
	const char *what = NULL;

	if (sd->kind != KTSTR_SCHED_KERNEL_BUILTIN && (sd->enable || sd->disable))
		what = ".enable/.disable (only KTSTR_SCHED_KERNEL_BUILTIN runs commands)";
	else if ((sd->kind == KTSTR_SCHED_NONE || sd->kind == KTSTR_SCHED_KERNEL_BUILTIN) &&
		 sd->binary)
		what = ".binary (only KTSTR_SCHED_NAME and KTSTR_SCHED_PATH start one)";
	if (!what)
		return 0;
	snprintf(err, errlen, "scheduler '%s': %s is set but its kind does not use it; remove it",
		 sd->name ? sd->name : "", what);
	return -EINVAL;
}

static int sched_out(FILE *f, const struct ktstr_scheduler *sd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret = check_kind_fields(sd, err, errlen);

	if (ret)
		return ret;

	fputs("  - name: ", f);
	q(f, sd->name ? sd->name : "");
	fputs("\n    binary: ", f);
	switch (sd->kind) {
	case KTSTR_SCHED_NONE:
		fputs("none", f);
		break;
	case KTSTR_SCHED_NAME:
		fputs("{name: ", f);
		q(f, sd->binary ? sd->binary : (sd->name ? sd->name : ""));
		fputs("}", f);
		break;
	case KTSTR_SCHED_PATH:
		if (!sd->binary || abs_path(sd->binary, path, sizeof(path))) {
			snprintf(err, errlen, "scheduler '%s': KTSTR_SCHED_PATH needs .binary, a "
					      "path of at most %d bytes",
				 sd->name ? sd->name : "", PATH_MAX - 1);
			return -EINVAL;
		}
		fputs("{path: ", f);
		q(f, path);
		fputs("}", f);
		break;
	case KTSTR_SCHED_KERNEL_BUILTIN:
		fputs("{kernel_builtin: {", f);
		fputs("enable: [", f);
		for (size_t i = 0; sd->enable && sd->enable[i]; i++) {
			fputs(i ? ", " : "", f);
			q(f, sd->enable[i]);
		}
		fputs("], disable: [", f);
		for (size_t i = 0; sd->disable && sd->disable[i]; i++) {
			fputs(i ? ", " : "", f);
			q(f, sd->disable[i]);
		}
		fputs("]}}", f);
		break;
	default:
		snprintf(err, errlen, "scheduler '%s': kind %d is not a ktstr_sched_kind",
			 sd->name ? sd->name : "", (int)sd->kind);
		return -EINVAL;
	}
	fputc('\n', f);
	if (sd->ops_name) {
		fputs("    ops_name: ", f);
		q(f, sd->ops_name);
		fputc('\n', f);
	}
	if (sd->attach_timeout_ms)
		fprintf(f, "    attach_timeout_ms: %u\n", sd->attach_timeout_ms);
	if (sd->watchdog_timeout_ms)
		fprintf(f, "    watchdog_timeout: \"%ums\"\n", sd->watchdog_timeout_ms);
	{
		const struct ktstr_topology *t = &sd->topology;

		if (t->numa_nodes || t->llcs || t->cores_per_llc || t->threads_per_core)
			fprintf(f, "    topology: \"%u,%u,%u,%u\"\n", t->numa_nodes ? t->numa_nodes : 1,
				t->llcs ? t->llcs : 1, t->cores_per_llc ? t->cores_per_llc : 2,
				t->threads_per_core ? t->threads_per_core : 1);
	}
	list(f, "    ", "sched_args", sd->sched_args);
	if (sd->cgroup_parent) {
		fputs("    cgroup_parent: ", f);
		q(f, sd->cgroup_parent);
		fputc('\n', f);
	}
	if (sd->config_file) {
		if (abs_path(sd->config_file, path, sizeof(path))) {
			snprintf(err, errlen, "scheduler '%s': config_file path too long",
				 sd->name ? sd->name : "");
			return -EINVAL;
		}
		fputs("    config_file: ", f);
		q(f, path);
		fputc('\n', f);
	}
	list(f, "    ", "sysctls", sd->sysctls);
	list(f, "    ", "kargs", sd->kargs);
	if (sd->flags && sd->flags[0].name) {
		fputs("    flags:\n", f);
		for (size_t i = 0; sd->flags[i].name; i++) {
			fputs("      - name: ", f);
			q(f, sd->flags[i].name);
			fputc('\n', f);
			list(f, "        ", "args", sd->flags[i].args);
			list(f, "        ", "requires", sd->flags[i].requires_flags);
		}
	}
	opts(f, "    ", "asserts", &sd->asserts, assert_keys,
	     sizeof(assert_keys) / sizeof(assert_keys[0]));
	opts(f, "    ", "constraints", &sd->constraints, cons_keys,
	     sizeof(cons_keys) / sizeof(cons_keys[0]));
	return 0;
}

static void test_out(FILE *f, const struct ktstr_test *t, const char *self)
{
	fputs("  - name: ", f);
	q(f, t->name);
	fputc('\n', f);
	if (t->scheduler) {
		fputs("    scheduler: ", f);
		q(f, t->scheduler->name ? t->scheduler->name : "");
		fputc('\n', f);
	}
	if (t->numa_nodes || t->llcs || t->cores_per_llc || t->threads_per_core) {
		const char *sep = "";

		fputs("    topology: {", f);
		if (t->numa_nodes)
			fprintf(f, "%snuma_nodes: %u", sep, t->numa_nodes), sep = ", ";
		if (t->llcs)
			fprintf(f, "%sllcs: %u", sep, t->llcs), sep = ", ";
		if (t->cores_per_llc)
			fprintf(f, "%scores_per_llc: %u", sep, t->cores_per_llc), sep = ", ";
		if (t->threads_per_core)
			fprintf(f, "%sthreads_per_core: %u", sep, t->threads_per_core);
		fputs("}\n", f);
	}
	fputs("    c_test: {binary: ", f);
	q(f, self);
	fputs(", function: ", f);
	q(f, t->name);
	fputs("}\n", f);
	if (t->duration_ms)
		fprintf(f, "    duration: \"%ums\"\n", t->duration_ms);
	if (t->timeout_ms)
		fprintf(f, "    timeout: \"%ums\"\n", t->timeout_ms);
	if (t->memory_mb)
		fprintf(f, "    memory_mb: %u\n", t->memory_mb);
	if (t->watchdog_timeout_ms)
		fprintf(f, "    watchdog_timeout: \"%ums\"\n", t->watchdog_timeout_ms);
	if (t->performance_mode)
		fputs("    performance_mode: true\n", f);
	list(f, "    ", "extra_sched_args", t->extra_sched_args);
	list(f, "    ", "required_flags", t->required_flags);
	list(f, "    ", "excluded_flags", t->excluded_flags);
	opts(f, "    ", "asserts", &t->asserts, assert_keys,
	     sizeof(assert_keys) / sizeof(assert_keys[0]));
	opts(f, "    ", "constraints", &t->constraints, cons_keys,
	     sizeof(cons_keys) / sizeof(cons_keys[0]));
	if (t->expect_verdict || t->expect_why || t->expect_detail_any) {
		fputs("    expect_failure:\n", f);
		if (t->expect_verdict) {
			fputs("      verdict: ", f);
			q(f, t->expect_verdict);
			fputc('\n', f);
		}
		if (t->expect_why) {
			fputs("      why: ", f);
			q(f, t->expect_why);
			fputc('\n', f);
		}
		list(f, "      ", "detail_any", t->expect_detail_any);
		if (t->expect_intermittent)
			fputs("      intermittent: true\n", f);
	}
}

/* Source order: the linker's order of the section is not the program's. */
static int by_place(const void *a, const void *b)
{
	const struct ktstr_test *x = *(const struct ktstr_test *const *)a;
	const struct ktstr_test *y = *(const struct ktstr_test *const *)b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

int ktstr_render_suite(FILE *f, const struct ktstr_test *begin, const struct ktstr_test *end,
		       const char *self, char *err, size_t errlen)
{
	const struct ktstr_scheduler **seen;
	const struct ktstr_test **v;
	size_t n = begin && end > begin ? (size_t)(end - begin) : 0, nseen = 0;
	int ret = 0;

	seen = calloc(n ? n : 1, sizeof(*seen));
	v = calloc(n ? n : 1, sizeof(*v));
	if (!seen || !v) {
		free(seen);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &begin[i];
	qsort(v, n, sizeof(*v), by_place);
	fputs("# Rendered by libktstr from the tests registered in ", f);
	fputs(self, f);
	fputs(" (docs/c-api.md).\n", f);
	/* Each scheduler once, in the order tests first name it. Two
	 * definitions under one name are the suite's error to report. */
	for (size_t i = 0; i < n; i++) {
		const struct ktstr_test *t = v[i];
		size_t k;

		if (!t->scheduler)
			continue;
		for (k = 0; k < nseen && seen[k] != t->scheduler; k++)
			;
		if (k < nseen)
			continue;
		if (!nseen)
			fputs("schedulers:\n", f);
		seen[nseen++] = t->scheduler;
		if ((ret = sched_out(f, t->scheduler, err, errlen)))
			goto out;
	}
	/* No test registered: an empty list, which ktstr-orch reports as
	 * selecting nothing (exit 2 unless --allow-empty). */
	fputs(n ? "tests:\n" : "tests: []\n", f);
	for (size_t i = 0; i < n; i++)
		test_out(f, v[i], self);
	if (ferror(f))
		ret = -EIO;
out:
	free(seen);
	free(v);
	return ret;
}
