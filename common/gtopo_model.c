/* The topology model as the cpusets a VM shows (ktstr/gtopo.h): shared by
 * the guest, which compares it with sysfs, and ktstr-orch, which resolves a
 * suite's cpusets against it before any VM boots. */
#include <string.h>

#include "ktstr/gtopo.h"
#include "ktstr/topology.h"

static unsigned highest_cpu(const struct cpuset_bits *s)
{
	for (unsigned c = CPUSET_WORDS * 64; c-- > 0;)
		if (cpuset_has(s, c))
			return c;
	return 0;
}

void gtopo_finish(struct gtopo *t)
{
	t->usable = t->online;
	if (cpuset_count(&t->online) > 2) {
		unsigned last = highest_cpu(&t->online);

		t->usable.w[last / 64] &= ~(1ull << (last % 64));
	}
}

void gtopo_from_model(const struct ktstr_topo *m, struct gtopo *t)
{
	uint32_t per = topo_cpus_per_llc(m), n = topo_cpus(m);
	uint32_t tpc = m->threads_per_core;

	memset(t, 0, sizeof(*t));
	for (uint32_t c = 0; c < n && c < KTSTR_TOPO_MAX_CPUS; c++) {
		uint32_t llc = c / per, node = topo_llc_node(m, llc), core = c / tpc;

		cpuset_add(&t->online, c);
		if (llc < GTOPO_MAX_LLCS)
			cpuset_add(&t->llc[llc], c);
		if (node < GTOPO_MAX_NODES)
			cpuset_add(&t->node[node], c);
		if (core < GTOPO_MAX_CORES)
			cpuset_add(&t->core[core], c);
	}
	t->nllc = m->llcs < GTOPO_MAX_LLCS ? m->llcs : GTOPO_MAX_LLCS;
	t->nnode = m->numa_nodes < GTOPO_MAX_NODES ? m->numa_nodes : GTOPO_MAX_NODES;
	t->ncore = n / tpc < GTOPO_MAX_CORES ? n / tpc : GTOPO_MAX_CORES;
	t->cores_seen = t->llcs_seen = t->nodes_seen = true;
	gtopo_finish(t);
}
