/* Base initramfs images for a run: one per distinct scheduler binary
 * (ktstr-guest as /init + the scheduler + busybox), each built once by
 * ktstr-initramfs-builder and shared by every VM that needs it. */
#ifndef KTSTR_ORCH_IMAGES_H
#define KTSTR_ORCH_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "suite.h"

/* Locate a scheduler's binary (sd->resolved_path). NAME: beside the suite
 * file, then $KTSTR_SCHEDULER, then each directory of $KTSTR_SCHEDULER_PATH,
 * then the build's scheduler directory (<bin>/../schedulers). PATH:
 * relative to the suite file. Returns 0, or -ENOENT with err listing every
 * place looked at. */
int scheduler_resolve(const struct suite *s, struct sched_def *sd, char *err, size_t errlen);

/* The ktstr-guest binary: $KTSTR_GUEST, else beside this executable. */
int guest_binary_path(char *buf, size_t len, char *err, size_t errlen);
/* busybox for the guest (/bin/busybox in the image): $KTSTR_BUSYBOX, else
 * /bin/busybox, /usr/bin/busybox. Must be static. */
int busybox_path(char *buf, size_t len, char *err, size_t errlen);

struct image_set {
	int *fds;	/* per scheduler index: sealed memfd or -1; owned */
	size_t n;
	void *imgs_;	/* struct builder_image per scheduler */
};

/* Build every image the kept variants of p need. extra_files (host path,
 * guest path pairs, may be NULL) go into every image (the shell's
 * includes). Returns 0 or -errno with err set. */
int images_build(struct suite *s, const struct plan *p, struct image_set *out, char *err,
		 size_t errlen);
void images_free(struct image_set *is);

#endif
