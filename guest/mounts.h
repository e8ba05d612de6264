/* Pseudo filesystems PID 1 needs, in dependency order. */
#ifndef KTSTR_GUEST_MOUNTS_H
#define KTSTR_GUEST_MOUNTS_H

/* devtmpfs on /dev first, so COM2 can be opened as early as possible. */
int mounts_dev(void);
/* Everything else: proc, sys, debugfs, tracefs, bpf, cgroup2, tmpfs /tmp,
 * /dev/shm, /run. Failures of the essential ones (proc, sys, cgroup2, /tmp)
 * are logged; the caller decides whether the test can still run. Returns
 * 0 or the first essential failure (-errno). */
int mounts_rest(void);

#endif
