/* The guest architectures ktstr-orch takes (--arch) and their names: the
 * one table of what "x86_64" and "arm64" mean for the kernel cache
 * (metadata arch=, entries' suffix) and Debian (package architecture). */
#ifndef KTSTR_ORCH_GUEST_ARCH_H
#define KTSTR_ORCH_GUEST_ARCH_H

#include "common.pb-c.h"

/* What --arch accepts, for help and errors. */
#define GUEST_ARCH_CHOICES "x86_64 arm64"

/* s -> *out: "x86_64", "arm64" and its alias "aarch64". NULL is x86_64
 * (the default). 0 or -EINVAL. */
int guest_arch_parse(const char *s, Ktstr__Arch *out);
/* ktstr's name ("x86_64", "arm64"): --arch, metadata arch=. */
const char *guest_arch_name(Ktstr__Arch a);
/* Debian's ("amd64", "arm64"): package names and apt's architecture. */
const char *guest_arch_deb(Ktstr__Arch a);

#endif
