/* Loading and validating the per-test GuestSpec (/ktstr/spec.pb). */
#ifndef KTSTR_GUEST_SPEC_H
#define KTSTR_GUEST_SPEC_H

#include <ktstr/guest_contract.h>
#include <ktstr/scenario_rules.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.pb-c.h"

#define SPEC_PATH KTSTR_INITRD_SPEC_PATH
#define SPEC_MAX_BYTES (1u << 20)
#define SPEC_MAX_WORKERS KTSTR_SCENARIO_MAX_WORKERS
#define SPEC_NAME_MAX KTSTR_CGROUP_NAME_MAX

/* Decode and validate a packed GuestSpec. On success *out is owned by the
 * caller (ktstr__guest_spec__free_unpacked(*out, NULL)). Errors: -EBADMSG
 * (not a GuestSpec), -EINVAL (decodes but is inconsistent), with a message
 * in err that names the field and what to change. */
int spec_decode(const uint8_t *buf, size_t len, Ktstr__GuestSpec **out, char *err, size_t errlen);

/* Read path (at most SPEC_MAX_BYTES) and spec_decode it. -ENOENT if absent. */
int spec_load(const char *path, Ktstr__GuestSpec **out, char *err, size_t errlen);

/* Validate a scenario with every check that needs no topology
 * (ktstr_scenario_check, shared with ktstr-orch): the guest runs exactly the
 * one it is sent (canned names are expanded by the host,
 * orchestrator/scenario_catalog.c). */
int spec_validate_scenario(const Ktstr__Scenario *sc, char *err, size_t errlen);

#endif
