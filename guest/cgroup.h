/* cgroup v2 operations for scenarios: a parent (default /sys/fs/cgroup/ktstr)
 * holding one child per CgroupDef. */
#ifndef KTSTR_GUEST_CGROUP_H
#define KTSTR_GUEST_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "ktstr/cpulist.h"

/* mkdir -p root+rel and enable +cpuset (+cpu when available) in the
 * subtree_control of every ancestor from root down to it, so its children
 * can have cpusets. Returns 0 or -errno with a message. */
int cg_setup_parent(const char *root, const char *rel, char *err, size_t errlen);
int cg_create(const char *path, char *err, size_t errlen);
/* Write cpuset.cpus; NULL clears it (inherit the parent's). */
int cg_set_cpus(const char *path, const struct cpuset_bits *cpus, char *err, size_t errlen);
int cg_effective_cpus(const char *path, struct cpuset_bits *out);
/* Write pid to cgroup.procs. A pid that already exited (ESRCH) is success;
 * EBUSY is retried 3x100 ms. */
int cg_move_pid(const char *path, pid_t pid, char *err, size_t errlen);
/* Move every pid of from/cgroup.procs into to. */
int cg_move_all(const char *from, const char *to, char *err, size_t errlen);
/* rmdir, retrying EBUSY 3x100 ms (tasks still exiting). */
int cg_remove(const char *path, char *err, size_t errlen);

#endif
