/* `ktstr-initramfs-builder --bench`: cold build, warm memory hit and warm
 * disk hit timings per compression, printed (never asserted). */
#ifndef KTSTR_BUILDER_BENCH_H
#define KTSTR_BUILDER_BENCH_H

/* init: ELF for /init (NULL = this executable); scheduler: optional ELF
 * for /scheduler (NULL = qemu-system-x86_64 if installed, for a realistic
 * library closure). Returns 0 or -errno. */
int bench_run(const char *init, const char *scheduler, int iterations);

#endif
