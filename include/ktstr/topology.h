/* The VM topology model shared by every process. A topology is
 * (numa_nodes, llcs, cores_per_llc, threads_per_core); CPUs are numbered
 * llc*(cores*threads) + core*threads + thread so SMT siblings are adjacent and
 * each LLC is a contiguous range; LLC l belongs to node l / (llcs/numa_nodes). */
#ifndef KTSTR_TOPOLOGY_H
#define KTSTR_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KTSTR_TOPO_MAX_CPUS 1024u

struct ktstr_topo {
	uint32_t numa_nodes;
	uint32_t llcs;
	uint32_t cores_per_llc;
	uint32_t threads_per_core;
};

struct ktstr_cpu_coords {
	uint32_t node, llc, core, thread;
};

struct ktstr_topo_preset {
	const char *name;
	struct ktstr_topo topo;
	uint32_t memory_mb; /* 0 = default */
	bool arm64;	    /* also valid on aarch64 (no SMT) */
};

/* Parse "N,L,C,T". On error returns -EINVAL and writes a message naming the
 * bad field into err. */
int topo_parse(const char *s, struct ktstr_topo *t, char *err, size_t errlen);
/* All dimensions >= 1, llcs a multiple of numa_nodes, cpus <= max. */
int topo_validate(const struct ktstr_topo *t, char *err, size_t errlen);
uint32_t topo_cpus(const struct ktstr_topo *t);
uint32_t topo_cpus_per_llc(const struct ktstr_topo *t);
void topo_cpu_coords(const struct ktstr_topo *t, uint32_t cpu, struct ktstr_cpu_coords *c);
uint32_t topo_llc_node(const struct ktstr_topo *t, uint32_t llc);
/* The distance between NUMA nodes a and b every engine and architecture
 * gives the guest (x86 SLIT and HMAT, QEMU -numa dist, the arm64
 * /distance-map): 10 local, 20 remote. */
uint8_t topo_node_distance(uint32_t a, uint32_t b);
/* "1n2l4c1t"; returns snprintf's result. */
int topo_label(const struct ktstr_topo *t, char *buf, size_t len);
/* The x86_64 topology presets, in table order
 * (docs/reference.md, "Topology presets"). */
const struct ktstr_topo_preset *topo_presets(size_t *n);
const struct ktstr_topo_preset *topo_preset_find(const char *name);

#endif
