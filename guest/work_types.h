/* Work loops implemented outside work.c, called from work_run(). Each runs
 * until *stop is set, accounting through t (work_telem.h). */
#ifndef KTSTR_GUEST_WORK_TYPES_H
#define KTSTR_GUEST_WORK_TYPES_H

#include <signal.h>

#include "work.h"
#include "work_telem.h"

/* work_sync.c: groups sharing a struct work_group. */
void work_run_fan_out(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t);
void work_run_mutex(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t);

/* work_churn.c: workers changing their own scheduling attributes. */
void work_run_nice_sweep(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t);
void work_run_policy_churn(const struct work_cfg *c, volatile sig_atomic_t *stop,
			   struct telem *t);

#endif
