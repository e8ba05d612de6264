/* The kernel options ktstr's guest needs: one table, read by `kernel
 * build` (added to the base config, docs/kernels.md "What ktstr adds") and
 * by the check of every kernel that enters the cache (fetched or built). */
#ifndef KTSTR_ORCH_KCONFIG_NEED_H
#define KTSTR_ORCH_KCONFIG_NEED_H

#include <stdbool.h>
#include <stddef.h>

#include "kconfig_frag.h"

struct kconfig_need {
	const char *name;	/* without CONFIG_ */
	const char *value;
	/* Checked in every cached kernel (kconfig_validate): without it a run
	 * cannot work at all, or sched_ext cannot. The others only make a
	 * small (tinyconfig) build boot the guest and are not checked in a
	 * distribution kernel, which has them or an equivalent. */
	bool checked;
	const char *why;
};

extern const struct kconfig_need kconfig_needs[];
extern const size_t kconfig_nneeds;

/* Every option of the table into c, origin "ktstr". */
int kconfig_need_add(struct kcfg *c);

/* Check a kernel config for the checked options. Writes the missing ones
 * (space-separated, CONFIG_ prefixed) into missing; returns how many are
 * missing. */
int kconfig_validate(const char *config_text, char *missing, size_t len);
/* The same for an arm64 kernel: it boots its Image with a device tree (no
 * PVH entry) and its console is the PL011 ttyAMA0, so PVH is not checked
 * and SERIAL_AMBA_PL011_CONSOLE replaces SERIAL_8250_CONSOLE. */
int kconfig_validate_arm64(const char *config_text, char *missing, size_t len);

#endif
