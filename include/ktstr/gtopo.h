/* A VM's CPU topology as cpusets: online CPUs, cores (SMT sibling groups),
 * LLC groups, NUMA nodes, and the usable CPU set that topology-relative
 * cpusets are computed over. The guest reads it from sysfs (guest/gtopo.c);
 * ktstr-orch builds it from the topology model (gtopo_from_model) to check
 * a suite's cpusets before any VM boots, with the same resolver the guest
 * runs (ktstr/cpuspec.h). */
#ifndef KTSTR_GTOPO_H
#define KTSTR_GTOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "ktstr/cpulist.h"

#define GTOPO_MAX_LLCS 64
#define GTOPO_MAX_NODES 64
#define GTOPO_MAX_CORES (CPUSET_WORDS * 64) /* one per CPU at most: never truncated */

struct gtopo {
	struct cpuset_bits online;
	/* online minus the highest online CPU when more than 2 are online: that
	 * CPU stays free for the scheduler's own threads and the guest's
	 * housekeeping (docs/reference.md, "CpusetSpec semantics"). */
	struct cpuset_bits usable;
	unsigned nllc;
	struct cpuset_bits llc[GTOPO_MAX_LLCS]; /* ordered by lowest CPU */
	unsigned nnode;				 /* highest node id + 1 */
	struct cpuset_bits node[GTOPO_MAX_NODES]; /* by node id; may be empty */
	unsigned ncore;
	struct cpuset_bits core[GTOPO_MAX_CORES]; /* ordered by lowest CPU */
	/* Which layouts sysfs really showed, for every online CPU. The others
	 * are fallbacks (one LLC, one node, no cores) that keep cpusets
	 * working but say nothing about the VM, so gtopo_check skips them. */
	bool cores_seen, llcs_seen, nodes_seen;
};

/* Fill usable from online (the reservation rule above). */
void gtopo_finish(struct gtopo *t);

/* Build the topology the shared model describes (CPU numbering of
 * topology.h), every layout marked seen: what the guest must see
 * (gtopo_check), what ktstr-orch checks cpusets against, and synthetic
 * topologies for tests. */
struct ktstr_topo;
void gtopo_from_model(const struct ktstr_topo *m, struct gtopo *t);

#endif
