/* Flag profiles (docs/reference.md, "Scheduler flags and requires"): every
 * combination of a scheduler's flags whose requires hold, required flags
 * always in, excluded never. Profiles are bitmasks over the scheduler's flags (bit i =
 * flags[i]); they are listed in the reference's order: by the power-set
 * index over the optional flags taken in declaration order. */
#ifndef KTSTR_ORCH_PROFILES_H
#define KTSTR_ORCH_PROFILES_H

#include <stddef.h>
#include <stdint.h>

#include "suite.h"

/* Fill masks (malloc'd, caller frees) with every valid profile. Returns 0
 * (with *n possibly 0 when the required flags cannot be satisfied) or
 * -ENOMEM / -E2BIG when more than 2^16 optional combinations would be
 * generated. */
int profiles_generate(const struct sched_def *sd, uint32_t required, uint32_t excluded,
		      uint32_t **masks, size_t *n);
/* True when every active flag's requires are active too. */
int profile_valid(const struct sched_def *sd, uint32_t mask);
/* "default" or "a+b" (declaration order). Returns snprintf's result. */
int profile_name(const struct sched_def *sd, uint32_t mask, char *buf, size_t len);

#endif
