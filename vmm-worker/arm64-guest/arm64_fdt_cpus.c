/* /cpus of the arm64 device tree: where the topology model becomes what the
 * guest kernel reads. Linux's arm64 topology code (drivers/base/
 * arch_topology.c, parse_dt_topology) takes packages, clusters, cores and
 * threads from cpu-map; its cacheinfo takes cache sharing from the chain of
 * next-level-cache phandles (two CPUs share a cache level when their chains
 * reach the same node). So:
 *
 *   cpu-map/socket<node>/cluster<llc in node>/core<c>[/thread<t>]
 *     package = NUMA node, cluster = LLC, core, thread (SMT siblings)
 *   cpu@N -> l2-cache-<core> -> l3-cache-<llc>
 *     L1 is the CPU's own (the cpu node itself, per the binding); L2 is per
 *     core, shared by its threads; L3 per LLC: index3/shared_cpu_list in
 *     the guest is the LLC.
 *
 * A socket per NUMA node keeps every package inside one node, which the
 * scheduler's domain builder expects. */
#include <stdio.h>

#include <libfdt.h>

#include "arm64_fdt_priv.h"
#include "arm64_layout.h"

uint32_t arm64_phandle_cpu(const struct ktstr_topo *t, uint32_t cpu)
{
	(void)t;
	return 3 + cpu;
}

uint32_t arm64_phandle_l2(const struct ktstr_topo *t, uint32_t core_global)
{
	return 3 + topo_cpus(t) + core_global;
}

uint32_t arm64_phandle_l3(const struct ktstr_topo *t, uint32_t llc)
{
	return 3 + topo_cpus(t) + t->llcs * t->cores_per_llc + llc;
}

static int cache_node(void *fdt, const char *name, uint32_t level, uint32_t bytes,
		      uint32_t phandle, uint32_t next)
{
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "cache"));
	TRY(fdt_property(fdt, "cache-unified", NULL, 0));
	TRY(fdt_property_u32(fdt, "cache-level", level));
	TRY(fdt_property_u32(fdt, "cache-size", bytes));
	TRY(fdt_property_u32(fdt, "cache-line-size", ARM64_CACHE_LINE));
	TRY(fdt_property_u32(fdt, "cache-sets", bytes / (ARM64_CACHE_LINE * ARM64_CACHE_WAYS)));
	if (next)
		TRY(fdt_property_u32(fdt, "next-level-cache", next));
	TRY(fdt_property_u32(fdt, "phandle", phandle));
	return fdt_end_node(fdt);
}

static int cpu_node(void *fdt, const struct ktstr_topo *t, uint32_t cpu)
{
	struct ktstr_cpu_coords c;
	char name[32];
	uint64_t mpidr = arm64_mpidr(cpu);

	topo_cpu_coords(t, cpu, &c);
	snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)mpidr);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "device_type", "cpu"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8"));
	/* #address-cells = 1 under /cpus: Aff3 is always 0 here. */
	TRY(fdt_property_u32(fdt, "reg", (uint32_t)mpidr));
	TRY(fdt_property_string(fdt, "enable-method", "psci"));
	TRY(fdt_property_u32(fdt, "numa-node-id", c.node));
	TRY(fdt_property_u32(fdt, "next-level-cache",
			     arm64_phandle_l2(t, c.llc * t->cores_per_llc + c.core)));
	TRY(fdt_property_u32(fdt, "phandle", arm64_phandle_cpu(t, cpu)));
	return fdt_end_node(fdt);
}

static int cpu_map_core(void *fdt, const struct ktstr_topo *t, uint32_t llc, uint32_t core)
{
	uint32_t first = llc * topo_cpus_per_llc(t) + core * t->threads_per_core;
	char name[32];

	snprintf(name, sizeof(name), "core%u", core);
	TRY(fdt_begin_node(fdt, name));
	if (t->threads_per_core == 1) {
		TRY(fdt_property_u32(fdt, "cpu", arm64_phandle_cpu(t, first)));
	} else {
		for (uint32_t th = 0; th < t->threads_per_core; th++) {
			snprintf(name, sizeof(name), "thread%u", th);
			TRY(fdt_begin_node(fdt, name));
			TRY(fdt_property_u32(fdt, "cpu", arm64_phandle_cpu(t, first + th)));
			TRY(fdt_end_node(fdt));
		}
	}
	return fdt_end_node(fdt);
}

static int cpu_map(void *fdt, const struct ktstr_topo *t)
{
	uint32_t llcs_per_node = t->llcs / t->numa_nodes;
	char name[32];

	TRY(fdt_begin_node(fdt, "cpu-map"));
	for (uint32_t n = 0; n < t->numa_nodes; n++) {
		snprintf(name, sizeof(name), "socket%u", n);
		TRY(fdt_begin_node(fdt, name));
		for (uint32_t i = 0; i < llcs_per_node; i++) {
			uint32_t llc = n * llcs_per_node + i;

			snprintf(name, sizeof(name), "cluster%u", i);
			TRY(fdt_begin_node(fdt, name));
			for (uint32_t core = 0; core < t->cores_per_llc; core++)
				TRY(cpu_map_core(fdt, t, llc, core));
			TRY(fdt_end_node(fdt));
		}
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

int arm64_fdt_cpus(void *fdt, const struct ktstr_topo *t)
{
	uint32_t cpus = topo_cpus(t), cores = t->llcs * t->cores_per_llc;
	char name[32];

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (uint32_t cpu = 0; cpu < cpus; cpu++)
		TRY(cpu_node(fdt, t, cpu));
	for (uint32_t g = 0; g < cores; g++) {
		snprintf(name, sizeof(name), "l2-cache%u", g);
		TRY(cache_node(fdt, name, 2, ARM64_L2_BYTES, arm64_phandle_l2(t, g),
			       arm64_phandle_l3(t, g / t->cores_per_llc)));
	}
	for (uint32_t l = 0; l < t->llcs; l++) {
		snprintf(name, sizeof(name), "l3-cache%u", l);
		TRY(cache_node(fdt, name, 3, ARM64_L3_BYTES_PER_CORE * t->cores_per_llc,
			       arm64_phandle_l3(t, l), 0));
	}
	TRY(cpu_map(fdt, t));
	return fdt_end_node(fdt);
}
