/* The kernel cache and --kernel resolution (docs/kernels.md).
 *
 * The ktstr cache is $KTSTR_CACHE_DIR, else $XDG_CACHE_HOME/ktstr, else
 * ~/.cache/ktstr (shared with the image builder's images/ and the scheduler
 * builds' schedulers/); kernels live in its kernels/ subdirectory. One directory per entry, named by its key
 * ("7.2.1-1-cloud-amd64"), holding bzImage, vmlinux, vmlinux.btf, config
 * and metadata (key=value lines). Entries appear by atomic rename, so a
 * reader never sees half of one. */
#ifndef KTSTR_ORCH_KERNEL_CACHE_H
#define KTSTR_ORCH_KERNEL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common.pb-c.h"

struct kernel_choice {
	char image[4096];	/* what the worker boots */
	char config[4096];	/* kernel config, "" if unknown */
	char key[256];		/* cache key, "" for a plain path */
	int scx;		/* 1 sched_ext, 0 none, -1 unknown (no config) */
	char origin[64];	/* "--kernel path", "cache", "$KTSTR_KERNEL", ... */
};

/* The ktstr cache directory / its kernels/ subdirectory into buf.
 * Returns 0 or -ENOENT (no HOME and no override). */
int ktstr_cache_base(char *buf, size_t len);
int kcache_root(char *buf, size_t len);

/* Resolve --kernel (arg may be NULL): explicit path (file, or directory
 * holding vmlinux/bzImage), then a version or cache key, then
 * $KTSTR_KERNEL (same forms), then the newest cached sched_ext kernel, then
 * the newest cached kernel. The engine picks the image: QEMU prefers the
 * ELF vmlinux (PVH entry, no decompressor), KVM the bzImage. Returns 0 or
 * -ENOENT with err saying what was tried and how to get a kernel. */
int kernel_resolve(const char *arg, Ktstr__Engine engine, struct kernel_choice *kc, char *err,
		   size_t errlen);

/* The kernel as the VMs get it once ktstr-orch dropped root: *kfd (opened
 * before the drop) as it is for the KVM engine when this user may open
 * path itself, else a sealed memfd copy of it, which replaces *kfd (the old
 * fd is closed). The QEMU engine opens its kernel through /proc/self/fd/N:
 * that open re-checks the file's permissions (a 0600 root kernel, Ubuntu's
 * /boot/vmlinuz-*, failed in every VM), and under QEMU's Landlock ruleset
 * only a file unreachable by path opens at all; one copy per run serves
 * every VM. Returns 0 or -errno with err. */
int kernel_fd_for_vms(const char *path, Ktstr__Engine engine, int *kfd, char *err,
		      size_t errlen);

/* 1 if config text enables CONFIG_<opt>=y, else 0. */
int kconfig_has(const char *config_text, const char *opt);
/* Read a config file and tell whether it has sched_ext (-1 unreadable). */
int kconfig_file_scx(const char *path);

/* `kernel list` / `kernel path`. */
int kcache_list(FILE *out);
int kcache_print_path(FILE *out, const char *arg, Ktstr__Engine engine, char *err, size_t errlen);

#endif
