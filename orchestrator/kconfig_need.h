/* The kernel options ktstr's guest needs: one table, read by `kernel
 * build` (added to the base config, docs/kernels.md "What ktstr adds") and
 * by the check of every kernel that enters the cache (fetched or built). */
#ifndef KTSTR_ORCH_KCONFIG_NEED_H
#define KTSTR_ORCH_KCONFIG_NEED_H

#include <stdbool.h>
#include <stddef.h>

#include "common.pb-c.h"
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
	/* The guest architecture it is for: KCONFIG_ALL (0), or only
	 * KCONFIG_X86_64 / KCONFIG_ARM64 (an option the other architecture's
	 * kernels lack or do not need: docs/aarch64.md). */
	unsigned arch;
};
#define KCONFIG_ALL 0u
#define KCONFIG_X86_64 1u
#define KCONFIG_ARM64 2u

extern const struct kconfig_need kconfig_needs[];
extern const size_t kconfig_nneeds;

/* Whether table entry n applies to a kernel of arch (Ktstr__Arch). */
bool kconfig_need_for(const struct kconfig_need *n, Ktstr__Arch arch);

/* Every x86_64 option of the table into c, origin "ktstr" (`kernel build`
 * builds x86_64 kernels). */
int kconfig_need_add(struct kcfg *c);

/* Check a kernel config for the checked options. Writes the missing ones
 * (space-separated, CONFIG_ prefixed) into missing; returns how many are
 * missing. */
int kconfig_validate(const char *config_text, char *missing, size_t len);
/* The same for a kernel of arch: options of the other architecture are
 * not demanded (an arm64 config has no PVH nor 8250 console). */
int kconfig_validate_arch(const char *config_text, Ktstr__Arch arch, char *missing, size_t len);
/* kconfig_validate_arch for ARCH_ARM64 (its callers' name). */
int kconfig_validate_arm64(const char *config_text, char *missing, size_t len);

#endif
