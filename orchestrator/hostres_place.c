#include "hostres_place.h"

#include <errno.h>
#include <string.h>

/* Per LLC id: how many CPUs a reservation could take there now. */
struct llc_counts {
	uint16_t n[HOSTRES_MAX_CPUS];
};

/* The LLC, among those with 0 < count, whose count is the smallest that is
 * >= n, or failing that the largest; ties to the lowest id. -1 if none. */
static int pick_llc(const struct llc_counts *k, unsigned n)
{
	int fit = -1, big = -1;

	for (unsigned l = 0; l < HOSTRES_MAX_CPUS; l++) {
		if (!k->n[l])
			continue;
		if (k->n[l] >= n && (fit < 0 || k->n[l] < k->n[fit]))
			fit = (int)l;
		if (big < 0 || k->n[l] > k->n[big])
			big = (int)l;
	}
	return fit >= 0 ? fit : big;
}

typedef bool (*cpu_ok_fn)(const struct hostres_topo *t, const struct hostres_view *v,
			  unsigned c);

static bool cap_free(const struct hostres_topo *t, const struct hostres_view *v, unsigned c)
{
	return cpuset_has(&t->usable, c) && !cpuset_has(&v->cpu_held, c) &&
	       !cpuset_has(&v->llc_excl, t->llc_of[c]);
}

static bool usable(const struct hostres_topo *t, const struct hostres_view *v, unsigned c)
{
	(void)v;
	return cpuset_has(&t->usable, c);
}

/* LLC by LLC (pick_llc over k) until n CPUs: from each, the CPUs ok
 * admits, all of them when whole, else no more than n in all. */
static int take_llcs(const struct hostres_topo *t, const struct hostres_view *v,
		     struct llc_counts *k, unsigned n, bool whole, cpu_ok_fn ok,
		     struct cpuset_bits *cpus, struct cpuset_bits *llcs)
{
	unsigned got = 0;

	cpuset_clear_all(cpus);
	cpuset_clear_all(llcs);
	while (got < n) {
		int l = pick_llc(k, n - got);

		if (l < 0)
			return -EBUSY;
		for (unsigned c = 0; c < HOSTRES_MAX_CPUS && (whole || got < n); c++)
			if (t->llc_of[c] == l && ok(t, v, c)) {
				cpuset_add(cpus, c);
				got++;
			}
		cpuset_add(llcs, (unsigned)l);
		k->n[l] = 0;
	}
	return 0;
}

static int place_cap(const struct hostres_topo *t, const struct hostres_view *v, unsigned n,
		     struct cpuset_bits *cpus, struct cpuset_bits *llcs)
{
	struct llc_counts k;

	memset(&k, 0, sizeof(k));
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
		if (cap_free(t, v, c))
			k.n[t->llc_of[c]]++;
	return take_llcs(t, v, &k, n, false, cap_free, cpus, llcs);
}

static int place_whole(const struct hostres_topo *t, const struct hostres_view *v, unsigned n,
		       struct cpuset_bits *cpus, struct cpuset_bits *llcs)
{
	struct llc_counts k;
	struct cpuset_bits taken; /* LLCs some CPU of which someone holds */

	memset(&k, 0, sizeof(k));
	cpuset_clear_all(&taken);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
		if (cpuset_has(&t->online, c) && cpuset_has(&v->cpu_held, c))
			cpuset_add(&taken, t->llc_of[c]);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++) {
		unsigned l = t->llc_of[c];

		if (cpuset_has(&t->usable, c) && !cpuset_has(&taken, l) &&
		    !cpuset_has(&v->llc_shared, l) && !cpuset_has(&v->llc_excl, l))
			k.n[l]++;
	}
	return take_llcs(t, v, &k, n, true, usable, cpus, llcs);
}

typedef int (*place_fn)(const struct hostres_topo *, const struct hostres_view *, unsigned,
			struct cpuset_bits *, struct cpuset_bits *);

/* Place against the view; where that fails, the view of what stays held
 * however long we wait (own, or nothing) tells "wait" (-EBUSY: the host
 * has room once others let go) from "never" (-ENOSPC). */
static int place(place_fn fn, const struct hostres_topo *t, const struct hostres_view *v,
		 const struct hostres_view *own, unsigned n, struct cpuset_bits *cpus,
		 struct cpuset_bits *llcs)
{
	static const struct hostres_view empty;
	struct cpuset_bits c2, l2;

	if (!n || n > HOSTRES_MAX_CPUS)
		return -EINVAL;
	if (!fn(t, v, n, cpus, llcs))
		return 0;
	cpuset_clear_all(cpus);
	cpuset_clear_all(llcs);
	return fn(t, own ? own : &empty, n, &c2, &l2) ? -ENOSPC : -EBUSY;
}

int hostres_place_cap(const struct hostres_topo *t, const struct hostres_view *v, unsigned n,
		      struct cpuset_bits *cpus, struct cpuset_bits *llcs)
{
	return place(place_cap, t, v, NULL, n, cpus, llcs);
}

int hostres_place_whole_llcs(const struct hostres_topo *t, const struct hostres_view *v,
			     const struct hostres_view *own, unsigned n, struct cpuset_bits *cpus,
			     struct cpuset_bits *llcs)
{
	return place(place_whole, t, v, own, n, cpus, llcs);
}
