/* What the arm64 integration tests boot: a busybox-static:arm64 initramfs
 * whose /init is a test's script, and where the arm64 kernel and busybox
 * are (docs/aarch64.md, "Running it"). */
#ifndef KTSTR_TESTS_ARM64_GUEST_H
#define KTSTR_TESTS_ARM64_GUEST_H

#include <stddef.h>

/* The cache ktstr-orch and scripts/fetch-arm64 fill: $KTSTR_CACHE_DIR, else
 * $XDG_CACHE_HOME/ktstr, else $HOME/.cache/ktstr. 0 or -ENOENT. */
int arm64_cache_dir(char *buf, size_t len);
/* The arm64 busybox: $KTSTR_BUSYBOX_ARM64, else <cache>/arm64/busybox.
 * 0 when readable, else -ENOENT. */
int arm64_busybox(char *buf, size_t len);
/* Write an initramfs (newc cpio) to out holding /bin/busybox (the file at
 * busybox) and /init = script (mode 0755). 0 or -errno. */
int arm64_initramfs(const char *busybox, const char *script, const char *out);

#endif
