/* Storing a kernel into the cache: the one way an entry appears, for
 * `kernel fetch` and `kernel build` alike (docs/kernels.md, "The cache").
 * The files are written into a locked work area (.tmp-KEY-PID) and renamed
 * into place, so a reader sees no entry or a whole one. */
#ifndef KTSTR_ORCH_KERNEL_STORE_H
#define KTSTR_ORCH_KERNEL_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct kstore_in {
	const char *who;	/* "kernel fetch", "kernel build": starts messages */
	const char *key;	/* the entry's name: no '/', no leading '.' */
	const void *bzimage;	/* every blob is the caller's; NULL: not stored */
	size_t bzlen;
	const void *vmlinux;
	size_t vmllen;
	const void *image;	/* an arm64 Image (x86 entries: NULL) */
	size_t imglen;
	const void *config;
	size_t cfglen;
	const void *btf;
	size_t btflen;
	const char *metadata;	/* key=value lines */
	bool force;		/* replace an entry of that key unless in use */
};

/* Returns 0 (stored, or already cached without force: said on stderr),
 * -EINVAL (a bad key), -EBUSY (force, but a run holds the entry) or
 * -errno; every failure is said on stderr and leaves no work area. */
int kcache_store(const struct kstore_in *in);

#endif
