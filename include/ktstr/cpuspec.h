/* CpusetSpec / AffinitySpec resolution against a topology (ktstr/gtopo.h):
 * the guest resolves against the topology sysfs shows, ktstr-orch against
 * the topology model of each variant, before any VM boots, so the two can
 * never disagree on what a cpuset means or why it does not fit. */
#ifndef KTSTR_CPUSPEC_H
#define KTSTR_CPUSPEC_H

#include <stddef.h>

#include "ktstr/gtopo.h"
#include "guest.pb-c.h"

/* Resolve spec into out. Semantics (docs/guest.md):
 *   LLC i / NUMA i : that group's CPUs intersected with usable
 *   RANGE          : usable CPUs in ascending order, indices
 *                    [floor(start*n), floor(end*n)), at least one CPU
 *   DISJOINT i/of  : [i*n/of, (i+1)*n/of)
 *   OVERLAP i/of f : DISJOINT widened by ceil(f*part) CPUs on each side
 *   EXACT          : the literal list, which must lie within online CPUs
 *   NONE           : all usable CPUs (no restriction)
 * Returns 0; -EINVAL when the spec is wrong on any topology (the checks of
 * cpuspec_check); -ERANGE when it does not fit this one. The message names
 * the spec, what is wrong and what to change. */
int cpuspec_resolve(const struct gtopo *t, const Ktstr__CpusetSpec *spec,
		    struct cpuset_bits *out, char *err, size_t errlen);
/* What needs no topology: fractions in range, index < of, a CPU list that
 * parses. 0 or -EINVAL with a message. */
int cpuspec_check(const Ktstr__CpusetSpec *spec, char *err, size_t errlen);

/* Resolve an AffinitySpec for worker number `idx` whose cgroup allows
 * `allowed`. INHERIT gives allowed. RANDOM_SUBSET draws with `seed`.
 * Returns 0 or -EINVAL with a message. */
int affinity_resolve(const struct gtopo *t, const Ktstr__AffinitySpec *spec,
		     const struct cpuset_bits *allowed, unsigned idx, unsigned long seed,
		     struct cpuset_bits *out, char *err, size_t errlen);
/* What affinity_resolve refuses on any topology: 0 or -EINVAL. */
int affinity_check(const Ktstr__AffinitySpec *spec, char *err, size_t errlen);

/* Describe a spec for messages ("llc 1", "disjoint 0/2"). */
void cpuspec_describe(const Ktstr__CpusetSpec *spec, char *buf, size_t len);

#endif
