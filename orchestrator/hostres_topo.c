#include "hostres_topo.h"

#include <stdio.h>
#include <string.h>

#include "hostcaps.h"

/* LLC id of cpu: the lowest CPU in its LLC's sharing list. -1 when sysfs
 * shows no LLC for it (no cache, or only up to L2 where the LLC is an L3). */
static int llc_id(const char *root, unsigned cpu, int *level)
{
	struct cpuset_bits sh;

	cpuset_clear_all(&sh);
	*level = hostcaps_cpu_llc(root, cpu, &sh);
	if (*level < HOSTCAPS_LLC_MIN_LEVEL)
		return -1;
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
		if (cpuset_has(&sh, c))
			return (int)c;
	return -1;
}

void hostres_topo_probe_at(const char *root, const cpu_set_t *affinity, struct hostres_topo *t)
{
	cpu_set_t mine;

	memset(t, 0, sizeof(*t));
	hostcaps_online_at(root, &t->online);
	if (!affinity) {
		/* Unreadable affinity: every online CPU (sched_setaffinity of
		 * a worker then says which are not ours). */
		if (sched_getaffinity(0, sizeof(mine), &mine))
			CPU_ZERO(&mine);
		affinity = &mine;
	}
	t->llc_known = true;
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++) {
		int level, id;

		if (!cpuset_has(&t->online, c))
			continue;
		if (c < CPU_SETSIZE && (CPU_ISSET(c, affinity) || !CPU_COUNT(affinity)))
			cpuset_add(&t->usable, c);
		if (!t->llc_known)
			continue;
		id = llc_id(root, c, &level);
		if (id < 0) {
			t->llc_known = false;
			if (level)
				snprintf(t->llc_note, sizeof(t->llc_note),
					 "sysfs shows caches only up to L%d for cpu%u", level, c);
			else
				snprintf(t->llc_note, sizeof(t->llc_note),
					 "no cache topology in sysfs for cpu%u", c);
			continue;
		}
		t->llc_of[c] = (uint16_t)id;
	}
	if (!t->llc_known)
		for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
			t->llc_of[c] = (uint16_t)c;
}

void hostres_topo_llc_cpus(const struct hostres_topo *t, const struct cpuset_bits *llcs,
			   struct cpuset_bits *out)
{
	cpuset_clear_all(out);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
		if (cpuset_has(&t->online, c) && cpuset_has(llcs, t->llc_of[c]))
			cpuset_add(out, c);
}

void hostres_topo_uniform(struct hostres_topo *t, unsigned ncpus, unsigned per_llc)
{
	memset(t, 0, sizeof(*t));
	t->llc_known = per_llc != 0;
	for (unsigned c = 0; c < ncpus && c < HOSTRES_MAX_CPUS; c++) {
		cpuset_add(&t->online, c);
		cpuset_add(&t->usable, c);
		t->llc_of[c] = (uint16_t)(per_llc ? c - c % per_llc : c);
	}
	if (!per_llc)
		snprintf(t->llc_note, sizeof(t->llc_note), "layout not given");
}
