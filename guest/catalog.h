/* The canned scenario catalogue. Free of guest-only syscalls so ktstr-orch
 * can link it too (the host picks scenarios by name; the guest expands a
 * name it is sent without a body). */
#ifndef KTSTR_GUEST_CATALOG_H
#define KTSTR_GUEST_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "guest.pb-c.h"

struct catalog_params {
	uint32_t cpus;	      /* usable CPUs of the VM (0 = assume 4) */
	uint32_t llcs;	      /* LLCs of the VM (0 = 1) */
	uint32_t duration_ms; /* 0 = scenario default (2000) */
	uint32_t workers;     /* workers per cgroup, 0 = 2 */
};

/* Expand a catalogue name into a Scenario. On success *out is owned by the
 * caller: free it with ktstr__scenario__free_unpacked(*out, NULL).
 * Returns 0, -ENOENT (unknown name; err lists the known ones) or -ENOMEM. */
int catalog_expand(const char *name, const struct catalog_params *p, Ktstr__Scenario **out,
		   char *err, size_t errlen);

/* Names in catalogue order; *n set to the count. Static storage. */
const char *const *catalog_names(size_t *n);

#endif
