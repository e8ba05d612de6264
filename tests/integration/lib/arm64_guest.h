/* What the arm64 integration tests boot: a busybox-static:arm64 initramfs
 * whose /init is a test's script, and where the arm64 kernel and busybox
 * are (docs/aarch64.md, "Running it"). */
#ifndef KTSTR_TESTS_ARM64_GUEST_H
#define KTSTR_TESTS_ARM64_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* The cache ktstr-orch and scripts/fetch-arm64 fill: $KTSTR_CACHE_DIR, else
 * $XDG_CACHE_HOME/ktstr, else $HOME/.cache/ktstr. 0 or -ENOENT. */
int arm64_cache_dir(char *buf, size_t len);
/* The arm64 busybox: $KTSTR_BUSYBOX_ARM64, else <cache>/arm64/busybox.
 * 0 when readable, else -ENOENT. */
int arm64_busybox(char *buf, size_t len);
/* Write an initramfs (newc cpio) to out holding /bin/busybox (the file at
 * busybox) and /init = script (mode 0755). 0 or -errno. */
int arm64_initramfs(const char *busybox, const char *script, const char *out);
/* An arm64 Image header (Linux booting.rst) in b[0..len), len >= 64, the
 * rest zero: text_offset 0, image_size, flags 0xa (little-endian, 4K pages,
 * placed anywhere), magic "ARM\x64" at 56. No code: for runs where the
 * worker reads the header and no CPU executes the Image (refusals, the fake
 * KVM of tests/arm64/kvm-worker-cases). */
void arm64_fake_image(uint8_t *b, size_t len, uint64_t image_size);

#endif
