/* Memory admission (docs/farms.md, "Memory"): a VM starts only when its
 * guest RAM fits in what the host can still give.
 *
 *   room = MemAvailable - margin - RAM declared by every running VM of
 *          every holder (this run's included)
 *
 * MemAvailable already counts what running VMs have touched, so a VM is
 * counted twice while it runs: conservative on purpose. Guest RAM is
 * allocated as the guest touches it, so without the declarations a burst
 * of VMs that all see the same MemAvailable would start together and run
 * the host out of memory minutes later. */
#ifndef KTSTR_ORCH_HOSTRES_MEM_H
#define KTSTR_ORCH_HOSTRES_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Left to the host, its page cache and QEMU's own memory. */
#define HOSTRES_MEM_MARGIN_MIB 512
#define HOSTRES_MEMINFO_MAX (64 * 1024) /* /proc/meminfo is ~1.5 KiB */

struct hostres_meminfo {
	uint64_t total_mib; /* MemTotal */
	uint64_t avail_mib; /* MemAvailable */
};

/* MemTotal and MemAvailable (kB in the text) from /proc/meminfo's text.
 * Returns 0 or -EINVAL when either is missing or malformed. */
int hostres_meminfo_parse(const char *text, struct hostres_meminfo *m);
/* Read and parse path (normally /proc/meminfo). 0 or -errno. */
int hostres_meminfo_read(const char *path, struct hostres_meminfo *m);
/* Room left for one more VM (0 when none), given the RAM declared. */
uint64_t hostres_mem_room(const struct hostres_meminfo *m, uint64_t declared_mib);
/* Whether a VM of need MiB may start: 0 yes, -EBUSY not now (room is
 * short: wait for others to end), -ENOSPC never (need > MemTotal - margin). */
int hostres_mem_fits(const struct hostres_meminfo *m, uint64_t declared_mib, uint64_t need_mib);

#endif
