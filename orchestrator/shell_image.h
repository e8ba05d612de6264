/* What a `ktstr-orch shell` VM boots: the base image (ktstr-guest as /init,
 * busybox, the --include files under /include-files) and the per-VM
 * GuestSpec suffix that puts the guest in shell mode. */
#ifndef KTSTR_ORCH_SHELL_IMAGE_H
#define KTSTR_ORCH_SHELL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/topology.h>

#include "builder_client.h"

#define SHELL_MAX_INCLUDES 64

/* Build the base image through `started` (a builder a root ktstr-orch
 * started as the image cache's owner; the caller stops it) or, NULL, a
 * builder of its own. Fails closed, as `run` does (images.c), when the
 * builder ran unsandboxed without insecure. arch: the guest's (its
 * ktstr-guest and busybox, images.h); an --include that is an ELF of
 * another architecture is refused (-ENOEXEC). Returns 0 or -errno with err
 * filled. */
int shell_image_build(const char *const *includes, size_t nincludes, bool insecure,
		      Ktstr__Arch arch, struct builder_client *started,
		      struct builder_image *img, char *err, size_t errlen);
/* The cpio suffix holding the shell's GuestSpec (exec NULL: interactive).
 * *suffix is malloc'd. Returns 0 or -ENOMEM. */
int shell_spec_pack(const struct ktstr_topo *topo, const char *exec, uint8_t **suffix,
		    size_t *suflen);

#endif
