/* --kernel resolution: the one function behind run, list, shell and
 * `kernel path` (kernel_cache.h, docs/kernels.md "Which kernel a run
 * uses"). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include <ktstr/arch.h>

#include "kernel_arch.h"
#include "kernel_cache.h"
#include "pathjoin.h"

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* Fill kc from a directory holding vmlinux and/or bzImage: a cache entry,
 * a directory of kernels, or a kernel build tree (in place or O=), whose
 * bzImage is arch/x86/boot/bzImage and config .config. A build tree's
 * vmlinux still carries its debug info: past KTSTR_KERNEL_IMAGE_MAX (what
 * the VMs accept) QEMU boots its bzImage instead. */
static int from_dir(const char *dir, bool arm64, Ktstr__Engine engine, struct kernel_choice *kc)
{
	const char *order_q[] = { "vmlinux", "bzImage", "vmlinuz", "arch/x86/boot/bzImage" };
	const char *order_k[] = { "bzImage", "vmlinuz", "arch/x86/boot/bzImage", "vmlinux" };
	/* arm64: the uncompressed Image, which both engines boot. */
	const char *order_a[] = { "Image", "arch/arm64/boot/Image" };
	const char **order = arm64 ? order_a : engine == KTSTR__ENGINE__ENGINE_KVM ? order_k : order_q;
	size_t norder = arm64 ? ARRAY_SIZE(order_a) : ARRAY_SIZE(order_q);
	const char *configs[] = { "config", ".config" };

	for (size_t i = 0; i < norder; i++) {
		struct stat st;

		if (path_join(kc->image, sizeof(kc->image), dir, order[i], NULL))
			return -ENAMETOOLONG;
		if (stat(kc->image, &st) || !S_ISREG(st.st_mode))
			continue;
		if (!strcmp(order[i], "vmlinux") && st.st_size > (off_t)KTSTR_KERNEL_IMAGE_MAX &&
		    engine != KTSTR__ENGINE__ENGINE_KVM)
			continue;
		kc->config[0] = '\0';
		for (size_t j = 0; j < ARRAY_SIZE(configs) && !kc->config[0]; j++) {
			path_join(kc->config, sizeof(kc->config), dir, configs[j], NULL);
			if (!is_file(kc->config))
				kc->config[0] = '\0';
		}
		kc->scx = kconfig_file_scx(kc->config);
		return 0;
	}
	kc->image[0] = '\0';
	return -ENOENT;
}

/* A plain image file: look for its config beside it ("config", or
 * /boot/config-V for /boot/vmlinuz-V). */
static void from_file(const char *path, struct kernel_choice *kc)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *dash;

	snprintf(kc->image, sizeof(kc->image), "%s", path);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	path_join(kc->config, sizeof(kc->config), dir, "config", NULL);
	if (!is_file(kc->config) && slash && (dash = strchr(slash, '-')))
		path_join(kc->config, sizeof(kc->config), dir, "config", dash);
	if (!is_file(kc->config))
		kc->config[0] = '\0';
	kc->scx = kconfig_file_scx(kc->config);
}

/* Keep the entries of arch in v[0..*n) (their order kept); say whether
 * want named an entry of another architecture (other, its arch). */
static void keep_arch(struct kcache_entry *v, size_t *n, const char *arch, const char *want,
		      char *other, size_t olen)
{
	size_t k = 0;

	other[0] = '\0';
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(v[i].arch, arch)) {
			v[k++] = v[i];
			continue;
		}
		if (want && !other[0] &&
		    (!strcmp(v[i].key, want) || !strcmp(v[i].version, want) ||
		     kver_prefix(want, v[i].key) || kver_prefix(want, v[i].version)))
			snprintf(other, olen, "%s (%s)", v[i].key, v[i].arch);
	}
	*n = k;
}

/* The cache entry want names (kcache_select; NULL: the newest with
 * sched_ext, else the newest) among arch's entries, locked shared into
 * kc->lockfd. what starts every message ("--kernel 7.3"). */
static int from_cache(const char *want, const char *what, const char *arch,
		      Ktstr__Engine engine, struct kernel_choice *kc, char *err, size_t errlen)
{
	char root[PATH_MAX], entry[PATH_MAX], closest[1024], other[300];
	struct kcache_entry *v = NULL;
	bool *sel = NULL;
	size_t n = 0, nsel, pick = 0;
	int ret;

	if (kcache_root(root, sizeof(root))) {
		snprintf(err, errlen, "%s: no kernel cache (set KTSTR_CACHE_DIR or HOME), or pass "
				      "--kernel /path/to/vmlinux-or-bzImage", what);
		return -ENOENT;
	}
	if ((ret = kcache_scan(root, &v, &n))) {
		snprintf(err, errlen, "%s: cannot read the kernel cache %s: %s", what, root,
			 strerror(-ret));
		return ret;
	}
	keep_arch(v, &n, arch, want, other, sizeof(other));
	/* None of arch cached: whatever want named, the fix is that arch's
	 * fetch (an x86 kernel the user named is not one). */
	if (!n && (other[0] || strcmp(arch, "x86_64"))) {
		snprintf(err, errlen,
			 "%s: the kernel cache %s has no %s kernel%s%s%s. Run `ktstr-orch kernel "
			 "fetch%s%s` (Debian sid's %s cloud kernel)",
			 what, root, arch, other[0] ? " (the cached kernel " : "", other,
			 other[0] ? " is not for these guests)" : "",
			 strcmp(arch, "x86_64") ? " --arch " : "", strcmp(arch, "x86_64") ? arch : "",
			 arch);
		ret = -ENOENT;
		goto out;
	}
	if (!n) {
		snprintf(err, errlen,
			 "%s: the kernel cache %s is empty. Run `ktstr-orch kernel fetch` (Debian sid "
			 "cloud kernel with sched_ext) or pass --kernel /path/to/vmlinux-or-bzImage",
			 what, root);
		ret = -ENOENT;
		goto out;
	}
	if (want) {
		sel = calloc(n ? n : 1, sizeof(*sel));
		if (!sel) {
			snprintf(err, errlen, "%s: out of memory", what);
			ret = -ENOMEM;
			goto out;
		}
		nsel = kcache_select(v, n, want, sel);
		if (!nsel && other[0]) {
			snprintf(err, errlen, "%s: the cached kernel %s is not for %s guests "
					      "(`ktstr-orch kernel list` shows each kernel's arch)",
				 what, other, arch);
			ret = -ENOENT;
			goto out;
		}
		if (!nsel) {
			kcache_closest(v, n, want, closest, sizeof(closest));
			snprintf(err, errlen,
				 "%s: not a file or directory, and no cached kernel has it as key, "
				 "version or version prefix (7.2 names the newest 7.2.x); closest in "
				 "%s: %s. Pass one of those, or fetch it: `ktstr-orch kernel fetch "
				 "--kernel-version ABI` (e.g. 7.2.13+deb14)",
				 what, root, closest);
			ret = -ENOENT;
			goto out;
		}
		while (!sel[pick])
			pick++;
		if (nsel > 1)
			kinfo("%s matches %zu cached kernels: using the newest, %s (a full key picks "
			      "another; `ktstr-orch kernel list`)",
			      what, nsel, v[pick].key);
	} else {
		while (pick < n && v[pick].scx != 1)
			pick++;
		if (pick == n)
			pick = 0;
	}
	if (path_join(entry, sizeof(entry), root, v[pick].key, NULL) ||
	    from_dir(entry, !strcmp(arch, "arm64"), engine, kc)) {
		snprintf(err, errlen, "%s: the cache entry %s/%s holds no kernel image", what, root,
			 v[pick].key);
		ret = -ENOENT;
		goto out;
	}
	kc->lockfd = kcache_lock(entry, false);
	if (kc->lockfd < 0) {
		ret = kc->lockfd == -EBUSY ? -EBUSY : -ENOENT;
		kc->lockfd = -1;
		snprintf(err, errlen,
			 "%s: the cache entry %s is being removed (`ktstr-orch kernel clean`) or "
			 "replaced (`kernel fetch --force`): try again once that is done",
			 what, entry);
		goto out;
	}
	snprintf(kc->key, sizeof(kc->key), "%s", v[pick].key);
out:
	free(sel);
	free(v);
	return ret;
}

static int resolve_one(const char *arg, const char *what, const char *arch,
		       Ktstr__Engine engine, struct kernel_choice *kc, char *err, size_t errlen)
{
	struct stat st;

	if (!stat(arg, &st)) {
		if (!S_ISDIR(st.st_mode)) {
			from_file(arg, kc);
			return 0;
		}
		if (!from_dir(arg, !strcmp(arch, "arm64"), engine, kc))
			return 0;
		snprintf(err, errlen, "%s: the directory holds no %s", what,
			 strcmp(arch, "arm64") ? "vmlinux, bzImage nor vmlinuz" : "arm64 Image");
		return -ENOENT;
	}
	/* Keys and versions have no '/': this was meant as a path. */
	if (strchr(arg, '/')) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -ENOENT;
	}
	return from_cache(arg, what, arch, engine, kc, err, errlen);
}

int kernel_resolve(const char *arg, Ktstr__Engine engine, struct kernel_choice *kc, char *err,
		   size_t errlen)
{
	return kernel_resolve_arch(arg, NULL, engine, kc, err, errlen);
}

/* The resolution without the image header check. */
static int resolve_any(const char *arg, const char *arch, Ktstr__Engine engine,
		       struct kernel_choice *kc, char *err, size_t errlen)
{
	const char *env = getenv("KTSTR_KERNEL");
	char what[320];

	memset(kc, 0, sizeof(*kc));
	if (!arch)
		arch = "x86_64";
	kc->scx = -1;
	kc->lockfd = -1;
	if (arg) {
		snprintf(kc->origin, sizeof(kc->origin), "--kernel");
		snprintf(what, sizeof(what), "--kernel %s", arg);
		return resolve_one(arg, what, arch, engine, kc, err, errlen);
	}
	if (env && *env) {
		snprintf(kc->origin, sizeof(kc->origin), "$KTSTR_KERNEL");
		snprintf(what, sizeof(what), "KTSTR_KERNEL=%s", env);
		return resolve_one(env, what, arch, engine, kc, err, errlen);
	}
	snprintf(kc->origin, sizeof(kc->origin), "cache");
	return from_cache(NULL, "no kernel (neither --kernel nor KTSTR_KERNEL is set)", arch, engine,
			  kc, err, errlen);
}

int kernel_resolve_arch(const char *arg, const char *arch, Ktstr__Engine engine,
			struct kernel_choice *kc, char *err, size_t errlen)
{
	Ktstr__Arch a;
	int ret;

	if (!arch)
		arch = "x86_64";
	if (ktstr_arch_parse(arch, &a)) {
		snprintf(err, errlen, "unknown guest architecture '%s'", arch);
		return -EINVAL;
	}
	ret = resolve_any(arg, arch, engine, kc, err, errlen);
	/* Whatever named it, an image whose header says another
	 * architecture is refused here, before anything starts. */
	if (!ret)
		ret = kernel_check_arch(kc->image, a, err, errlen);
	if (ret)
		kernel_choice_release(kc);
	return ret;
}

void kernel_choice_release(struct kernel_choice *kc)
{
	if (kc->lockfd >= 0)
		close(kc->lockfd);
	kc->lockfd = -1;
}

int kcache_print_path(FILE *out, const char *arg, Ktstr__Arch arch, Ktstr__Engine engine,
		      char *err, size_t errlen)
{
	struct kernel_choice kc;
	int r = kernel_resolve_arch(arg, ktstr_arch_name(arch), engine, &kc, err, errlen);

	if (!r)
		fprintf(out, "%s\n", kc.image);
	kernel_choice_release(&kc);
	return r;
}
