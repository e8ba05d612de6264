/* Base initramfs images for a run, indexed as struct suite's nimages: one
 * per scheduler (ktstr-guest as /init + the scheduler + busybox + payloads
 * + included files) and one per test with include_files of its own, each
 * built once by ktstr-initramfs-builder and shared by every VM that boots
 * it. */
#ifndef KTSTR_ORCH_IMAGES_H
#define KTSTR_ORCH_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "builder_client.h"
#include "plan.h"
#include "suite.h"

/* Locate a scheduler's binary (sd->resolved_path). NAME: beside the suite
 * file, then $KTSTR_SCHEDULER, then each directory of $KTSTR_SCHEDULER_PATH,
 * then the build's scheduler directory (<bin>/../schedulers). PATH:
 * relative to the suite file. Returns 0, or -ENOENT with err listing every
 * place looked at. */
int scheduler_resolve(const struct suite *s, struct sched_def *sd, char *err, size_t errlen);
/* The same for a guest architecture. ARCH_ARM64 (docs/aarch64.md): beside
 * the suite file, $KTSTR_SCHEDULER, each directory of
 * $KTSTR_SCHEDULER_PATH_ARM64 (not $KTSTR_SCHEDULER_PATH: that holds x86_64
 * builds), <bin>/../schedulers/arm64, then <ktstr cache>/schedulers/
 * <version>/arm64/bin (scripts/build-schedulers --arch arm64). What is found
 * must still be an arm64 ELF (images_check_arch). */
int scheduler_resolve_arch(const struct suite *s, struct sched_def *sd, Ktstr__Arch arch,
			   char *err, size_t errlen);

/* The ktstr-guest binary: $KTSTR_GUEST, beside this executable or in
 * ../libexec/ktstr (helper_path.h). */
int guest_binary_path(char *buf, size_t len, char *err, size_t errlen);
/* busybox for the guest (/bin/busybox in the image): $KTSTR_BUSYBOX, else
 * /bin/busybox, /usr/bin/busybox. Must be static. */
int busybox_path(char *buf, size_t len, char *err, size_t errlen);
/* The same for a guest architecture: x86_64 as above; arm64 the
 * arm64/ktstr-guest helper (helper_path.h, $KTSTR_GUEST_ARM64) and
 * $KTSTR_BUSYBOX_ARM64, else <ktstr cache>/arm64/busybox
 * (scripts/fetch-arm64). */
int guest_binary_path_arch(Ktstr__Arch arch, char *buf, size_t len, char *err, size_t errlen);
int busybox_path_arch(Ktstr__Arch arch, char *buf, size_t len, char *err, size_t errlen);

struct image_set {
	int *fds;	/* per image index: sealed memfd or -1; owned */
	int *sandboxed;	/* per image index: BuildOk.sandboxed 1/0, -1 = not built */
	int *landlock;	/* per image index: BuildOk.landlock 1/0, -1 = not built */
	uint64_t *uncompressed;	/* per image index: BuildOk.uncompressed_size, 0 = none */
	size_t n;	/* suite->nimages */
	void *imgs_;	/* struct builder_image per image */
};

/* Resolve the scheduler binary of every kept variant (before privileges
 * are dropped: the paths are then checked for the dropped user). Returns 0
 * or -ENOENT/-errno with err set. */
int images_resolve(struct suite *s, const struct plan *p, char *err, size_t errlen);
/* Check the dropped user can read what the builder packs (resolved
 * schedulers, payloads, included files, ktstr-guest, busybox). user names it in messages. Returns 0
 * or -EACCES with err saying which file and what to do. */
int images_check_readable(const struct suite *s, const struct plan *p, const char *user,
			  char *err, size_t errlen);

/* Every ELF file the kept variants' images would hold (ktstr-guest,
 * busybox, schedulers, payloads, included files) is built for p->arch
 * (libelf's e_machine; files that are not ELF pass). Run as the dropped
 * user, before the build. Returns 0, or -ENOEXEC with err naming the file,
 * its machine and the run's architecture, or -errno. */
int images_check_arch(const struct suite *s, const struct plan *p, char *err, size_t errlen);

/* Build every image the kept variants of p need, packed with compression
 * (KTSTR__COMPRESSION__*). insecure_no_sandbox starts the builder with
 * --insecure-no-sandbox; without it a BuildOk with sandboxed=false fails
 * the build (-EPERM, fail closed). Returns 0 or -errno with err set. */
int images_build(struct suite *s, const struct plan *p, uint32_t compression,
		 bool insecure_no_sandbox, struct image_set *out, char *err, size_t errlen);
/* The same through a builder the caller started (a root ktstr-orch starts
 * it as the image cache's owner before dropping root: cache_owner.h);
 * started NULL = start one here. The caller stops a builder it started. */
int images_build_with(struct suite *s, const struct plan *p, uint32_t compression,
		      bool insecure_no_sandbox, struct builder_client *started,
		      struct image_set *out, char *err, size_t errlen);
void images_free(struct image_set *is);

#endif
