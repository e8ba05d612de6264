#include "kernel_cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/memfd.h>
#include <ktstr/util.h>

#include "pathjoin.h"

#define KCONFIG_MAX (4u << 20)

int ktstr_cache_base(char *buf, size_t len)
{
	const char *e = getenv("KTSTR_CACHE_DIR");

	if (e && *e)
		return snprintf(buf, len, "%s", e) < (int)len ? 0 : -ENAMETOOLONG;
	e = getenv("XDG_CACHE_HOME");
	if (e && *e)
		return snprintf(buf, len, "%s/ktstr", e) < (int)len ? 0 : -ENAMETOOLONG;
	e = getenv("HOME");
	if (e && *e)
		return snprintf(buf, len, "%s/.cache/ktstr", e) < (int)len ? 0 : -ENAMETOOLONG;
	return -ENOENT;
}

/* Kernels live in their own subdirectory of the ktstr cache, beside the
 * builder's images/ and the scheduler builds' schedulers/. */
int kcache_root(char *buf, size_t len)
{
	char base[PATH_MAX];
	int r = ktstr_cache_base(base, sizeof(base));

	if (r)
		return r;
	return path_join(buf, len, base, "kernels", NULL);
}

int kconfig_has(const char *text, const char *opt)
{
	size_t ol = strlen(opt);

	for (const char *p = text; p && *p;) {
		if (!strncmp(p, "CONFIG_", 7) && !strncmp(p + 7, opt, ol) && p[7 + ol] == '=' &&
		    p[8 + ol] == 'y')
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

int kconfig_file_scx(const char *path)
{
	char *text = NULL;
	size_t len;
	int r;

	if (!path[0] || read_file(path, &text, &len, KCONFIG_MAX))
		return -1;
	r = kconfig_has(text, "SCHED_CLASS_EXT");
	free(text);
	return r;
}

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* Fill kc from a directory holding vmlinux and/or bzImage (a cache entry
 * or a dev kernel dir). */
static int from_dir(const char *dir, Ktstr__Engine engine, struct kernel_choice *kc)
{
	const char *order_q[] = { "vmlinux", "bzImage", "vmlinuz" };
	const char *order_k[] = { "bzImage", "vmlinuz", "vmlinux" };
	const char **order = engine == KTSTR__ENGINE__ENGINE_KVM ? order_k : order_q;

	for (size_t i = 0; i < 3; i++) {
		if (path_join(kc->image, sizeof(kc->image), dir, order[i], NULL))
			return -ENAMETOOLONG;
		if (is_file(kc->image)) {
			path_join(kc->config, sizeof(kc->config), dir, "config", NULL);
			if (!is_file(kc->config))
				kc->config[0] = '\0';
			kc->scx = kconfig_file_scx(kc->config);
			return 0;
		}
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

/* A cache entry is a directory holding a kernel image; anything else in
 * the root (another tool's cache, a temp dir) is not one. */
static bool is_entry(const char *entry)
{
	char p[PATH_MAX];

	return (!path_join(p, sizeof(p), entry, "vmlinux", NULL) && is_file(p)) ||
	       (!path_join(p, sizeof(p), entry, "bzImage", NULL) && is_file(p));
}

static int meta_get(const char *entry, const char *key, char *val, size_t len)
{
	char path[PATH_MAX], *text = NULL;
	size_t tl, kl = strlen(key);
	int r = -ENOENT;

	if (path_join(path, sizeof(path), entry, "metadata", NULL))
		return -ENAMETOOLONG;
	if (read_file(path, &text, &tl, 65536))
		return -ENOENT;
	for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			char *e = strchr(p, '\n');

			snprintf(val, len, "%.*s", e ? (int)(e - p - kl - 1) : (int)strlen(p + kl + 1),
				 p + kl + 1);
			r = 0;
			break;
		}
	}
	free(text);
	return r;
}

/* Find a cache entry by key or version; with want NULL the newest entry
 * (sched_ext ones first). */
static int from_cache(const char *want, Ktstr__Engine engine, struct kernel_choice *kc)
{
	char root[PATH_MAX], best[PATH_MAX] = "";
	int best_scx = -2;
	time_t best_t = 0;
	DIR *d;
	struct dirent *de;

	if (kcache_root(root, sizeof(root)) || !(d = opendir(root)))
		return -ENOENT;
	while ((de = readdir(d))) {
		char entry[PATH_MAX], ver[256] = "", cfg[PATH_MAX];
		struct stat st;
		int scx;

		if (de->d_name[0] == '.')
			continue;
		if (path_join(entry, sizeof(entry), root, de->d_name, NULL))
			continue;
		if (stat(entry, &st) || !S_ISDIR(st.st_mode) || !is_entry(entry))
			continue;
		meta_get(entry, "version", ver, sizeof(ver));
		if (want && strcmp(de->d_name, want) && strcmp(ver, want))
			continue;
		path_join(cfg, sizeof(cfg), entry, "config", NULL);
		scx = kconfig_file_scx(cfg);
		if (!best[0] || scx > best_scx || (scx == best_scx && st.st_mtime > best_t)) {
			memcpy(best, entry, sizeof(best));
			best_scx = scx;
			best_t = st.st_mtime;
		}
	}
	closedir(d);
	if (!best[0] || from_dir(best, engine, kc))
		return -ENOENT;
	snprintf(kc->key, sizeof(kc->key), "%s", strrchr(best, '/') + 1);
	return 0;
}

static int resolve_one(const char *arg, Ktstr__Engine engine, struct kernel_choice *kc)
{
	struct stat st;

	if (!stat(arg, &st)) {
		if (S_ISDIR(st.st_mode))
			return from_dir(arg, engine, kc);
		from_file(arg, kc);
		return 0;
	}
	return from_cache(arg, engine, kc);
}

int kernel_resolve(const char *arg, Ktstr__Engine engine, struct kernel_choice *kc, char *err,
		   size_t errlen)
{
	const char *env = getenv("KTSTR_KERNEL");
	char root[PATH_MAX] = "(no cache directory: HOME unset)";

	memset(kc, 0, sizeof(*kc));
	kc->scx = -1;
	if (arg) {
		snprintf(kc->origin, sizeof(kc->origin), "--kernel");
		if (!resolve_one(arg, engine, kc))
			return 0;
		kcache_root(root, sizeof(root));
		snprintf(err, errlen,
			 "--kernel %s: not a kernel image, a directory holding vmlinux/bzImage, nor "
			 "a version or key in the kernel cache %s (see `ktstr-orch kernel list`)",
			 arg, root);
		return -ENOENT;
	}
	if (env && *env) {
		snprintf(kc->origin, sizeof(kc->origin), "$KTSTR_KERNEL");
		if (!resolve_one(env, engine, kc))
			return 0;
		snprintf(err, errlen, "KTSTR_KERNEL=%s: not a kernel image, directory, version or "
				      "cache key",
			 env);
		return -ENOENT;
	}
	snprintf(kc->origin, sizeof(kc->origin), "cache");
	if (!from_cache(NULL, engine, kc))
		return 0;
	kcache_root(root, sizeof(root));
	snprintf(err, errlen,
		 "no kernel: the cache %s is empty and neither --kernel nor KTSTR_KERNEL is set. "
		 "Run `ktstr-orch kernel fetch` (Debian sid cloud kernel with sched_ext) or pass "
		 "--kernel /path/to/vmlinux-or-bzImage",
		 root);
	return -ENOENT;
}

int kcache_list(FILE *out)
{
	char root[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	if (kcache_root(root, sizeof(root))) {
		fprintf(stderr, "ktstr-orch: no kernel cache: set KTSTR_CACHE_DIR or HOME\n");
		return -ENOENT;
	}
	d = opendir(root);
	if (d) {
		while ((de = readdir(d))) {
			char entry[PATH_MAX], ver[128] = "?", suite[64] = "?", cfg[PATH_MAX];
			int scx;

			if (de->d_name[0] == '.')
				continue;
			if (path_join(entry, sizeof(entry), root, de->d_name, NULL) || !is_entry(entry))
				continue;
			meta_get(entry, "version", ver, sizeof(ver));
			meta_get(entry, "suite", suite, sizeof(suite));
			path_join(cfg, sizeof(cfg), entry, "config", NULL);
			scx = kconfig_file_scx(cfg);
			fprintf(out, "%-40s version %-24s suite %-9s sched_ext %s\n", de->d_name, ver,
				suite, scx == 1 ? "yes" : scx == 0 ? "no" : "unknown");
			n++;
		}
		closedir(d);
	}
	if (!n)
		fprintf(out, "(no cached kernels in %s: run `ktstr-orch kernel fetch`)\n", root);
	return 0;
}

int kcache_print_path(FILE *out, const char *arg, Ktstr__Engine engine, char *err, size_t errlen)
{
	struct kernel_choice kc;
	int r = kernel_resolve(arg, engine, &kc, err, errlen);

	if (!r)
		fprintf(out, "%s\n", kc.image);
	return r;
}

int kernel_fd_for_vms(const char *path, Ktstr__Engine engine, int *kfd, char *err,
		      size_t errlen)
{
	bool readable = !access(path, R_OK);
	int fd;

	if (readable && engine != KTSTR__ENGINE__ENGINE_QEMU)
		return 0;
	fd = memfd_sealed_copy("ktstr-kernel", *kfd, KTSTR_KERNEL_IMAGE_MAX);
	if (fd < 0) {
		snprintf(err, errlen,
			 "kernel %s is not readable by uid %u (whom ktstr-orch runs as after "
			 "dropping root) and copying it from the file opened as root failed: %s; "
			 "make it readable (chmod a+r) or pass --user",
			 path, (unsigned)getuid(), strerror(-fd));
		return fd;
	}
	if (!readable)
		kinfo("kernel %s is readable only before the privilege drop: the VMs get a "
		      "sealed copy of it", path);
	close(*kfd);
	*kfd = fd;
	return 0;
}
