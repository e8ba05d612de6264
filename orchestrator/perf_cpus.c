#include "perf_cpus.h"

#include <errno.h>

int perf_cpus_pick(const cpu_set_t *usable, cpu_set_t *busy, unsigned need, uint32_t *out)
{
	unsigned have = 0, total = 0;

	if (!need)
		return -EINVAL;
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		total += CPU_ISSET(c, usable) ? 1 : 0;
	if (total < need)
		return -ENOSPC;
	for (unsigned c = 0; c < CPU_SETSIZE && have < need; c++)
		if (CPU_ISSET(c, usable) && !CPU_ISSET(c, busy))
			out[have++] = c;
	if (have < need)
		return -EBUSY;
	for (unsigned i = 0; i < need; i++)
		CPU_SET(out[i], busy);
	return 0;
}

void perf_cpus_release(cpu_set_t *busy, const uint32_t *cpus, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (cpus[i] < CPU_SETSIZE)
			CPU_CLR(cpus[i], busy);
}
