/* Topology-relative cpusets. Fractions and partitions are computed over the
 * usable CPUs in ascending order so the same spec gives comparable sets on
 * every topology, and a spec that would come out empty is an error rather
 * than a silently unrestricted cgroup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ktstr/cpuspec.h"

/* Ascending list of the CPUs in s; returns the count. */
static unsigned cpus_of(const struct cpuset_bits *s, unsigned *v, unsigned max)
{
	unsigned n = 0;

	for (unsigned c = 0; c < CPUSET_WORDS * 64 && n < max; c++)
		if (cpuset_has(s, c))
			v[n++] = c;
	return n;
}

/* floor/ceil for non-negative values without libm (the guest links
 * statically with a minimal library set). */
static unsigned ufloor(double x)
{
	return (unsigned)x;
}

static unsigned uceil(double x)
{
	unsigned f = (unsigned)x;

	return (double)f < x ? f + 1 : f;
}

static void take_range(const unsigned *v, unsigned lo, unsigned hi, struct cpuset_bits *out)
{
	cpuset_clear_all(out);
	for (unsigned i = lo; i < hi; i++)
		cpuset_add(out, v[i]);
}

static void intersect(struct cpuset_bits *a, const struct cpuset_bits *b)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		a->w[i] &= b->w[i];
}

void cpuspec_describe(const Ktstr__CpusetSpec *s, char *buf, size_t len)
{
	if (!s) {
		snprintf(buf, len, "none");
		return;
	}
	switch (s->kind) {
	case KTSTR__CPUSET_SPEC__KIND__LLC:
		snprintf(buf, len, "llc %u", s->index);
		break;
	case KTSTR__CPUSET_SPEC__KIND__NUMA:
		snprintf(buf, len, "numa %u", s->index);
		break;
	case KTSTR__CPUSET_SPEC__KIND__RANGE:
		snprintf(buf, len, "range %.3g-%.3g", s->start_frac, s->end_frac);
		break;
	case KTSTR__CPUSET_SPEC__KIND__DISJOINT:
		snprintf(buf, len, "disjoint %u/%u", s->index, s->of);
		break;
	case KTSTR__CPUSET_SPEC__KIND__OVERLAP:
		snprintf(buf, len, "overlap %u/%u by %.3g", s->index, s->of, s->frac);
		break;
	case KTSTR__CPUSET_SPEC__KIND__EXACT:
		snprintf(buf, len, "exact %s", s->cpus ? s->cpus : "");
		break;
	default:
		snprintf(buf, len, "none");
	}
}

int cpuspec_check(const Ktstr__CpusetSpec *s, char *err, size_t errlen)
{
	struct cpuset_bits tmp;
	char what[96];

	if (!s)
		return 0;
	cpuspec_describe(s, what, sizeof(what));
	switch (s->kind) {
	case KTSTR__CPUSET_SPEC__KIND__NONE:
	case KTSTR__CPUSET_SPEC__KIND__LLC:
	case KTSTR__CPUSET_SPEC__KIND__NUMA:
		return 0;
	case KTSTR__CPUSET_SPEC__KIND__RANGE:
		if (!(s->start_frac >= 0.0 && s->start_frac < s->end_frac && s->end_frac <= 1.0)) {
			snprintf(err, errlen, "cpuset %s: need 0 <= start_frac < end_frac <= 1",
				 what);
			return -EINVAL;
		}
		return 0;
	case KTSTR__CPUSET_SPEC__KIND__DISJOINT:
	case KTSTR__CPUSET_SPEC__KIND__OVERLAP:
		if (!s->of || s->index >= s->of) {
			snprintf(err, errlen, "cpuset %s: need index < of and of >= 1", what);
			return -EINVAL;
		}
		if (s->kind == KTSTR__CPUSET_SPEC__KIND__OVERLAP &&
		    !(s->frac >= 0.0 && s->frac <= 1.0)) {
			snprintf(err, errlen, "cpuset %s: need 0 <= frac <= 1", what);
			return -EINVAL;
		}
		return 0;
	case KTSTR__CPUSET_SPEC__KIND__EXACT:
		if (!s->cpus || cpulist_parse(s->cpus, &tmp) || !cpuset_count(&tmp)) {
			snprintf(err, errlen, "cpuset %s: not a non-empty CPU list like \"0-3,6\"",
				 what);
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(err, errlen, "cpuset kind %d unknown", (int)s->kind);
		return -EINVAL;
	}
}

/* The -ERANGE messages say "the VM": the guest resolves against the VM it
 * runs in, ktstr-orch against the VM a variant will boot (and names its
 * topology in front of the message). */
int cpuspec_resolve(const struct gtopo *t, const Ktstr__CpusetSpec *s, struct cpuset_bits *out,
		    char *err, size_t errlen)
{
	unsigned v[CPUSET_WORDS * 64];
	unsigned n = cpus_of(&t->usable, v, CPUSET_WORDS * 64);
	char what[96];
	int ret = cpuspec_check(s, err, errlen);

	if (ret)
		return ret;
	if (!s || s->kind == KTSTR__CPUSET_SPEC__KIND__NONE) {
		*out = t->usable;
		return 0;
	}
	cpuspec_describe(s, what, sizeof(what));
	switch (s->kind) {
	case KTSTR__CPUSET_SPEC__KIND__LLC:
		if (s->index >= t->nllc) {
			snprintf(err, errlen,
				 "cpuset %s: the VM has %u LLC(s), 0-%u; use an LLC below %u, or a "
				 "topology with more LLCs",
				 what, t->nllc, t->nllc - 1, t->nllc);
			return -ERANGE;
		}
		*out = t->llc[s->index];
		intersect(out, &t->usable);
		break;
	case KTSTR__CPUSET_SPEC__KIND__NUMA:
		if (s->index >= t->nnode || !cpuset_count(&t->node[s->index])) {
			snprintf(err, errlen,
				 "cpuset %s: the VM has no CPUs on node %u (%u node(s)); use a node "
				 "that has CPUs, or a topology with more nodes",
				 what, s->index, t->nnode);
			return -ERANGE;
		}
		*out = t->node[s->index];
		intersect(out, &t->usable);
		break;
	case KTSTR__CPUSET_SPEC__KIND__RANGE: {
		unsigned lo = ufloor(s->start_frac * n), hi = ufloor(s->end_frac * n);

		if (hi > n)
			hi = n;
		if (hi <= lo)
			hi = lo + 1 <= n ? lo + 1 : n;
		if (lo >= n) {
			snprintf(err, errlen, "cpuset %s: empty on the VM's %u usable CPUs; start "
				 "lower, or use a larger topology", what, n);
			return -ERANGE;
		}
		take_range(v, lo, hi, out);
		break;
	}
	case KTSTR__CPUSET_SPEC__KIND__DISJOINT:
	case KTSTR__CPUSET_SPEC__KIND__OVERLAP: {
		unsigned lo, hi, part, widen = 0;

		if (s->of > n) {
			snprintf(err, errlen,
				 "cpuset %s: %u parts do not fit the VM's %u usable CPUs; use at "
				 "most %u parts, or a larger topology",
				 what, s->of, n, n);
			return -ERANGE;
		}
		lo = (unsigned)((unsigned long)s->index * n / s->of);
		hi = (unsigned)((unsigned long)(s->index + 1) * n / s->of);
		part = hi - lo;
		if (s->kind == KTSTR__CPUSET_SPEC__KIND__OVERLAP)
			widen = uceil(s->frac * part);
		lo = lo >= widen ? lo - widen : 0;
		hi = hi + widen <= n ? hi + widen : n;
		take_range(v, lo, hi, out);
		break;
	}
	case KTSTR__CPUSET_SPEC__KIND__EXACT:
		cpulist_parse(s->cpus, out); /* cpuspec_check has parsed it */
		if (!cpuset_subset(out, &t->online)) {
			char on[256];

			cpulist_format(&t->online, on, sizeof(on));
			snprintf(err, errlen,
				 "cpuset %s: CPUs outside the VM's online CPUs %s; list only "
				 "those, or use a larger topology",
				 what, on);
			return -ERANGE;
		}
		return 0;
	default:
		return -EINVAL; /* cpuspec_check refused it */
	}
	if (!cpuset_count(out)) {
		snprintf(err, errlen,
			 "cpuset %s: no usable CPUs (above 2 CPUs the VM's last CPU is kept free "
			 "for the scheduler and housekeeping); pick other CPUs, or a larger topology",
			 what);
		return -ERANGE;
	}
	return 0;
}

static unsigned long xorshift(unsigned long *s)
{
	unsigned long x = *s ? *s : 0x9E3779B97F4A7C15ul;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

int affinity_check(const Ktstr__AffinitySpec *spec, char *err, size_t errlen)
{
	struct cpuset_bits tmp;

	if (!spec)
		return 0;
	switch (spec->kind) {
	case KTSTR__AFFINITY_SPEC__KIND__INHERIT:
	case KTSTR__AFFINITY_SPEC__KIND__CROSS_CGROUP:
	case KTSTR__AFFINITY_SPEC__KIND__SINGLE_CPU:
	case KTSTR__AFFINITY_SPEC__KIND__LLC_ALIGNED:
	case KTSTR__AFFINITY_SPEC__KIND__RANDOM_SUBSET:
		return 0;
	case KTSTR__AFFINITY_SPEC__KIND__EXACT:
		if (!spec->cpus || cpulist_parse(spec->cpus, &tmp) || !cpuset_count(&tmp)) {
			snprintf(err, errlen,
				 "affinity exact \"%s\": not a non-empty CPU list like \"0-3,6\"",
				 spec->cpus ? spec->cpus : "");
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(err, errlen, "affinity kind %d unknown", (int)spec->kind);
		return -EINVAL;
	}
}

int affinity_resolve(const struct gtopo *t, const Ktstr__AffinitySpec *spec,
		     const struct cpuset_bits *allowed, unsigned idx, unsigned long seed,
		     struct cpuset_bits *out, char *err, size_t errlen)
{
	unsigned v[CPUSET_WORDS * 64];
	unsigned n = cpus_of(allowed, v, CPUSET_WORDS * 64);
	int ret = affinity_check(spec, err, errlen);

	if (ret)
		return ret;
	if (!n) {
		snprintf(err, errlen, "affinity: the cgroup allows no CPUs");
		return -EINVAL;
	}
	if (!spec) {
		*out = *allowed;
		return 0;
	}
	switch (spec->kind) {
	case KTSTR__AFFINITY_SPEC__KIND__INHERIT:
		*out = *allowed;
		return 0;
	case KTSTR__AFFINITY_SPEC__KIND__CROSS_CGROUP:
		/* Every usable CPU: the cpuset still bounds what the kernel
		 * grants, which is exactly what this kind probes. */
		*out = t->usable;
		return 0;
	case KTSTR__AFFINITY_SPEC__KIND__SINGLE_CPU:
		cpuset_clear_all(out);
		cpuset_add(out, v[idx % n]);
		return 0;
	case KTSTR__AFFINITY_SPEC__KIND__LLC_ALIGNED:
		for (unsigned i = 0; i < t->nllc; i++) {
			unsigned l = (idx + i) % t->nllc;

			*out = t->llc[l];
			intersect(out, allowed);
			if (cpuset_count(out))
				return 0;
		}
		*out = *allowed;
		return 0;
	case KTSTR__AFFINITY_SPEC__KIND__RANDOM_SUBSET: {
		unsigned want = spec->count ? spec->count : (n + 1) / 2;
		unsigned long st = seed * 2654435761ul + idx + 1;

		if (want > n)
			want = n;
		/* Partial Fisher-Yates over the allowed list. */
		for (unsigned i = 0; i < want; i++) {
			unsigned j = i + (unsigned)(xorshift(&st) % (n - i)), tmp = v[i];

			v[i] = v[j];
			v[j] = tmp;
		}
		take_range(v, 0, want, out);
		return 0;
	}
	case KTSTR__AFFINITY_SPEC__KIND__EXACT:
		cpulist_parse(spec->cpus, out); /* affinity_check has parsed it */
		return 0;
	default:
		return -EINVAL; /* affinity_check refused it */
	}
}
