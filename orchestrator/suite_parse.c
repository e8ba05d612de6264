/* Suite file schema -> struct suite (see docs/suite-format.md). The first
 * problem found stops the parse and is reported with its position. */
#include "suite.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <ktstr/util.h>

#include "merge.h"
#include "pathjoin.h"
#include "plan.h"
#include "safe_path.h"
#include "scenario_catalog.h"
#include "suite_ctest.h"
#include "ktstr/asserts.h"
#include "ktstr/gtopo.h"
#include "ktstr/scenario_rules.h"
#include "yaml_proto.h"

#define SUITE_FILE_MAX (16u << 20)

static const char *const top_keys[] = { "name", "schedulers", "tests", "payloads",
					"include_files", NULL };
static const char *const payload_keys[] = { "path", "args", "metrics", NULL };
static const char *const sched_keys[] = { "name",	   "binary",	 "flags",	"ops_name",
					  "sysctls",	   "kargs",	 "cgroup_parent",
					  "sched_args",	   "topology",	 "asserts",
					  "constraints",   "attach_timeout_ms", "watchdog_timeout",
					  "include_files", "config_file", NULL };
static const char *const flag_keys[] = { "name", "args", "requires", NULL };
static const char *const test_keys[] = { "name",	     "scheduler",	"topology",
					 "scenario",	     "duration",	"asserts",
					 "extra_sched_args", "required_flags",	"excluded_flags",
					 "constraints",	     "requires_smt",	"memory_mb",
					 "timeout",	     "performance_mode", "expect_failure",
					 "watchdog_timeout", "include_files", "c_test", NULL };
static const char *const cons_keys[] = { "min_numa_nodes", "max_numa_nodes", "min_llcs",
					 "max_llcs",	   "min_cpus",	     "max_cpus",
					 "requires_smt",   NULL };
static const char *const topo_keys[] = { "numa_nodes", "llcs", "cores_per_llc",
					 "threads_per_core", NULL };

static void sched_free(struct sched_def *sd)
{
	free(sd->name);
	free(sd->binary);
	free(sd->resolved_path);
	free(sd->ops_name);
	strv_free(&sd->enable);
	strv_free(&sd->disable);
	for (size_t i = 0; i < sd->nflags; i++) {
		free(sd->flags[i].name);
		strv_free(&sd->flags[i].args);
	}
	strv_free(&sd->sysctls);
	strv_free(&sd->kargs);
	free(sd->cgroup_parent);
	strv_free(&sd->sched_args);
	include_list_free(&sd->includes);
	include_list_free(&sd->config);
}

static void test_free(struct test_def *t)
{
	free(t->name);
	if (t->scenario)
		protobuf_c_message_free_unpacked(&t->scenario->base, NULL);
	strv_free(&t->extra_sched_args);
	expect_free(&t->xfail);
	include_list_free(&t->includes);
	free(t->c_test_payload);
	free(t->c_test_function);
}

void suite_free(struct suite *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nscheds; i++)
		sched_free(&s->scheds[i]);
	for (size_t i = 0; i < s->ntests; i++)
		test_free(&s->tests[i]);
	for (size_t i = 0; i < s->npayloads; i++) {
		free(s->payloads[i].host_path);
		free(s->payloads[i].spec.name);
		free(s->payloads[i].spec.path);
		strv_free(&s->payloads[i].args);
		payload_metric_list_free(&s->payloads[i].metrics);
	}
	free(s->payloads);
	free(s->pspecs);
	include_list_free(&s->includes);
	free(s->image_test);
	free(s->scheds);
	free(s->tests);
	free(s->path);
	free(s->dir);
	free(s);
}

/* Names end up in variant names, file names and JUnit: keep them plain. */
static int check_name(struct ys_ctx *c, const struct ynode *n, const char *what)
{
	const char *p = n->value;

	if (!*p)
		return ys_fail(c, n, "%s must not be empty", what);
	for (; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return ys_fail(c, n,
				       "%s '%s' may only use letters, digits, '_', '-' and '.'",
				       what, n->value);
	}
	return 0;
}

static int parse_name(struct ys_ctx *c, const struct ynode *map, const char *what, char **out)
{
	const struct ynode *n = ymap_get(map, "name");
	int ret;

	if (!n)
		return ys_fail(c, map, "%s: missing required key 'name'", what);
	ret = ys_expect(c, n, YNODE_SCALAR, "name");
	if (!ret)
		ret = check_name(c, n, what);
	if (!ret)
		ret = ys_str(c, n, "name", out);
	return ret;
}

/* topology: "N,L,C,T" or a mapping of some dimensions. full requires all
 * four (a scheduler's default); otherwise 0 means inherit. */
static int parse_topology(struct ys_ctx *c, const struct ynode *n, bool full,
			  struct topo_override *o)
{
	uint32_t *dims[4] = { &o->numa_nodes, &o->llcs, &o->cores_per_llc, &o->threads_per_core };
	int ret;

	if (n->kind == YNODE_SCALAR) {
		struct ktstr_topo t;
		char err[256];

		if (topo_parse(n->value, &t, err, sizeof(err)))
			return ys_fail(c, n, "%s", err);
		o->numa_nodes = t.numa_nodes;
		o->llcs = t.llcs;
		o->cores_per_llc = t.cores_per_llc;
		o->threads_per_core = t.threads_per_core;
		return 0;
	}
	ret = ys_check_keys(c, n, "topology", topo_keys);
	if (ret)
		return ret;
	for (size_t i = 0; i < 4; i++) {
		const struct ynode *v = ymap_get(n, topo_keys[i]);

		if (!v) {
			if (full)
				return ys_fail(c, n, "scheduler topology: missing '%s'", topo_keys[i]);
			continue;
		}
		ret = ys_u32(c, v, topo_keys[i], 1, KTSTR_TOPO_MAX_CPUS, dims[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_constraints(struct ys_ctx *c, const struct ynode *n, struct topo_constraints *tc)
{
	uint32_t *vals[6] = { &tc->min_numa, &tc->max_numa, &tc->min_llcs,
			      &tc->max_llcs, &tc->min_cpus, &tc->max_cpus };
	int ret = ys_check_keys(c, n, "constraints", cons_keys);

	if (ret)
		return ret;
	for (size_t i = 0; i < 6; i++) {
		const struct ynode *v = ymap_get(n, cons_keys[i]);

		if (!v)
			continue;
		ret = ys_u32(c, v, cons_keys[i], 1, KTSTR_TOPO_MAX_CPUS, vals[i]);
		if (ret)
			return ret;
		tc->set_mask |= 1u << i;
	}
	if (ymap_get(n, "requires_smt")) {
		ret = ys_bool(c, ymap_get(n, "requires_smt"), "requires_smt", &tc->requires_smt);
		if (ret)
			return ret;
		tc->set_mask |= TC_SMT;
	}
	for (size_t i = 0; i < 6; i += 2)
		if ((tc->set_mask & (3u << i)) == (3u << i) && *vals[i] > *vals[i + 1])
			return ys_fail(c, n, "constraints: %s (%u) is larger than %s (%u)",
				       cons_keys[i], *vals[i], cons_keys[i + 1], *vals[i + 1]);
	return 0;
}

/* Every field a suite sets must be one the guest judges (ktstr/asserts.h):
 * a check that would never run is refused, not silently passed. */
static int parse_asserts(struct ys_ctx *c, const struct ynode *n, Ktstr__AssertSpec *a)
{
	int ret = yproto_fill(c, n, &a->base, "asserts");

	for (size_t i = 0; !ret && n->kind == YNODE_MAP && i < n->n; i++) {
		const char *key = n->keys[i]->value;

		if (!ktstr_assert_judged(key))
			return ys_fail(c, n->keys[i],
				       "asserts.%s: no check evaluates this field yet (neither the "
				       "guest nor the host-side monitor); remove it",
				       key);
	}
	return ret;
}

/* watchdog_timeout: the sched_ext watchdog timeout the monitor lowers the
 * guest kernel's to (docs/monitor.md). Bounded: the monitor keeps the
 * watchdog's check-in fresh every 100 ms while it lowers it, so a timeout
 * must leave room for that; an hour is far past any test. */
static int parse_watchdog(struct ys_ctx *c, const struct ynode *n, uint32_t *ms)
{
	int ret = ys_duration_ms(c, n, "watchdog_timeout", ms);

	if (!ret && (*ms < WATCHDOG_TIMEOUT_MIN_MS || *ms > WATCHDOG_TIMEOUT_MAX_MS))
		return ys_fail(c, n, "watchdog_timeout: %u ms is outside %us..%uh", *ms,
			       WATCHDOG_TIMEOUT_MIN_MS / 1000, WATCHDOG_TIMEOUT_MAX_MS / 3600000);
	return ret;
}

/* The key node of key in map (errors point at what the user wrote), or
 * NULL. */
static const struct ynode *map_key(const struct ynode *map, const char *key)
{
	for (size_t i = 0; map->kind == YNODE_MAP && i < map->n; i++)
		if (!strcmp(map->keys[i]->value, key))
			return map->keys[i];
	return NULL;
}

/* The monitor judges only while a sched_ext scheduler is enabled, and the
 * watchdog it lowers is sched_ext's (docs/monitor.md): under EEVDF neither
 * ever happens, so a watchdog_timeout or a monitor-judged assert written
 * in map (a test that runs under EEVDF, or a scheduler that is EEVDF)
 * would have no effect, and is refused. who: "test 't' runs under eevdf";
 * fix: what the user can do instead of removing it. */
static int refuse_monitor_under_eevdf(struct ys_ctx *c, const struct ynode *map, const char *who,
				      const char *fix)
{
	const struct ynode *k = map_key(map, "watchdog_timeout"), *a = ymap_get(map, "asserts");

	if (k)
		return ys_fail(c, k,
			       "watchdog_timeout: monitor checks do not run under EEVDF: %s (no "
			       "sched_ext scheduler), so there is no sched_ext watchdog to lower; "
			       "remove it, or %s",
			       who, fix);
	for (size_t i = 0; a && a->kind == YNODE_MAP && i < a->n; i++)
		if (ktstr_assert_judge(a->keys[i]->value) == KTSTR_ASSERT_BY_MONITOR)
			return ys_fail(c, a->keys[i],
				       "asserts.%s: monitor checks do not run under EEVDF: %s (no "
				       "sched_ext scheduler), and the host-side monitor judges only "
				       "while one is enabled; remove it, or %s",
				       a->keys[i]->value, who, fix);
	return 0;
}

/* sysctls: a mapping {kernel.x: 1} or a list of "key=value". */
static int parse_sysctls(struct ys_ctx *c, const struct ynode *n, struct strv *out)
{
	char why[600];
	int ret;

	if (n->kind == YNODE_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			ret = ys_expect(c, n->items[i], YNODE_SCALAR, "sysctl value");
			if (!ret)
				ret = strv_pushf(out, "%s=%s", n->keys[i]->value, n->items[i]->value);
			if (ret)
				return ret;
			if (ktstr_sysctl_check(out->v[out->n - 1], why, sizeof(why)))
				return ys_fail(c, n->keys[i], "sysctls: %s", why);
		}
		return 0;
	}
	ret = ys_strlist(c, n, "sysctls", out);
	if (ret)
		return ret;
	for (size_t i = 0; i < out->n; i++)
		if (ktstr_sysctl_check(out->v[i], why, sizeof(why)))
			return ys_fail(c, n->kind == YNODE_SEQ ? n->items[i] : n, "sysctls: %s", why);
	return 0;
}

static int parse_binary(struct ys_ctx *c, const struct ynode *n, struct sched_def *sd)
{
	static const char *const bin_keys[] = { "name", "path", "kernel_builtin", NULL };
	static const char *const kb_keys[] = { "enable", "disable", NULL };
	const struct ynode *v;
	int ret;

	if (n->kind == YNODE_SCALAR) {
		if (!strcmp(n->value, "none")) {
			sd->kind = SCHED_BIN_NONE;
			return 0;
		}
		sd->kind = SCHED_BIN_NAME;
		ret = check_name(c, n, "scheduler binary name");
		return ret ? ret : ys_str(c, n, "binary", &sd->binary);
	}
	ret = ys_check_keys(c, n, "binary", bin_keys);
	if (ret)
		return ret;
	if (n->n != 1)
		return ys_fail(c, n, "binary: give exactly one of name, path or kernel_builtin");
	if ((v = ymap_get(n, "name"))) {
		sd->kind = SCHED_BIN_NAME;
		ret = ys_expect(c, v, YNODE_SCALAR, "binary.name");
		if (!ret)
			ret = check_name(c, v, "scheduler binary name");
		return ret ? ret : ys_str(c, v, "binary.name", &sd->binary);
	}
	if ((v = ymap_get(n, "path"))) {
		sd->kind = SCHED_BIN_PATH;
		ret = ys_str(c, v, "binary.path", &sd->binary);
		if (!ret && !*sd->binary)
			ret = ys_fail(c, v, "binary.path must not be empty");
		return ret;
	}
	v = ymap_get(n, "kernel_builtin");
	sd->kind = SCHED_BIN_KERNEL_BUILTIN;
	ret = ys_check_keys(c, v, "kernel_builtin", kb_keys);
	if (ret)
		return ret;
	if (!ymap_get(v, "enable"))
		return ys_fail(c, v, "kernel_builtin: 'enable' commands are required");
	ret = ys_strlist(c, ymap_get(v, "enable"), "kernel_builtin.enable", &sd->enable);
	if (!ret && ymap_get(v, "disable"))
		ret = ys_strlist(c, ymap_get(v, "disable"), "kernel_builtin.disable", &sd->disable);
	return ret;
}

static long flag_index(const struct sched_def *sd, const char *name)
{
	for (size_t i = 0; i < sd->nflags; i++)
		if (!strcmp(sd->flags[i].name, name))
			return (long)i;
	return -1;
}

static int parse_flags(struct ys_ctx *c, const struct ynode *n, struct sched_def *sd)
{
	int ret = ys_expect(c, n, YNODE_SEQ, "flags");

	if (ret)
		return ret;
	if (n->n > SUITE_MAX_FLAGS)
		return ys_fail(c, n, "a scheduler may declare at most %d flags (found %zu)",
			       SUITE_MAX_FLAGS, n->n);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *fn = n->items[i];
		struct flag_decl *fd = &sd->flags[i];
		const struct ynode *v;

		ret = ys_check_keys(c, fn, "flag", flag_keys);
		if (!ret)
			ret = parse_name(c, fn, "flag", &fd->name);
		if (ret)
			return ret;
		fd->line = fn->line;
		if (flag_index(sd, fd->name) >= 0) {
			ret = ys_fail(c, ymap_get(fn, "name"), "flag '%s' declared twice",
				      fd->name);
			/* Not counted in nflags yet, so sched_free would miss it. */
			free(fd->name);
			fd->name = NULL;
			return ret;
		}
		sd->nflags = i + 1;
		if ((v = ymap_get(fn, "args")) && (ret = ys_strlist(c, v, "flag args", &fd->args)))
			return ret;
		/* requires may only name flags declared earlier: keeps the graph
		 * acyclic by construction and matches declaration order. */
		if ((v = ymap_get(fn, "requires"))) {
			struct strv req = { 0 };

			ret = ys_strlist(c, v, "requires", &req);
			for (size_t k = 0; !ret && k < req.n; k++) {
				long idx = flag_index(sd, req.v[k]);

				if (idx < 0 || (size_t)idx == i)
					ret = ys_fail(c, v,
						      "flag '%s' requires '%s', which is not a flag "
						      "declared before it",
						      fd->name, req.v[k]);
				else
					fd->requires_mask |= 1u << idx;
			}
			strv_free(&req);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* include_files and config_file of scheduler sd: in its image with the
 * suite's, and in every image of its tests. config_file needs a process to
 * hand --config to. */
static int parse_sched_includes(struct ys_ctx *c, const struct ynode *n, const struct suite *s,
				struct sched_def *sd)
{
	const struct ynode *v;
	struct include_acc *acc = calloc(1, sizeof(*acc));
	int ret;

	if (!acc)
		return -ENOMEM;
	snprintf(acc->whose, sizeof(acc->whose), "the image of scheduler '%s'", sd->name);
	ret = include_acc_add_list(c, acc, &s->includes);
	if (!ret && (v = ymap_get(n, "include_files")))
		ret = include_parse(c, v, s->dir, acc, &sd->includes);
	if (!ret && (v = ymap_get(n, "config_file"))) {
		if (sd->kind != SCHED_BIN_NAME && sd->kind != SCHED_BIN_PATH)
			ret = ys_fail(c, map_key(n, "config_file"),
				      "config_file: scheduler '%s' has %s, so no scheduler process "
				      "would get --config; give it a binary, or use include_files",
				      sd->name,
				      sd->kind == SCHED_BIN_NONE ? "binary: none (EEVDF)"
								 : "a kernel_builtin binary");
		else
			ret = include_parse_config(c, v, s->dir, acc, &sd->config);
	}
	free(acc);
	return ret;
}

static int parse_scheduler(struct ys_ctx *c, const struct ynode *n, const struct suite *s,
			   struct sched_def *sd)
{
	const struct ynode *v;
	struct topo_override o = { 1, 1, 2, 1 };
	int ret = ys_check_keys(c, n, "scheduler", sched_keys);

	if (!ret)
		ret = parse_name(c, n, "scheduler", &sd->name);
	if (ret)
		return ret;
	sd->line = n->line;
	ktstr__assert_spec__init(&sd->asserts);
	if (!(v = ymap_get(n, "binary")))
		return ys_fail(c, n, "scheduler '%s': missing required key 'binary' "
				     "(none, a name, {path: P} or {kernel_builtin: ...})",
			       sd->name);
	if ((ret = parse_binary(c, v, sd)))
		return ret;
	if ((v = ymap_get(n, "ops_name")) && (ret = ys_str(c, v, "ops_name", &sd->ops_name)))
		return ret;
	if ((ret = parse_sched_includes(c, n, s, sd)))
		return ret;
	/* Some loaders take long to attach under emulation (scx_pair creates
	 * thousands of maps); the guest waits this long for state "enabled". */
	if ((v = ymap_get(n, "watchdog_timeout")) &&
	    (ret = parse_watchdog(c, v, &sd->watchdog_timeout_ms)))
		return ret;
	if ((v = ymap_get(n, "attach_timeout_ms")) &&
	    (ret = ys_u32(c, v, "attach_timeout_ms", 100, 600000, &sd->attach_timeout_ms)))
		return ret;
	if ((v = ymap_get(n, "flags")) && (ret = parse_flags(c, v, sd)))
		return ret;
	if ((v = ymap_get(n, "sysctls")) && (ret = parse_sysctls(c, v, &sd->sysctls)))
		return ret;
	if ((v = ymap_get(n, "kargs")) && (ret = ys_strlist(c, v, "kargs", &sd->kargs)))
		return ret;
	if ((v = ymap_get(n, "cgroup_parent"))) {
		char why[300];

		if ((ret = ys_str(c, v, "cgroup_parent", &sd->cgroup_parent)))
			return ret;
		if (ktstr_cgroup_parent_check(sd->cgroup_parent, why, sizeof(why)))
			return ys_fail(c, v, "%s", why);
	}
	if ((v = ymap_get(n, "sched_args")) &&
	    (ret = ys_strlist(c, v, "sched_args", &sd->sched_args)))
		return ret;
	if ((v = ymap_get(n, "topology")) && (ret = parse_topology(c, v, true, &o)))
		return ret;
	sd->topo = (struct ktstr_topo){ o.numa_nodes, o.llcs, o.cores_per_llc, o.threads_per_core };
	if (v) {
		char err[256];

		if (topo_validate(&sd->topo, err, sizeof(err)))
			return ys_fail(c, v, "scheduler topology: %s", err);
	}
	if ((v = ymap_get(n, "asserts")) && (ret = parse_asserts(c, v, &sd->asserts)))
		return ret;
	if ((v = ymap_get(n, "constraints")) && (ret = parse_constraints(c, v, &sd->cons)))
		return ret;
	if (sd->kind == SCHED_BIN_NONE && sd->nflags)
		return ys_fail(c, ymap_get(n, "flags"),
			       "scheduler '%s' has binary: none (EEVDF) and so cannot take flags",
			       sd->name);
	if (sd->kind == SCHED_BIN_NONE) {
		char who[300];

		snprintf(who, sizeof(who), "scheduler '%s' has binary: none", sd->name);
		return refuse_monitor_under_eevdf(c, n, who, "give it a sched_ext binary");
	}
	return 0;
}

static int flag_mask(struct ys_ctx *c, const struct ynode *v, const struct sched_def *sd,
		     const char *what, uint32_t *mask)
{
	struct strv names = { 0 };
	int ret = ys_strlist(c, v, what, &names);

	for (size_t i = 0; !ret && i < names.n; i++) {
		long idx = flag_index(sd, names.v[i]);

		if (idx < 0)
			ret = ys_fail(c, v, "%s: scheduler '%s' has no flag '%s'", what, sd->name,
				      names.v[i]);
		else
			*mask |= 1u << idx;
	}
	strv_free(&names);
	return ret;
}

static int parse_scenario(struct ys_ctx *c, const struct ynode *n, struct test_def *t)
{
	int ret;

	if (n->kind == YNODE_SCALAR) {
		ret = scenario_catalog_build(n->value, &t->scenario, c->err, c->errlen);
		if (ret == -ENOENT) {
			size_t cnt;
			const struct canned_scenario *cat = scenario_catalog(&cnt);
			char list[512] = "";
			size_t off = 0;

			for (size_t i = 0; i < cnt && off < sizeof(list); i++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							i ? ", " : "", cat[i].name);
			return ys_fail(c, n, "unknown canned scenario '%s' (known: %s)", n->value,
				       list);
		}
		return ret;
	}
	t->scenario = calloc(1, sizeof(*t->scenario));
	if (!t->scenario)
		return -ENOMEM;
	ktstr__scenario__init(t->scenario);
	if (!ymap_get(n, "name") && !(t->scenario->name = strdup(t->name)))
		return -ENOMEM;
	return yproto_fill(c, n, &t->scenario->base, "scenario");
}

/* A test that overrides some dimensions gets the rest from its scheduler:
 * the merge must still be a topology the guest accepts ("spec topology"). */
static int check_test_topology(struct ys_ctx *c, const struct ynode *n, const struct sched_def *sd,
			       const struct test_def *t)
{
	struct ktstr_topo m = merge_topology(sd, t);
	char err[256];

	if (!topo_validate(&m, err, sizeof(err)))
		return 0;
	return ys_fail(c, ymap_get(n, "topology"),
		       "topology: test '%s' sets some dimensions and takes the others from "
		       "scheduler '%s' (%u,%u,%u,%u), which makes %s; set every dimension the "
		       "merge gets wrong",
		       t->name, sd->name, sd->topo.numa_nodes, sd->topo.llcs, sd->topo.cores_per_llc,
		       sd->topo.threads_per_core, err);
}

/* The node a scenario path of ktstr_scenario_check ("cgroups[1].workers",
 * "steps[0].ops[2].def.cpuset") names under the scenario mapping n, or the
 * deepest node written on the way there: a field left at its default has
 * none of its own, and is blamed on the mapping that omits it. A repeated
 * field may be written as one item (yproto_fill), so [0] of a non-list is
 * the node itself. */
static const struct ynode *scenario_node(const struct ynode *n, const char *path)
{
	char part[64];

	while (*path && n) {
		size_t len = strcspn(path, ".");
		const struct ynode *next;
		char *br;
		unsigned long idx = 0;

		snprintf(part, sizeof(part), "%.*s", (int)(len < sizeof(part) ? len : 0), path);
		br = strchr(part, '[');
		if (br) {
			idx = strtoul(br + 1, NULL, 10);
			*br = '\0';
		}
		next = n->kind == YNODE_MAP ? ymap_get(n, part) : NULL;
		if (next && br)
			next = next->kind == YNODE_SEQ ? (idx < next->n ? next->items[idx] : NULL)
						       : (idx == 0 ? next : NULL);
		if (!next)
			break;
		n = next;
		path += len + (path[len] == '.');
	}
	return n;
}

/* Every rule the guest would apply to the scenario before or while it
 * runs (ktstr/scenario_rules.h), applied here with the position of the
 * field: an error after a VM boot would cost seconds and say less. The
 * cpusets are also resolved on the test's own topology, as the guest will
 * resolve them, unless that topology is outside the test's constraints
 * (then the base run is skipped, and only the gauntlet presets inside
 * them run: plan.c checks each of those and drops the ones that do not
 * fit). */
static int check_scenario(struct ys_ctx *c, const struct ynode *n, const struct sched_def *sd,
			  const struct test_def *t)
{
	const struct ynode *sn = ymap_get(n, "scenario"), *at;
	struct topo_constraints tc = merge_constraints(sd, t);
	struct ktstr_topo m = merge_topology(sd, t);
	struct gtopo *g = NULL;
	char path[96], why[512], cons[160], label[160];
	int ret;

	if (ktstr_scenario_has_cpusets(t->scenario) &&
	    plan_topo_in_constraints(&tc, &m, cons, sizeof(cons))) {
		g = malloc(sizeof(*g));
		if (!g)
			return -ENOMEM;
		gtopo_from_model(&m, g);
	}
	ret = ktstr_scenario_check(t->scenario, g, path, sizeof(path), why, sizeof(why));
	free(g);
	if (!ret)
		return 0;
	if (!strcmp(path, "duration_ms") && ymap_get(n, "duration")) {
		at = ymap_get(n, "duration");
		snprintf(label, sizeof(label), "duration");
	} else if (sn && sn->kind == YNODE_MAP) {
		at = scenario_node(sn, path);
		snprintf(label, sizeof(label), "scenario.%s", path);
	} else {
		/* A canned scenario: its text is not the user's, so the error
		 * points at the name and says which part. */
		at = sn ? sn : n;
		snprintf(label, sizeof(label), "scenario %s (canned) %s", t->scenario->name, path);
	}
	if (ret == -ERANGE)
		return ys_fail(c, at, "%s: on topology %u,%u,%u,%u (test '%s'): %s (or give the test "
				      "constraints that leave this topology out, for gauntlet presets "
				      "only)",
			       label, m.numa_nodes, m.llcs, m.cores_per_llc, m.threads_per_core,
			       t->name, why);
	return ys_fail(c, at, "%s: %s", label, why);
}

/* Every payload op names a declared payload in a state that allows it
 * (ktstr/payload.h): found here with the op's position, not in the guest. */
static int check_payload_ops(struct ys_ctx *c, const struct ynode *n, const struct suite *s,
			     const struct test_def *t)
{
	const struct ynode *sn = ymap_get(n, "scenario");
	char path[96], why[600];

	if (!ktstr_payload_ops_check(t->scenario, s->pspecs, s->npayloads, path, sizeof(path), why,
				     sizeof(why)))
		return 0;
	/* Canned scenarios have no payload ops: the error is in sn's text. */
	return ys_fail(c, sn && sn->kind == YNODE_MAP ? scenario_node(sn, path) : n,
		       "scenario.%s: %s", path, why);
}

static int parse_test(struct ys_ctx *c, const struct ynode *n, struct suite *s,
		      struct test_def *t)
{
	const struct ynode *v;
	const struct sched_def *sd;
	int ret = ys_check_keys(c, n, "test", test_keys);

	if (!ret)
		ret = parse_name(c, n, "test", &t->name);
	if (ret)
		return ret;
	t->line = n->line;
	ktstr__assert_spec__init(&t->asserts);
	t->sched = SUITE_EEVDF;
	if ((v = ymap_get(n, "scheduler"))) {
		size_t i;

		if ((ret = ys_expect(c, v, YNODE_SCALAR, "scheduler")))
			return ret;
		for (i = 0; i < s->nscheds; i++)
			if (!strcmp(s->scheds[i].name, v->value))
				break;
		if (i == s->nscheds)
			return ys_fail(c, v, "test '%s': unknown scheduler '%s' (define it under "
					     "schedulers:, or use eevdf)",
				       t->name, v->value);
		t->sched = i;
	}
	sd = &s->scheds[t->sched];
	if ((v = ymap_get(n, "topology")) && (ret = parse_topology(c, v, false, &t->topo)))
		return ret;
	if ((v = ymap_get(n, "c_test"))) {
		if (ymap_get(n, "scenario"))
			return ys_fail(c, ymap_get(n, "scenario"),
				       "test '%s': scenario and c_test exclude each other (the "
				       "C function is the test's scenario); remove one",
				       t->name);
		ret = suite_ctest_parse(c, v, s, t);
	} else if ((v = ymap_get(n, "scenario")))
		ret = parse_scenario(c, v, t);
	else
		ret = scenario_catalog_build("steady", &t->scenario, c->err, c->errlen);
	if (ret)
		return ret;
	if ((v = ymap_get(n, "duration"))) {
		uint32_t ms;

		if ((ret = ys_duration_ms(c, v, "duration", &ms)))
			return ret;
		t->scenario->has_duration_ms = 1;
		t->scenario->duration_ms = ms;
	}
	if ((v = ymap_get(n, "asserts")) && (ret = parse_asserts(c, v, &t->asserts)))
		return ret;
	if ((v = ymap_get(n, "extra_sched_args")) &&
	    (ret = ys_strlist(c, v, "extra_sched_args", &t->extra_sched_args)))
		return ret;
	if ((v = ymap_get(n, "required_flags")) &&
	    (ret = flag_mask(c, v, sd, "required_flags", &t->required_mask)))
		return ret;
	if ((v = ymap_get(n, "excluded_flags")) &&
	    (ret = flag_mask(c, v, sd, "excluded_flags", &t->excluded_mask)))
		return ret;
	if (t->required_mask & t->excluded_mask)
		return ys_fail(c, n, "test '%s': a flag is both required and excluded", t->name);
	if ((v = ymap_get(n, "constraints")) && (ret = parse_constraints(c, v, &t->cons)))
		return ret;
	if ((v = ymap_get(n, "requires_smt"))) {
		if ((ret = ys_bool(c, v, "requires_smt", &t->cons.requires_smt)))
			return ret;
		t->cons.set_mask |= TC_SMT;
	}
	if ((v = ymap_get(n, "memory_mb")) &&
	    (ret = ys_u32(c, v, "memory_mb", 128, 1u << 20, &t->memory_mb)))
		return ret;
	if ((v = ymap_get(n, "watchdog_timeout")) &&
	    (ret = parse_watchdog(c, v, &t->watchdog_timeout_ms)))
		return ret;
	if ((v = ymap_get(n, "timeout")) && (ret = ys_duration_ms(c, v, "timeout", &t->timeout_ms)))
		return ret;
	if ((v = ymap_get(n, "performance_mode")) &&
	    (ret = ys_bool(c, v, "performance_mode", &t->performance_mode)))
		return ret;
	if ((v = ymap_get(n, "expect_failure"))) {
		if ((ret = ys_expect(c, v, YNODE_MAP, "expect_failure")) ||
		    (ret = expect_parse(c, v, &t->xfail)))
			return ret;
	}
	if ((ret = check_test_topology(c, n, sd, t)) || (ret = check_scenario(c, n, sd, t)) ||
	    (ret = check_payload_ops(c, n, s, t)))
		return ret;
	/* What it inherits from its scheduler was checked there. */
	if (sd->kind == SCHED_BIN_NONE) {
		char who[600];

		if (t->sched == SUITE_EEVDF)
			snprintf(who, sizeof(who), "test '%s' runs under eevdf", t->name);
		else
			snprintf(who, sizeof(who), "test '%s' runs under '%s' (binary: none)",
				 t->name, sd->name);
		return refuse_monitor_under_eevdf(c, n, who,
						  "give the test a sched_ext scheduler");
	}
	return 0;
}

/* A test's own include_files: with the suite's and its scheduler's they
 * make an image of its own (suite.h: struct suite, nimages); without them
 * it boots its scheduler's. */
static int parse_test_includes(struct ys_ctx *c, const struct ynode *n, struct suite *s,
			       struct test_def *t)
{
	const struct ynode *v = ymap_get(n, "include_files");
	const struct sched_def *sd = &s->scheds[t->sched];
	struct include_acc *acc;
	int ret;

	t->image = t->sched;
	if (!v)
		return 0;
	if (s->nimages - s->nscheds >= INCLUDE_MAX_TEST_IMAGES)
		return ys_fail(c, map_key(n, "include_files"),
			       "include_files: test '%s' would be the %zuth test with include_files "
			       "of its own, more than the %d a suite may have (each is an image "
			       "built and held for the whole run); move shared files to the "
			       "suite's or the scheduler's include_files",
			       t->name, s->nimages - s->nscheds + 1, INCLUDE_MAX_TEST_IMAGES);
	if (!s->image_test &&
	    !(s->image_test = calloc(INCLUDE_MAX_TEST_IMAGES, sizeof(*s->image_test))))
		return -ENOMEM;
	if (!(acc = calloc(1, sizeof(*acc))))
		return -ENOMEM;
	snprintf(acc->whose, sizeof(acc->whose), "the image of test '%s'", t->name);
	ret = include_acc_add_list(c, acc, &s->includes);
	if (!ret)
		ret = include_acc_add_list(c, acc, &sd->includes);
	if (!ret)
		ret = include_acc_add_list(c, acc, &sd->config);
	if (!ret)
		ret = include_parse(c, v, s->dir, acc, &t->includes);
	free(acc);
	if (ret)
		return ret;
	s->image_test[s->nimages - s->nscheds] = (size_t)(t - s->tests);
	t->image = s->nimages++;
	return 0;
}

static int cmp_name_idx(const void *a, const void *b, void *arr)
{
	const struct test_def *t = arr;

	return strcmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

/* Duplicate test names in O(n log n): suites may hold thousands of tests. */
static int check_unique_tests(struct ys_ctx *c, struct suite *s)
{
	size_t *idx = malloc((s->ntests ? s->ntests : 1) * sizeof(*idx));
	int ret = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < s->ntests; i++)
		idx[i] = i;
	qsort_r(idx, s->ntests, sizeof(*idx), cmp_name_idx, s->tests);
	for (size_t i = 1; i < s->ntests; i++) {
		const struct test_def *a = &s->tests[idx[i - 1]], *b = &s->tests[idx[i]];

		if (!strcmp(a->name, b->name)) {
			const struct test_def *later = a->line > b->line ? a : b;
			const struct test_def *first = a->line > b->line ? b : a;

			snprintf(c->err, c->errlen, "%s:%u:1: test name '%s' used twice (first at line %u)",
				 c->file, later->line, later->name, first->line);
			ret = -EINVAL;
			break;
		}
	}
	free(idx);
	return ret;
}

/* payloads: {NAME: {path: P, args: [...], metrics: [...]}}: P relative to
 * the suite file.
 * The file must be an executable regular file now: a typo is a suite
 * error, not a guest that cannot exec. */
static int parse_payload(struct ys_ctx *c, const struct ynode *key, const struct ynode *n,
			 struct suite *s, struct payload_def *pd)
{
	const struct ynode *v;
	char host[PATH_MAX], guest[PATH_MAX];
	struct stat st;
	int ret;

	pd->line = key->line;
	ktstr__payload_spec__init(&pd->spec);
	if (ktstr_payload_name_check(key->value))
		return ys_fail(c, key, "payload name '%s' must be 1-48 of [A-Za-z0-9_.-], not . "
				       "or ..",
			       key->value);
	if (!(pd->spec.name = strdup(key->value)))
		return -ENOMEM;
	if ((ret = ys_expect(c, n, YNODE_MAP, "payload")) ||
	    (ret = ys_check_keys(c, n, "payload", payload_keys)))
		return ret;
	if (!(v = ymap_get(n, "path")))
		return ys_fail(c, n, "payload '%s': missing required key 'path' (the program on "
				     "this host, relative to the suite file)",
			       key->value);
	if ((ret = ys_expect(c, v, YNODE_SCALAR, "payload path")))
		return ret;
	if (!*v->value)
		return ys_fail(c, v, "payload '%s': path must not be empty", key->value);
	if (v->value[0] == '/')
		ret = snprintf(host, sizeof(host), "%s", v->value) >= (int)sizeof(host)
			      ? -ENAMETOOLONG
			      : 0;
	else
		ret = path_join(host, sizeof(host), s->dir, v->value, NULL);
	if (ret || ktstr_payload_guest_path(key->value, host, guest, sizeof(guest)))
		return ys_fail(c, v, "payload '%s': path too long", key->value);
	if (stat(host, &st))
		return ys_fail(c, v, "payload '%s': %s: %s", key->value, host, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(host, X_OK))
		return ys_fail(c, v, "payload '%s': %s is not an executable file%s", key->value,
			       host, S_ISREG(st.st_mode) ? " (chmod +x it)" : "");
	if (!(pd->host_path = strdup(host)) || !(pd->spec.path = strdup(guest)))
		return -ENOMEM;
	if ((v = ymap_get(n, "args")) && (ret = ys_strlist(c, v, "payload args", &pd->args)))
		return ret;
	if (pd->args.n > KTSTR_PAYLOAD_ARGS_MAX)
		return ys_fail(c, v, "payload '%s': %zu args, more than the %d a run may take",
			       key->value, pd->args.n, KTSTR_PAYLOAD_ARGS_MAX);
	for (size_t i = 0; i < pd->args.n; i++)
		if (strlen(pd->args.v[i]) > KTSTR_PAYLOAD_ARG_MAX)
			return ys_fail(c, v->kind == YNODE_SEQ ? v->items[i] : v,
				       "payload '%s': argument %zu is %zu bytes, more than the %d "
				       "one may have",
				       key->value, i, strlen(pd->args.v[i]), KTSTR_PAYLOAD_ARG_MAX);
	pd->spec.n_args = pd->args.n;
	pd->spec.args = pd->args.v;
	if ((v = ymap_get(n, "metrics")))
		return payload_metric_parse(c, v, key->value, &pd->metrics);
	return 0;
}

static int parse_payloads(struct ys_ctx *c, const struct ynode *n, struct suite *s)
{
	int ret = ys_expect(c, n, YNODE_MAP, "payloads");

	if (ret)
		return ret;
	if (n->n > KTSTR_PAYLOAD_MAX)
		return ys_fail(c, n, "%zu payloads, more than the %d a suite may declare", n->n,
			       KTSTR_PAYLOAD_MAX);
	if ((ret = suite_payloads_alloc(s)))
		return ret;
	for (size_t i = 0; i < n->n; i++) {
		s->pspecs[i] = &s->payloads[i].spec;
		ret = parse_payload(c, n->keys[i], n->items[i], s, &s->payloads[i]);
		s->npayloads++; /* counted even on failure so suite_free frees it */
		if (ret)
			return ret;
	}
	return 0;
}

static int suite_build(struct ys_ctx *c, const struct ynode *root, struct suite *s)
{
	const struct ynode *scheds, *tests;
	int ret = ys_check_keys(c, root, "the suite file", top_keys);

	if (ret)
		return ret;
	scheds = ymap_get(root, "schedulers");
	tests = ymap_get(root, "tests");
	if (scheds && (ret = ys_expect(c, scheds, YNODE_SEQ, "schedulers")))
		return ret;
	if (!tests)
		return ys_fail(c, root, "the suite has no 'tests:' list");
	if ((ret = ys_expect(c, tests, YNODE_SEQ, "tests")))
		return ret;
	/* Before the tests: their ops name these. */
	if (ymap_get(root, "payloads") && (ret = parse_payloads(c, ymap_get(root, "payloads"), s)))
		return ret;
	/* Before the schedulers: every image carries these. */
	if (ymap_get(root, "include_files")) {
		struct include_acc *acc = calloc(1, sizeof(*acc));

		if (!acc)
			return -ENOMEM;
		snprintf(acc->whose, sizeof(acc->whose),
			 "every image (the suite's include_files go into all of them)");
		ret = include_parse(c, ymap_get(root, "include_files"), s->dir, acc, &s->includes);
		free(acc);
		if (ret)
			return ret;
	}
	s->scheds = calloc(1 + (scheds ? scheds->n : 0), sizeof(*s->scheds));
	s->tests = calloc(tests->n ? tests->n : 1, sizeof(*s->tests));
	if (!s->scheds || !s->tests)
		return -ENOMEM;
	/* Index 0: the kernel's own scheduler, always available as "eevdf". */
	s->scheds[0].name = strdup("eevdf");
	if (!s->scheds[0].name)
		return -ENOMEM;
	s->scheds[0].kind = SCHED_BIN_NONE;
	s->scheds[0].topo = (struct ktstr_topo){ 1, 1, 2, 1 };
	ktstr__assert_spec__init(&s->scheds[0].asserts);
	s->nscheds = 1;
	for (size_t i = 0; scheds && i < scheds->n; i++) {
		struct sched_def *sd = &s->scheds[s->nscheds];

		ret = parse_scheduler(c, scheds->items[i], s, sd);
		s->nscheds++; /* counted even on failure so suite_free frees it */
		if (ret)
			return ret;
		for (size_t k = 0; k + 1 < s->nscheds; k++)
			if (!strcmp(s->scheds[k].name, sd->name))
				return ys_fail(c, ymap_get(scheds->items[i], "name"),
					       k == 0 ? "scheduler name 'eevdf' is built in (the "
							"kernel default); pick another name"
						      : "scheduler '%s' defined twice",
					       sd->name);
	}
	s->nimages = s->nscheds;
	for (size_t i = 0; i < tests->n; i++) {
		ret = parse_test(c, tests->items[i], s, &s->tests[s->ntests]);
		s->ntests++;
		if (!ret)
			ret = parse_test_includes(c, tests->items[i], s, &s->tests[s->ntests - 1]);
		if (ret)
			return ret;
	}
	return check_unique_tests(c, s);
}

int suite_parse(const char *file, const char *text, size_t len, struct suite **out, char *err,
		size_t errlen)
{
	struct ys_ctx c = { .file = file, .err = err, .errlen = errlen };
	struct ynode *root = NULL;
	struct suite *s;
	char *tmp;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(file);
	tmp = strdup(file);
	s->dir = tmp ? strdup(dirname(tmp)) : NULL;
	free(tmp);
	if (!s->path || !s->dir) {
		ret = -ENOMEM;
		goto err_suite;
	}
	ret = ytree_parse(file, text, len, &root, err, errlen);
	if (ret)
		goto err_suite;
	ret = suite_build(&c, root, s);
	ynode_free(root);
	if (ret)
		goto err_suite;
	*out = s;
	return 0;
err_suite:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory while reading the suite", file);
	suite_free(s);
	return ret;
}

/* A suite only root may read, parsed by a root ktstr-orch, must not leak
 * through its error messages (they quote keys and values: a suite path
 * pointing at /etc/shadow would print its first line). Keep the position,
 * drop the words. */
static void redact(const char *path, char *err, size_t errlen)
{
	size_t pl = strlen(path);
	unsigned line = 0, col = 0;

	if (!strncmp(err, path, pl) && sscanf(err + pl, ":%u:%u:", &line, &col) == 2)
		snprintf(err, errlen,
			 "%s:%u:%u: not a valid suite (details withheld: the file is readable "
			 "only by root, and ktstr-orch running as root does not echo what it "
			 "holds; check it as its owner, or make it readable)",
			 path, line, col);
	else
		snprintf(err, errlen,
			 "%s: not a valid suite (details withheld: the file is readable only by "
			 "root, and ktstr-orch running as root does not echo what it holds)",
			 path);
}

int suite_load(const char *path, struct suite **out, char *err, size_t errlen)
{
	struct strbuf sb = { 0 };
	char why[1024];
	struct stat st;
	bool secret;
	int fd, ret;

	/* A regular file only, opened without waiting (a FIFO would block
	 * forever) and without following a link another user planted. */
	fd = safe_open_regular(path, why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "cannot read the suite file: %s", why);
		return fd;
	}
	secret = !fstat(fd, &st) && geteuid() == 0 && st.st_uid == 0 && !(st.st_mode & S_IROTH);
	ret = read_fd_all(fd, &sb, SUITE_FILE_MAX);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read the suite file: %s%s", path, strerror(-ret),
			 ret == -EFBIG ? " (suite files are limited to 16 MiB)" : "");
		sb_free(&sb);
		return ret;
	}
	ret = suite_parse(path, sb.buf ? sb.buf : "", sb.len, out, err, errlen);
	sb_free(&sb);
	if (ret && secret)
		redact(path, err, errlen);
	return ret;
}
