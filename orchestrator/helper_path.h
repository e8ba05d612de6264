/* Where ktstr-orch finds its helper programs (ktstr-vmm-worker,
 * ktstr-initramfs-builder, ktstr-guest): one lookup for all of them.
 *
 *   1. $ENV (KTSTR_VMM_WORKER, ...) when set and not empty;
 *   2. beside ktstr-orch itself (/proc/self/exe): the build tree;
 *   3. ../libexec/ktstr/ from ktstr-orch's directory: `make install`
 *      puts ktstr-orch in PREFIX/bin and the helpers in
 *      PREFIX/libexec/ktstr.
 *
 * A helper runs with the rights ktstr-orch hands it (the builder as the
 * cache owner, workers with /dev/kvm), so whoever can replace the file can
 * run code as them: a helper that someone other than its owner (and the
 * owner's private group) could rewrite or swap is refused, and the error
 * says which file or directory is writable by whom (docs/security.md). */
#ifndef KTSTR_ORCH_HELPER_PATH_H
#define KTSTR_ORCH_HELPER_PATH_H

#include <stddef.h>

/* The installed helpers' directory relative to ktstr-orch's. */
#define HELPER_LIBEXEC_REL "../libexec/ktstr"

enum helper {
	HELPER_VMM_WORKER,	/* ktstr-vmm-worker, $KTSTR_VMM_WORKER */
	HELPER_BUILDER,		/* ktstr-initramfs-builder, $KTSTR_INITRAMFS_BUILDER */
	HELPER_GUEST,		/* ktstr-guest, $KTSTR_GUEST */
	/* arm64/ktstr-guest, $KTSTR_GUEST_ARM64: the arm64 guest's PID 1, in
	 * an arm64/ folder next to ktstr-guest (build/bin/arm64/,
	 * libexec/ktstr/arm64/; docs/aarch64.md) */
	HELPER_GUEST_ARM64,
	HELPER_COUNT,
};

/* The helper's file name ("ktstr-vmm-worker"). */
const char *helper_name(enum helper h);
/* The helper's path -> buf. Returns 0, or -ENOENT (none found), -EPERM
 * (found but writable by others) or another -errno, with err saying what
 * was tried and what to do. */
int helper_path(enum helper h, char *buf, size_t len, char *err, size_t errlen);
/* The check alone: path, its target and every directory above it may be
 * written only by their owner (or the owner's private group, the Debian
 * user-group convention); a directory others may write needs the sticky
 * bit (/tmp). Returns 0, -EPERM with err naming the culprit, or -errno. */
int helper_check_safe(const char *path, char *err, size_t errlen);

#endif
