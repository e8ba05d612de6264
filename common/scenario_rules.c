/* The scenario rules of ktstr/scenario_rules.h: one walk over a Scenario
 * that both ktstr-orch (at suite parse and plan time) and the guest (on the
 * spec it decodes) run, so a scenario the host accepts is one the guest
 * accepts, with the same words when it does not. */
#include "ktstr/scenario_rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ktstr/cpuspec.h"

int ktstr_cgroup_name_check(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n > KTSTR_CGROUP_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return -EINVAL;
	}
	return 0;
}

int ktstr_cgroup_parent_check(const char *p, char *why, size_t whylen)
{
	if (!p || p[0] != '/' || strstr(p, "..") || strlen(p) > KTSTR_CGROUP_PARENT_MAX) {
		snprintf(why, whylen,
			 "cgroup_parent must be an absolute path under /sys/fs/cgroup such as "
			 "/ktstr, without '..', of at most %d characters",
			 KTSTR_CGROUP_PARENT_MAX);
		return -EINVAL;
	}
	return 0;
}

int ktstr_sysctl_check(const char *kv, char *why, size_t whylen)
{
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv || strchr(kv, ' ') || strstr(kv, "..")) {
		snprintf(why, whylen,
			 "sysctl '%s' must be written key=value, without spaces or '..' (it is "
			 "also a sysctl.key=value kernel argument, and the guest writes "
			 "/proc/sys/key)",
			 kv);
		return -EINVAL;
	}
	return 0;
}

uint64_t ktstr_work_group_size(const Ktstr__WorkSpec *w)
{
	switch (w ? w->type : KTSTR__WORK_TYPE__WORK_CPU_SPIN) {
	case KTSTR__WORK_TYPE__WORK_PIPE_IO:
	case KTSTR__WORK_TYPE__WORK_FUTEX_PING_PONG:
	case KTSTR__WORK_TYPE__WORK_CACHE_PIPE:
		return 2;
	case KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT:
		return (w->has_fan_out && w->fan_out ? (uint64_t)w->fan_out : 4u) + 1u;
	case KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION:
		return w->has_contenders && w->contenders ? w->contenders : 4u;
	default:
		return 1;
	}
}

/* An enum value as a suite writes it: lower case, without the prefix
 * ("WORK_PIPE_IO" -> "pipe_io"). */
static const char *enum_word(const ProtobufCEnumDescriptor *ed, int v, const char *prefix,
			     char *buf, size_t len)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);
	const char *name = ev ? ev->name : "?";
	size_t pl = strlen(prefix), i;

	if (!strncmp(name, prefix, pl))
		name += pl;
	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

/* Why a group has the size it has, for the multiple-of message. */
static void group_reason(const Ktstr__WorkSpec *w, uint64_t g, char *buf, size_t len)
{
	switch (w ? w->type : KTSTR__WORK_TYPE__WORK_CPU_SPIN) {
	case KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT:
		snprintf(buf, len, "1 waker + fan_out %llu", (unsigned long long)(g - 1));
		break;
	case KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION:
		snprintf(buf, len, "contenders %llu", (unsigned long long)g);
		break;
	default:
		snprintf(buf, len, "pairs");
	}
}

/* A cgroup seen by the walk: created at `made`, removed at `gone` (or
 * live). Paths are the suite's words, for messages. */
struct wcg {
	const char *name;
	bool live;
	char made[64], gone[64];
};

struct walk {
	const struct gtopo *t;
	char *path, *why;
	size_t pathlen, whylen;
	struct wcg cg[KTSTR_SCENARIO_MAX_CGROUPS];
	unsigned ncg;
	uint64_t workers;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct walk *w, int ret, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(w->path, w->pathlen, "%s", path);
	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	return ret;
}

/* why is already written (by a shared resolver): name the field. */
static int blame(struct walk *w, int ret, const char *at, const char *field)
{
	snprintf(w->path, w->pathlen, "%s.%s", at, field);
	return ret;
}

static struct wcg *find_live(struct walk *w, const char *name)
{
	for (unsigned i = 0; i < w->ncg; i++)
		if (w->cg[i].live && !strcmp(w->cg[i].name, name))
			return &w->cg[i];
	return NULL;
}

/* The op at `at` names cgroup `name` (in field `field`): it must exist. */
static int need_live(struct walk *w, const char *at, const char *field, const char *kind,
		     const char *name)
{
	char p[128];

	if (find_live(w, name))
		return 0;
	snprintf(p, sizeof(p), "%s.%s", at, field);
	for (unsigned i = w->ncg; i-- > 0;)
		if (!strcmp(w->cg[i].name, name))
			return fail(w, -EINVAL, p,
				    "%s: cgroup '%s' no longer exists here (created by %s, removed "
				    "by %s); use it before it is removed, or add it again",
				    kind, name, w->cg[i].made, w->cg[i].gone);
	return fail(w, -EINVAL, p,
		    "%s: no cgroup '%s' exists here; name one from cgroups: or one an earlier "
		    "add_cgroup created",
		    kind, name);
}

/* The cpuset of `at`: what needs no topology, then (with one) whether it
 * fits, exactly as the guest resolves it. */
static int check_cpuset(struct walk *w, const char *at, const Ktstr__CpusetSpec *cs)
{
	struct cpuset_bits out;
	int ret = cpuspec_check(cs, w->why, w->whylen);

	if (!ret && w->t && cs)
		ret = cpuspec_resolve(w->t, cs, &out, w->why, w->whylen);
	return ret ? blame(w, ret, at, "cpuset") : 0;
}

/* A cgroup definition on its own (cgroups[i], or an op's def at `at`). */
static int check_def(struct walk *w, const char *at, const Ktstr__CgroupDef *d)
{
	char p[128], ty[32], rs[48];
	uint64_t g;
	int ret;

	snprintf(p, sizeof(p), "%s.name", at);
	if (ktstr_cgroup_name_check(d->name))
		return fail(w, -EINVAL, p,
			    "cgroup name '%s' must be 1-%d characters of [A-Za-z0-9_.-], not '.' "
			    "or '..' (it is a directory under the cgroup parent)",
			    d->name ? d->name : "", KTSTR_CGROUP_NAME_MAX);
	snprintf(p, sizeof(p), "%s.workers", at);
	if (d->workers > KTSTR_SCENARIO_MAX_WORKERS)
		return fail(w, -EINVAL, p,
			    "cgroup '%s' asks for %u workers; a scenario may have at most %u",
			    d->name, d->workers, KTSTR_SCENARIO_MAX_WORKERS);
	snprintf(p, sizeof(p), "%s.work.type", at);
	if (d->work && (d->work->type < 0 || d->work->type > KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION))
		return fail(w, -EINVAL, p, "cgroup '%s' has unknown work type %d", d->name,
			    (int)d->work->type);
	enum_word(&ktstr__work_type__descriptor,
		  d->work ? d->work->type : KTSTR__WORK_TYPE__WORK_CPU_SPIN, "WORK_", ty, sizeof(ty));
	g = ktstr_work_group_size(d->work);
	if (g > KTSTR_SCENARIO_MAX_WORKERS) {
		bool fan = d->work->type == KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT;

		snprintf(p, sizeof(p), "%s.work.%s", at, fan ? "fan_out" : "contenders");
		return fail(w, -EINVAL, p,
			    "cgroup '%s': a %s group of %llu workers is more than the %u a scenario "
			    "may have; lower %s",
			    d->name, ty, (unsigned long long)g, KTSTR_SCENARIO_MAX_WORKERS,
			    fan ? "fan_out" : "contenders");
	}
	if (d->workers % g) {
		group_reason(d->work, g, rs, sizeof(rs));
		snprintf(p, sizeof(p), "%s.workers", at);
		return fail(w, -EINVAL, p,
			    "cgroup '%s' runs %s in groups of %llu (%s) but has %u workers; use a "
			    "multiple of %llu",
			    d->name, ty, (unsigned long long)g, rs, d->workers,
			    (unsigned long long)g);
	}
	snprintf(p, sizeof(p), "%s.policy", at);
	if (d->has_policy && (d->policy < 0 || d->policy > KTSTR__SCHED_POLICY__POLICY_RR))
		return fail(w, -EINVAL, p, "cgroup '%s' has unknown policy %d", d->name,
			    (int)d->policy);
	ret = affinity_check(d->affinity, w->why, w->whylen);
	if (ret)
		return blame(w, ret, at, "affinity");
	ret = cpuspec_check(d->cpuset, w->why, w->whylen);
	return ret ? blame(w, ret, at, "cpuset") : 0;
}

/* d's workers join the scenario (at: where, for the message). */
static int spawn(struct walk *w, const char *at, const Ktstr__CgroupDef *d)
{
	char p[128];

	w->workers += d->workers;
	snprintf(p, sizeof(p), "%s.workers", at);
	if (w->workers > KTSTR_SCENARIO_MAX_WORKERS)
		return fail(w, -EINVAL, p,
			    "cgroup '%s' brings the scenario to %llu workers, more than the %u "
			    "one may start in all (cgroups:, add_cgroup and spawn together, "
			    "stopped ones included); use fewer",
			    d->name, (unsigned long long)w->workers, KTSTR_SCENARIO_MAX_WORKERS);
	return 0;
}

/* Create d (cgroups[i] or add_cgroup at `at`), set its cpuset, spawn. */
static int add(struct walk *w, const char *at, const Ktstr__CgroupDef *d)
{
	const struct wcg *dup = find_live(w, d->name);
	char p[128];
	struct wcg *c;

	snprintf(p, sizeof(p), "%s.name", at);
	if (dup)
		return fail(w, -EINVAL, p,
			    "cgroup name '%s' is already in use (%s created it, and it still "
			    "exists here); give each cgroup its own name, or remove_cgroup the "
			    "first one before",
			    d->name, dup->made);
	if (w->ncg == KTSTR_SCENARIO_MAX_CGROUPS)
		return fail(w, -EINVAL, at,
			    "cgroup '%s' would be cgroup %d of this scenario, more than the %d one "
			    "may create in all (removed ones included); use fewer",
			    d->name, KTSTR_SCENARIO_MAX_CGROUPS + 1, KTSTR_SCENARIO_MAX_CGROUPS);
	c = &w->cg[w->ncg++];
	c->name = d->name;
	c->live = true;
	snprintf(c->made, sizeof(c->made), "%s", at);
	return check_cpuset(w, at, d->cpuset) ?: spawn(w, at, d);
}

static int check_op(struct walk *w, const char *at, const Ktstr__Op *op)
{
	char kind[32], p[128];
	bool two = op->kind == KTSTR__OP__KIND__SWAP_CPUSETS ||
		   op->kind == KTSTR__OP__KIND__MOVE_ALL_TASKS;
	int ret;

	if (op->kind < 0 || op->kind > KTSTR__OP__KIND__KILL_PAYLOAD)
		return fail(w, -EINVAL, at, "unknown op kind %d", (int)op->kind);
	enum_word(&ktstr__op__kind__descriptor, op->kind, "", kind, sizeof(kind));
	/* Payload ops: their names and states are ktstr_payload_ops_check's
	 * (they need the declared payloads); here only the cgroup a run
	 * names, which must exist at its step like any op's. */
	if (op->kind >= KTSTR__OP__KIND__RUN_PAYLOAD) {
		if (!op->cgroup)
			return 0;
		snprintf(p, sizeof(p), "%s.cgroup", at);
		if (op->kind != KTSTR__OP__KIND__RUN_PAYLOAD)
			return fail(w, -EINVAL, p,
				    "%s takes no cgroup (the run it names keeps the one it "
				    "started in); remove it",
				    kind);
		if (ktstr_cgroup_name_check(op->cgroup))
			return fail(w, -EINVAL, p, "%s needs a valid cgroup name (got '%s')",
				    kind, op->cgroup);
		return need_live(w, at, "cgroup", kind, op->cgroup);
	}
	if (op->kind == KTSTR__OP__KIND__ADD_CGROUP || op->kind == KTSTR__OP__KIND__SPAWN) {
		if (!op->def)
			return fail(w, -EINVAL, at, "%s needs def: the cgroup's name and workers",
				    kind);
		snprintf(p, sizeof(p), "%s.def", at);
		ret = check_def(w, p, op->def);
		if (ret || op->kind == KTSTR__OP__KIND__ADD_CGROUP)
			return ret ? ret : add(w, p, op->def);
		/* The guest spawns into the cgroup as it is: a cpuset here
		 * would be silently ignored. */
		snprintf(p, sizeof(p), "%s.def.cpuset", at);
		if (op->def->cpuset)
			return fail(w, -EINVAL, p,
				    "spawn adds workers to cgroup '%s' as it is and ignores "
				    "def.cpuset; remove it, or set_cpuset the cgroup first",
				    op->def->name);
		snprintf(p, sizeof(p), "%s.def", at);
		return need_live(w, at, "def.name", kind, op->def->name) ?: spawn(w, p, op->def);
	}
	snprintf(p, sizeof(p), "%s.cgroup", at);
	if (ktstr_cgroup_name_check(op->cgroup))
		return fail(w, -EINVAL, p, "%s needs a valid cgroup name (got '%s')", kind,
			    op->cgroup ? op->cgroup : "");
	snprintf(p, sizeof(p), "%s.cgroup2", at);
	if (two && ktstr_cgroup_name_check(op->cgroup2))
		return fail(w, -EINVAL, p, "%s needs a valid cgroup2 name (got '%s')", kind,
			    op->cgroup2 ? op->cgroup2 : "");
	if (op->kind == KTSTR__OP__KIND__SET_CPUSET && !op->cpuset)
		return fail(w, -EINVAL, at, "%s needs cpuset", kind);
	if (op->kind == KTSTR__OP__KIND__SET_AFFINITY && !op->affinity)
		return fail(w, -EINVAL, at, "%s needs affinity", kind);
	if ((ret = need_live(w, at, "cgroup", kind, op->cgroup)) ||
	    (two && (ret = need_live(w, at, "cgroup2", kind, op->cgroup2))))
		return ret;
	if (op->kind == KTSTR__OP__KIND__SET_CPUSET)
		return check_cpuset(w, at, op->cpuset);
	if (op->kind == KTSTR__OP__KIND__SET_AFFINITY) {
		ret = affinity_check(op->affinity, w->why, w->whylen);
		return ret ? blame(w, ret, at, "affinity") : 0;
	}
	if (op->kind == KTSTR__OP__KIND__REMOVE_CGROUP) {
		struct wcg *c = find_live(w, op->cgroup);

		c->live = false;
		snprintf(c->gone, sizeof(c->gone), "%s", at);
	}
	return 0;
}

int ktstr_scenario_check(const Ktstr__Scenario *sc, const struct gtopo *t, char *path,
			 size_t pathlen, char *why, size_t whylen)
{
	struct walk w = { .t = t, .path = path, .why = why, .pathlen = pathlen, .whylen = whylen };
	char at[64];
	int ret;

	if (sc->duration_ms == 0 || sc->duration_ms > KTSTR_SCENARIO_MAX_DURATION_MS)
		return fail(&w, -EINVAL, "duration_ms",
			    "%u ms is outside the 1 ms..1 h (%u ms) a scenario may run; split a "
			    "longer test",
			    sc->duration_ms,
			    KTSTR_SCENARIO_MAX_DURATION_MS);
	for (size_t i = 0; i < sc->n_cgroups; i++) {
		snprintf(at, sizeof(at), "cgroups[%zu]", i);
		if ((ret = check_def(&w, at, sc->cgroups[i])) || (ret = add(&w, at, sc->cgroups[i])))
			return ret;
	}
	for (size_t s = 0; s < sc->n_steps; s++) {
		const Ktstr__Step *st = sc->steps[s];

		snprintf(at, sizeof(at), "steps[%zu].hold.frac", s);
		if (st->hold && st->hold->kind == KTSTR__HOLD_SPEC__KIND__FRAC &&
		    !(st->hold->frac >= 0.0 && st->hold->frac <= 1.0))
			return fail(&w, -EINVAL, at,
				    "hold frac %g is outside 0..1 (a fraction of the scenario's "
				    "duration); use {kind: fixed, ms: N} for a fixed hold",
				    st->hold->frac);
		for (size_t o = 0; o < st->n_ops; o++) {
			snprintf(at, sizeof(at), "steps[%zu].ops[%zu]", s, o);
			if ((ret = check_op(&w, at, st->ops[o])))
				return ret;
		}
	}
	return 0;
}

static bool def_has_cpuset(const Ktstr__CgroupDef *d)
{
	return d && d->cpuset && d->cpuset->kind != KTSTR__CPUSET_SPEC__KIND__NONE;
}

int ktstr_scenario_has_cpusets(const Ktstr__Scenario *sc)
{
	for (size_t i = 0; i < sc->n_cgroups; i++)
		if (def_has_cpuset(sc->cgroups[i]))
			return 1;
	for (size_t s = 0; s < sc->n_steps; s++)
		for (size_t o = 0; o < sc->steps[s]->n_ops; o++) {
			const Ktstr__Op *op = sc->steps[s]->ops[o];

			if (def_has_cpuset(op->def) ||
			    (op->cpuset && op->cpuset->kind != KTSTR__CPUSET_SPEC__KIND__NONE))
				return 1;
		}
	return 0;
}
