/* The kernel cache and --kernel resolution (docs/kernels.md).
 *
 * The ktstr cache is $KTSTR_CACHE_DIR, else $XDG_CACHE_HOME/ktstr, else
 * ~/.cache/ktstr (shared with the image builder's images/ and the scheduler
 * builds' schedulers/); kernels live in its kernels/ subdirectory. One directory per entry, named by its key
 * ("7.2.13+deb14-cloud-amd64"), holding bzImage, vmlinux, vmlinux.btf, config
 * and metadata (key=value lines); an arm64 entry ("...-cloud-arm64") holds
 * Image instead of bzImage and vmlinux, and metadata arch=arm64 (none:
 * x86_64). Entries appear by atomic rename, so a
 * reader never sees half of one, and go by rename to a dot name first, for
 * the same reason. Names starting with a dot are work areas, never entries.
 *
 * Locks (flock on the entry's directory): a process that resolved an entry
 * holds a shared lock until it exits; `kernel clean` and `kernel fetch
 * --force` take an exclusive one without waiting and refuse an entry in
 * use. Work areas (.apt-SUITE[-arm64], .tmp-KEY-PID, .rm-PID-KEY, .kbuild-HASH) are locked
 * exclusively by whoever works in them, so one whose lock is free is a
 * leftover. */
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
	char origin[64];	/* "--kernel", "cache", "$KTSTR_KERNEL" */
	int lockfd;		/* shared lock on the cache entry, owned; -1 none */
};

/* The ktstr cache directory / its kernels/ subdirectory into buf.
 * Returns 0 or -ENOENT (no HOME and no override). */
int ktstr_cache_base(char *buf, size_t len);
int kcache_root(char *buf, size_t len);

/* Resolve --kernel (arg may be NULL), the one resolution of run, list,
 * shell and `kernel path`:
 *   1. an existing path: a kernel image, or a directory holding
 *      vmlinux/bzImage;
 *   2. a cache entry named by arg (kcache_select: its key, else its
 *      version, else a version prefix: the newest of those it matches);
 *   3. without arg, $KTSTR_KERNEL with the same forms;
 *   4. else the newest cached kernel with sched_ext, else the newest.
 * The engine picks the image: QEMU prefers the ELF vmlinux (PVH entry, no
 * decompressor), KVM the bzImage. A cache entry is locked shared in
 * kc->lockfd (kernel_choice_release, or held until exit) so that `kernel
 * clean` cannot remove it under a run. Returns 0, -ENOENT with err saying
 * what was tried, the closest cached keys and how to get a kernel, or
 * -EBUSY (the entry is being removed or replaced). */
int kernel_resolve(const char *arg, Ktstr__Engine engine, struct kernel_choice *kc, char *err,
		   size_t errlen);
/* The same for a guest of architecture arch ("x86_64", "arm64"; NULL:
 * x86_64): a cache lookup sees only that architecture's entries (the
 * newest x86_64 kernel is never an arm64 one), and an arm64 entry's image
 * is its Image. kernel_resolve is this with arch NULL. */
int kernel_resolve_arch(const char *arg, const char *arch, Ktstr__Engine engine,
			struct kernel_choice *kc, char *err, size_t errlen);
/* Drop kc's entry lock (after kernel_resolve only). */
void kernel_choice_release(struct kernel_choice *kc);

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

/* Version order of kernel releases and cache keys: runs of digits compare
 * as numbers ("7.10" after "7.9", "7.2.13" after "7.2.9"), '~' before
 * anything, even the end (Debian's pre-release mark), every other byte by
 * its value, and a string before its own continuations ("7.2" before
 * "7.2.1"). <0, 0, >0 like strcmp. */
int kver_cmp(const char *a, const char *b);
/* Whether want is a version prefix of s on a component boundary: s starts
 * with want and goes on with a non-alphanumeric byte or ends ("7.2" names
 * 7.2.13+deb14-cloud-amd64 and 7.2-rc1, not 7.20 nor 7.2rc1). */
bool kver_prefix(const char *want, const char *s);

/* One cache entry as kcache_scan reads it. */
struct kcache_entry {
	char key[256];		/* its directory's name */
	char version[256];	/* metadata version=, else the key */
	char suite[32];		/* metadata suite=, "" when not fetched */
	char arch[16];		/* metadata arch= ("arm64"), else "x86_64" */
	int scx;		/* as kernel_choice.scx */
};

/* Every entry of the cache root, newest first (kver_cmp of versions, then
 * of keys). *v is malloc'd (caller frees; NULL when none). A missing root
 * is an empty cache. Returns 0 or -ENOMEM. */
int kcache_scan(const char *root, struct kcache_entry **v, size_t *n);
/* Which entries want names, in sel[0..n): the one whose key is want; else
 * every one whose version is want; else every one whose key or version
 * want is a kver_prefix of. On kcache_scan's order the first selected is
 * the newest. Returns how many are selected. */
size_t kcache_select(const struct kcache_entry *v, size_t n, const char *want, bool *sel);
/* The cached keys closest to want (longest common prefix, then newest),
 * at most four, comma-separated, into buf ("" when the cache is empty). */
void kcache_closest(const struct kcache_entry *v, size_t n, const char *want, char *buf,
		    size_t len);

/* Lock a directory of the cache without waiting: path is followed (an
 * entry may be a link to a kernel directory elsewhere) and must still name
 * the locked directory afterwards. Returns the fd (owned by the caller;
 * closing it drops the lock), -EBUSY when a conflicting lock is held, or
 * -ENOENT when the directory is gone. */
int kcache_lock(const char *path, bool exclusive);
/* Remove the cache entry or work area name under root, taking its
 * exclusive lock first (-EBUSY when in use). A link is removed, never what
 * it points to; links inside are never followed. */
int kcache_remove(const char *root, const char *name);
/* Remove path (a work directory of ours, or a file) without following
 * links below it. A missing path is not an error. */
int kcache_rmtree(const char *path);

/* `kernel list` (each entry with its size) / `kernel path` / `kernel
 * clean`. clean: what (a key or version prefix, kcache_select) removes
 * those entries; all removes every entry; both remove the leftovers whose
 * lock is free (private apt state, interrupted fetches and cleans), which
 * is all that no argument removes. dry_run only prints. Returns 0,
 * -ENOENT (what names nothing; closest keys on stderr) or -EBUSY (some
 * entry in use: kept, the rest removed). */
int kcache_list(FILE *out);
/* kcache_print_path: the image kernel_resolve_arch picks for an arch
 * guest under engine (hostcaps_probe_guest's), so it names what run and
 * shell with the same --kernel, --arch and --engine boot. */
int kcache_print_path(FILE *out, const char *arg, Ktstr__Arch arch, Ktstr__Engine engine,
		      char *err, size_t errlen);
int kcache_clean(FILE *out, const char *what, bool all, bool dry_run);

#endif
