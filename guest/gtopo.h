/* The guest's real CPU topology, read from sysfs: online CPUs, LLC groups
 * (cache/index3/shared_cpu_list), NUMA nodes, and the usable CPU set that
 * topology-relative cpusets are computed over. */
#ifndef KTSTR_GUEST_GTOPO_H
#define KTSTR_GUEST_GTOPO_H

#include <stddef.h>

#include "ktstr/cpulist.h"

#define GTOPO_MAX_LLCS 64
#define GTOPO_MAX_NODES 64

struct gtopo {
	struct cpuset_bits online;
	/* online minus the highest online CPU when more than 2 are online: that
	 * CPU stays free for the scheduler's own threads and the guest's
	 * housekeeping (reference semantics, facts §1 "CpusetSpec"). */
	struct cpuset_bits usable;
	unsigned nllc;
	struct cpuset_bits llc[GTOPO_MAX_LLCS]; /* ordered by lowest CPU */
	unsigned nnode;				 /* highest node id + 1 */
	struct cpuset_bits node[GTOPO_MAX_NODES]; /* by node id; may be empty */
};

/* Read the topology below sysfs_root ("/sys" in the guest; a fake tree in
 * tests). A CPU without cache/index3 falls back to one LLC spanning every
 * online CPU; a kernel without NUMA sysfs gives one node 0 = online.
 * Returns 0 or -errno with a message in err. */
int gtopo_read(const char *sysfs_root, struct gtopo *t, char *err, size_t errlen);

/* Fill usable from online (the reservation rule above). */
void gtopo_finish(struct gtopo *t);

/* Build a synthetic topology from the shared model (CPU numbering of
 * topology.h), for tests and for the host side of the catalogue. */
struct ktstr_topo;
void gtopo_from_model(const struct ktstr_topo *m, struct gtopo *t);

#endif
