/* The guest's real CPU topology, read from sysfs: online CPUs, cores (SMT
 * sibling groups, topology/thread_siblings_list), LLC groups
 * (cache/index3/shared_cpu_list), NUMA nodes, and the usable CPU set that
 * topology-relative cpusets are computed over. */
#ifndef KTSTR_GUEST_GTOPO_H
#define KTSTR_GUEST_GTOPO_H

#include "ktstr/gtopo.h"

/* Read the topology below sysfs_root ("/sys" in the guest; a fake tree in
 * tests). A CPU without cache/index3 falls back to one LLC spanning every
 * online CPU; a kernel without NUMA sysfs gives one node 0 = online.
 * Returns 0 or -errno with a message in err. */
int gtopo_read(const char *sysfs_root, struct gtopo *t, char *err, size_t errlen);

#endif
