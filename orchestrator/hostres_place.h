/* Where a reservation goes: pure functions over a host topology and what
 * the lock directory shows now (docs/farms.md, "Placement").
 *
 * Two kinds of reservation share the host:
 *  - --cpu-cap N: N CPUs, each exclusively, in as few LLCs as possible;
 *    their LLCs are held shared, so no performance-mode VM takes them.
 *    Best fit first: the fullest LLC that still has N free CPUs, keeping
 *    whole LLCs free for performance mode and larger caps.
 *  - performance mode: whole LLCs exclusively (LLC lock exclusive and every
 *    online CPU of it), the fewest that hold N usable CPUs; smallest fit. */
#ifndef KTSTR_ORCH_HOSTRES_PLACE_H
#define KTSTR_ORCH_HOSTRES_PLACE_H

#include "hostres_topo.h"

/* What the lock directory shows (hostres_scan.h), held by anyone, this
 * process included. LLC sets are indexed by LLC id. */
struct hostres_view {
	struct cpuset_bits cpu_held;   /* cpu-C.lock held */
	struct cpuset_bits llc_shared; /* llc-L.lock held shared (capped runs) */
	struct cpuset_bits llc_excl;   /* llc-L.lock held exclusively (performance mode) */
};

/* n CPUs for a cap: *cpus the CPUs to lock exclusively, *llcs their LLCs
 * to lock shared. Returns 0, -EBUSY (others hold what is missing: wait),
 * -ENOSPC (this process may never use n CPUs here) or -EINVAL (n 0). */
int hostres_place_cap(const struct hostres_topo *t, const struct hostres_view *v, unsigned n,
		      struct cpuset_bits *cpus, struct cpuset_bits *llcs);
/* Whole LLCs with n usable CPUs between them: *llcs to lock exclusively,
 * *cpus their usable CPUs (the VM's to pin; hostres_topo_llc_cpus gives
 * every online CPU to lock). own: what the caller itself holds for as long
 * as it lives (a capped run's cap: its CPUs and their LLCs shared), also
 * part of v; NULL = nothing. "Never" is judged against own alone, so a
 * reservation only the caller's own cap blocks is -ENOSPC, not a wait for
 * something that is never given back. Returns 0, -EBUSY, -ENOSPC or
 * -EINVAL. */
int hostres_place_whole_llcs(const struct hostres_topo *t, const struct hostres_view *v,
			     const struct hostres_view *own, unsigned n, struct cpuset_bits *cpus,
			     struct cpuset_bits *llcs);

#endif
