/* The guest architectures for the kernel cache (metadata arch=, entries'
 * suffix) and Debian (package architecture). ktstr's names and their enum
 * live in ktstr/arch.h; these wrap them (NULL is x86_64, the default). */
#ifndef KTSTR_ORCH_GUEST_ARCH_H
#define KTSTR_ORCH_GUEST_ARCH_H

#include "common.pb-c.h"

#include <ktstr/arch.h>

/* s -> *out: "x86_64", "arm64" and its alias "aarch64". NULL is x86_64
 * (the default). 0 or -EINVAL. */
int guest_arch_parse(const char *s, Ktstr__Arch *out);
/* ktstr's name ("x86_64", "arm64"): --arch, metadata arch=. */
const char *guest_arch_name(Ktstr__Arch a);
/* Debian's ("amd64", "arm64"): package names and apt's architecture. */
const char *guest_arch_deb(Ktstr__Arch a);

#endif
