/* Canned scenarios. Each builder fills a scratch arena of protobuf-c structs
 * on the heap; the result is packed and unpacked once so the caller gets an
 * ordinary protobuf-c heap message with one ownership rule
 * (ktstr__scenario__free_unpacked) instead of a hand-tracked tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

#define A_CG 16
#define A_STEP 8
#define A_OP 16

struct arena {
	Ktstr__Scenario sc;
	Ktstr__CgroupDef cg[A_CG + A_OP];
	Ktstr__CgroupDef *cgp[A_CG];
	Ktstr__WorkSpec work[A_CG + A_OP];
	Ktstr__CpusetSpec cs[A_CG + A_OP];
	Ktstr__AffinitySpec aff[A_OP];
	Ktstr__Step step[A_STEP];
	Ktstr__Step *stepp[A_STEP];
	Ktstr__HoldSpec hold[A_STEP];
	Ktstr__Op op[A_OP];
	Ktstr__Op *opp[A_OP];
	char names[A_CG + A_OP][16];
	unsigned ncgdef, nwork, ncs, naff, nop;
	const struct catalog_params *p;
};

static Ktstr__WorkSpec *work(struct arena *a, Ktstr__WorkType t)
{
	Ktstr__WorkSpec *w = &a->work[a->nwork++];

	ktstr__work_spec__init(w);
	w->type = t;
	return w;
}

static Ktstr__CpusetSpec *cpuset(struct arena *a, Ktstr__CpusetSpec__Kind k, uint32_t index,
				 uint32_t of)
{
	Ktstr__CpusetSpec *c = &a->cs[a->ncs++];

	ktstr__cpuset_spec__init(c);
	c->kind = k;
	c->has_index = c->has_of = 1;
	c->index = index;
	c->of = of;
	return c;
}

/* A cgroup definition named cg_<i>; not yet attached to the scenario. */
static Ktstr__CgroupDef *cgdef(struct arena *a, unsigned i, Ktstr__WorkType t, uint32_t workers)
{
	unsigned k = a->ncgdef++;
	Ktstr__CgroupDef *d = &a->cg[k];

	ktstr__cgroup_def__init(d);
	snprintf(a->names[k], sizeof(a->names[k]), "cg_%u", i);
	d->name = a->names[k];
	d->has_workers = 1;
	d->workers = workers ? workers : (a->p->workers ? a->p->workers : 2);
	d->work = work(a, t);
	return d;
}

static void add_cgroup(struct arena *a, Ktstr__CgroupDef *d)
{
	a->cgp[a->sc.n_cgroups++] = d;
}

static Ktstr__Step *step(struct arena *a, double frac)
{
	size_t i = a->sc.n_steps++;
	Ktstr__Step *s = &a->step[i];

	ktstr__step__init(s);
	ktstr__hold_spec__init(&a->hold[i]);
	a->hold[i].kind = KTSTR__HOLD_SPEC__KIND__FRAC;
	a->hold[i].has_frac = 1;
	a->hold[i].frac = frac;
	s->hold = &a->hold[i];
	s->ops = &a->opp[a->nop];
	a->stepp[i] = s;
	return s;
}

static Ktstr__Op *op(struct arena *a, Ktstr__Step *s, Ktstr__Op__Kind k, const char *cg)
{
	Ktstr__Op *o = &a->op[a->nop];

	ktstr__op__init(o);
	o->kind = k;
	o->cgroup = (char *)cg;
	a->opp[a->nop++] = o;
	s->n_ops++;
	return o;
}

static uint32_t cpus(const struct arena *a)
{
	return a->p->cpus ? a->p->cpus : 4;
}

static void build_steady(struct arena *a)
{
	add_cgroup(a, cgdef(a, 0, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0));
	add_cgroup(a, cgdef(a, 1, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0));
}

static void build_steady_llc(struct arena *a)
{
	uint32_t n = a->p->llcs ? a->p->llcs : 1;

	if (n > A_CG)
		n = A_CG;
	for (uint32_t i = 0; i < n; i++) {
		Ktstr__CgroupDef *d = cgdef(a, i, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0);

		d->cpuset = cpuset(a, KTSTR__CPUSET_SPEC__KIND__LLC, i, 0);
		add_cgroup(a, d);
	}
}

static void build_oversubscribed(struct arena *a)
{
	/* Twice as many runnable spinners as usable CPUs, split across two
	 * cgroups: fairness under contention. */
	uint32_t per = cpus(a);

	add_cgroup(a, cgdef(a, 0, KTSTR__WORK_TYPE__WORK_CPU_SPIN, per));
	add_cgroup(a, cgdef(a, 1, KTSTR__WORK_TYPE__WORK_CPU_SPIN, per));
}

static void build_cpuset_apply(struct arena *a)
{
	Ktstr__Step *s;

	build_steady(a);
	step(a, 0.5);
	s = step(a, 0.5);
	op(a, s, KTSTR__OP__KIND__SET_CPUSET, "cg_0")->cpuset =
		cpuset(a, KTSTR__CPUSET_SPEC__KIND__DISJOINT, 0, 2);
	op(a, s, KTSTR__OP__KIND__SET_CPUSET, "cg_1")->cpuset =
		cpuset(a, KTSTR__CPUSET_SPEC__KIND__DISJOINT, 1, 2);
}

static void build_cpuset_clear(struct arena *a)
{
	Ktstr__Step *s;

	for (unsigned i = 0; i < 2; i++) {
		Ktstr__CgroupDef *d = cgdef(a, i, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0);

		d->cpuset = cpuset(a, KTSTR__CPUSET_SPEC__KIND__DISJOINT, i, 2);
		add_cgroup(a, d);
	}
	step(a, 0.5);
	s = step(a, 0.5);
	op(a, s, KTSTR__OP__KIND__CLEAR_CPUSET, "cg_0");
	op(a, s, KTSTR__OP__KIND__CLEAR_CPUSET, "cg_1");
}

static void build_cgroup_add(struct arena *a)
{
	Ktstr__Step *s;

	add_cgroup(a, cgdef(a, 0, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0));
	step(a, 0.5);
	s = step(a, 0.5);
	op(a, s, KTSTR__OP__KIND__ADD_CGROUP, NULL)->def =
		cgdef(a, 1, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0);
}

static void build_cgroup_remove(struct arena *a)
{
	Ktstr__Step *s;

	build_steady(a);
	step(a, 0.5);
	s = step(a, 0.5);
	op(a, s, KTSTR__OP__KIND__REMOVE_CGROUP, "cg_1");
}

static void build_affinity_change(struct arena *a)
{
	Ktstr__Step *s;
	Ktstr__AffinitySpec *af;

	add_cgroup(a, cgdef(a, 0, KTSTR__WORK_TYPE__WORK_CPU_SPIN, 0));
	step(a, 0.34);
	s = step(a, 0.33);
	af = &a->aff[a->naff++];
	ktstr__affinity_spec__init(af);
	af->kind = KTSTR__AFFINITY_SPEC__KIND__RANDOM_SUBSET;
	op(a, s, KTSTR__OP__KIND__SET_AFFINITY, "cg_0")->affinity = af;
	s = step(a, 0.33);
	af = &a->aff[a->naff++];
	ktstr__affinity_spec__init(af);
	af->kind = KTSTR__AFFINITY_SPEC__KIND__SINGLE_CPU;
	op(a, s, KTSTR__OP__KIND__SET_AFFINITY, "cg_0")->affinity = af;
}

static void build_mixed(struct arena *a)
{
	static const Ktstr__WorkType types[] = {
		KTSTR__WORK_TYPE__WORK_CPU_SPIN,	 KTSTR__WORK_TYPE__WORK_BURSTY,
		KTSTR__WORK_TYPE__WORK_IO_SYNC,		 KTSTR__WORK_TYPE__WORK_YIELD_HEAVY,
		KTSTR__WORK_TYPE__WORK_FUTEX_PING_PONG, KTSTR__WORK_TYPE__WORK_PIPE_IO,
	};

	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		add_cgroup(a, cgdef(a, i, types[i], 2));
}

struct entry {
	const char *name;
	void (*build)(struct arena *a);
};

static const struct entry entries[] = {
	{ "steady", build_steady },
	{ "steady_llc", build_steady_llc },
	{ "oversubscribed", build_oversubscribed },
	{ "cpuset_apply", build_cpuset_apply },
	{ "cpuset_clear", build_cpuset_clear },
	{ "cgroup_add", build_cgroup_add },
	{ "cgroup_remove", build_cgroup_remove },
	{ "affinity_change", build_affinity_change },
	{ "mixed_workloads", build_mixed },
};

const char *const *catalog_names(size_t *n)
{
	static const char *names[sizeof(entries) / sizeof(entries[0])];

	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		names[i] = entries[i].name;
	*n = sizeof(entries) / sizeof(entries[0]);
	return names;
}

int catalog_expand(const char *name, const struct catalog_params *p, Ktstr__Scenario **out,
		   char *err, size_t errlen)
{
	const struct entry *e = NULL;
	struct arena *a;
	uint8_t *buf;
	size_t len;

	for (size_t i = 0; name && i < sizeof(entries) / sizeof(entries[0]); i++)
		if (!strcmp(entries[i].name, name))
			e = &entries[i];
	if (!e) {
		size_t off = (size_t)snprintf(err, errlen, "unknown canned scenario \"%s\"; known:",
					      name ? name : "");

		for (size_t i = 0; off < errlen && i < sizeof(entries) / sizeof(entries[0]); i++)
			off += (size_t)snprintf(err + off, errlen - off, " %s", entries[i].name);
		return -ENOENT;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->p = p;
	ktstr__scenario__init(&a->sc);
	a->sc.name = (char *)e->name;
	a->sc.cgroups = a->cgp;
	a->sc.steps = a->stepp;
	if (p->duration_ms) {
		a->sc.has_duration_ms = 1;
		a->sc.duration_ms = p->duration_ms;
	}
	e->build(a);
	len = ktstr__scenario__get_packed_size(&a->sc);
	buf = malloc(len ? len : 1);
	if (!buf) {
		free(a);
		return -ENOMEM;
	}
	ktstr__scenario__pack(&a->sc, buf);
	free(a);
	*out = ktstr__scenario__unpack(NULL, len, buf);
	free(buf);
	if (!*out) {
		snprintf(err, errlen, "catalogue scenario \"%s\" failed to round-trip (bug)", name);
		return -ENOMEM;
	}
	return 0;
}
