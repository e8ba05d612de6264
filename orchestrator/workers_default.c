/* The default number of concurrent VMs (workers_default.h). */
#include <sched.h>
#include <stdio.h>

#include <ktstr/topology.h>

#include "hostres_mem.h"
#include "spec_build.h"
#include "workers_default.h"

void workers_host_probe(struct workers_host *h)
{
	struct hostres_meminfo mi;
	cpu_set_t set;

	h->usable_cpus = 1;
	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		h->usable_cpus = (uint32_t)CPU_COUNT(&set);
	h->avail_mib = hostres_meminfo_read("/proc/meminfo", &mi) ? 0 : mi.avail_mib;
}

unsigned workers_default(const struct suite *s, const struct plan *p, const struct workers_host *h,
			 char *why, size_t whylen)
{
	uint32_t vcpus = 0, mem = 0, kept = 0;
	uint64_t by_cpu, by_mem = WORKERS_MAX, n;
	int at;

	for (size_t i = 0; i < p->n; i++) {
		const struct variant *v = &p->v[i];
		uint32_t c, m;

		if (v->state != VAR_KEPT)
			continue;
		kept++;
		c = topo_cpus(&v->topo);
		m = spec_memory_mb(&s->tests[v->test], &v->topo);
		vcpus = c > vcpus ? c : vcpus;
		mem = m > mem ? m : mem;
	}
	if (!kept) {
		snprintf(why, whylen, "no test to run");
		return 1;
	}
	by_cpu = h->usable_cpus / (vcpus ? vcpus : 1);
	at = snprintf(why, whylen, "%u usable CPUs / %u vCPUs of the largest VM = %llu",
		      h->usable_cpus, vcpus, (unsigned long long)by_cpu);
	if (h->avail_mib && mem) {
		uint64_t room = h->avail_mib > HOSTRES_MEM_MARGIN_MIB
					? h->avail_mib - HOSTRES_MEM_MARGIN_MIB
					: 0;

		by_mem = room / mem;
		if (at >= 0 && (size_t)at < whylen)
			at += snprintf(why + at, whylen - (size_t)at,
				       "; memory for %llu VMs of %u MiB", (unsigned long long)by_mem,
				       mem);
	}
	n = by_cpu < by_mem ? by_cpu : by_mem;
	if (n > kept)
		n = kept;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	if (at >= 0 && (size_t)at < whylen)
		snprintf(why + at, whylen - (size_t)at, "; %u tests kept%s", kept,
			 n ? "" : "; at least 1");
	return n ? (unsigned)n : 1;
}
