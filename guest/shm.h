/* The guest end of the SHM ring: find the region (KTSTR_SHM_BASE/SIZE from
 * the environment the kernel hands PID 1, or /proc/cmdline; the keys are
 * KTSTR_CMDLINE_SHM_* in ktstr/guest_contract.h), map it through /dev/mem
 * and attach the common ring writer. */
#ifndef KTSTR_GUEST_SHM_H
#define KTSTR_GUEST_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/ring.h"

struct guest_shm {
	void *map;	 /* owned: munmap(map, map_len) in shm_unmap */
	size_t map_len;
	struct ktstr_ring ring;
	bool formatted_here; /* the header was missing and the guest wrote it */
};

/* Parse base and size: the env values win, else "KTSTR_SHM_BASE=0x..." and
 * "KTSTR_SHM_SIZE=0x..." tokens of cmdline. Returns 0, -ENOENT when neither
 * names a region (no ring: report through the output port), -EINVAL on bad
 * numbers (unparsable, a size out of range, a base not 8-byte aligned). */
int shm_parse_params(const char *env_base, const char *env_size, const char *cmdline,
		     uint64_t *base, uint64_t *size);

/* Map [base, base+size) of memdev ("/dev/mem"; a plain file in tests) and
 * attach. If the header has no magic yet, format it (the host reads whatever
 * a formatted header says). Returns 0 or -errno with a message. */
int shm_map(const char *memdev, uint64_t base, uint64_t size, struct guest_shm *s, char *err,
	    size_t errlen);
void shm_unmap(struct guest_shm *s);

#endif
