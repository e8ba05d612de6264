/* `ktstr-orch kernel fetch`: a Debian cloud kernel into the kernel cache,
 * through apt with a private sources file and private state (the system's
 * apt configuration is never touched; no root needed). */
#ifndef KTSTR_ORCH_KERNEL_FETCH_H
#define KTSTR_ORCH_KERNEL_FETCH_H

#include <stdbool.h>
#include <stdio.h>

struct kfetch_opts {
	const char *suite;	    /* "sid" (default) or "bookworm" */
	const char *version;	    /* kernel ABI as in package names, NULL = current */
	bool force;		    /* replace an existing cache entry */
};

/* Returns 0 (entry key printed to out) or -errno with a message on stderr. */
int kernel_fetch(const struct kfetch_opts *o, FILE *out);

/* Check a kernel config for what ktstr needs. Writes the missing options
 * (space-separated) into missing; returns how many are missing. scx_only
 * reports whether SCHED_CLASS_EXT is the only gap. */
int kconfig_validate(const char *config_text, char *missing, size_t len);

/* Turn an extracted package tree into a cache entry: find the image and
 * config under dir (boot/ or usr/lib/modules/<v>/), extract vmlinux and BTF,
 * write metadata, rename into the cache as key. Exposed for tests. */
int kcache_install(const char *tree, const char *suite, const char *packages, bool force,
		   char *key, size_t keylen);

#endif
