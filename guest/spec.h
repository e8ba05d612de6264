/* Loading and validating the per-test GuestSpec (/ktstr/spec.pb). */
#ifndef KTSTR_GUEST_SPEC_H
#define KTSTR_GUEST_SPEC_H

#include <ktstr/guest_contract.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.pb-c.h"

#define SPEC_PATH KTSTR_INITRD_SPEC_PATH
#define SPEC_MAX_BYTES (1u << 20)
#define SPEC_MAX_WORKERS 1024u
#define SPEC_NAME_MAX 48

/* Decode and validate a packed GuestSpec. On success *out is owned by the
 * caller (ktstr__guest_spec__free_unpacked(*out, NULL)). Errors: -EBADMSG
 * (not a GuestSpec), -EINVAL (decodes but is inconsistent), with a message
 * in err that names the field and what to change. */
int spec_decode(const uint8_t *buf, size_t len, Ktstr__GuestSpec **out, char *err, size_t errlen);

/* Read path (at most SPEC_MAX_BYTES) and spec_decode it. -ENOENT if absent. */
int spec_load(const char *path, Ktstr__GuestSpec **out, char *err, size_t errlen);

/* Validate a scenario: the guest runs exactly the one it is sent (canned
 * names are expanded by the host, orchestrator/scenario_catalog.c). */
int spec_validate_scenario(const Ktstr__Scenario *sc, char *err, size_t errlen);

/* A cgroup name is one path component of [A-Za-z0-9_.-], not "." or "..". */
int spec_check_cgroup_name(const char *name);

/* How many workers one group of w's type has (w NULL = CpuSpin): 2 for the
 * pairs (PipeIo, FutexPingPong, CachePipe), fan_out + 1 for FutexFanOut,
 * contenders for MutexContention, 1 otherwise; 0 parameters take their
 * defaults (4). A result above SPEC_MAX_WORKERS is a bad parameter. */
uint64_t spec_work_group_size(const Ktstr__WorkSpec *w);

#endif
