/* The kernel cache: where it is, its entries in version order, their
 * locks, sizes and removal (kernel_cache.h). --kernel resolution is
 * kernel_resolve.c. */
#include "kernel_cache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/memfd.h>
#include <ktstr/util.h>

#include "pathjoin.h"

#define KCONFIG_MAX (4u << 20)
#define KMETA_MAX 65536
/* How deep removal and size walks go: entries are flat, the private apt
 * state three levels deep (cache/archives/partial), a kernel build's work
 * area as deep as a kernel tree (about 12 levels; 64 is the tree walk's
 * own bound, kbuild_src.h). */
#define KCACHE_TREE_DEPTH 66
/* Work areas: private apt state, an entry being assembled, one being
 * removed, a kernel build's clone and objects (kernel_cache.h). */
static const char *const work_prefixes[] = { ".apt-", ".tmp-", ".rm-", ".kbuild-" };

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


int kver_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			size_t la, lb;
			int c;

			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			la = strspn(a, "0123456789");
			lb = strspn(b, "0123456789");
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c < 0 ? -1 : 1;
			a += la;
			b += lb;
			continue;
		}
		if (*a == *b) {
			a++;
			b++;
			continue;
		}
		if (*a == '~' || !*a)
			return *b == '~' ? 1 : -1;
		if (*b == '~' || !*b)
			return 1;
		return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
	}
	return 0;
}

bool kver_prefix(const char *want, const char *s)
{
	size_t wl = strlen(want);

	return wl && !strncmp(s, want, wl) && !isalnum((unsigned char)s[wl]);
}

/* A cache entry is a directory holding a kernel image (x86's vmlinux or
 * bzImage, arm64's Image); anything else in the root (another tool's
 * cache, a temp dir) is not one. */
static bool is_entry(const char *entry)
{
	static const char *const images[] = { "vmlinux", "bzImage", "Image" };
	char p[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(images); i++)
		if (!path_join(p, sizeof(p), entry, images[i], NULL) && !stat(p, &st) &&
		    S_ISREG(st.st_mode))
			return true;
	return false;
}

/* The value of key= in the entry's metadata into val; -ENOENT if none. */
static int meta_get(const char *entry, const char *key, char *val, size_t len)
{
	char path[PATH_MAX], *text = NULL;
	size_t tl, kl = strlen(key);
	int r = -ENOENT;

	if (path_join(path, sizeof(path), entry, "metadata", NULL))
		return -ENAMETOOLONG;
	if (read_file(path, &text, &tl, KMETA_MAX))
		return -ENOENT;
	for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			snprintf(val, len, "%.*s", (int)strcspn(p + kl + 1, "\n"), p + kl + 1);
			r = 0;
			break;
		}
	}
	free(text);
	return r;
}

/* Newest first; equal versions by key, then bytes, so the order never
 * depends on readdir's. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct kcache_entry *a = pa, *b = pb;
	int c = kver_cmp(b->version, a->version);

	if (!c)
		c = kver_cmp(b->key, a->key);
	return c ? c : strcmp(a->key, b->key);
}

int kcache_scan(const char *root, struct kcache_entry **v, size_t *n)
{
	struct kcache_entry *e = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	DIR *d = opendir(root);
	int ret = 0;

	*v = NULL;
	*n = 0;
	if (!d)
		return 0; /* nothing fetched yet */
	while ((de = readdir(d))) {
		char entry[PATH_MAX], cfg[PATH_MAX], src[16] = "";
		struct kcache_entry *k;
		struct stat st;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(e->key) ||
		    path_join(entry, sizeof(entry), root, de->d_name, NULL) || stat(entry, &st) ||
		    !S_ISDIR(st.st_mode) || !is_entry(entry))
			continue;
		if ((ret = KTSTR_GROW(e, &cap, cnt + 1, 8)))
			break;
		k = &e[cnt++];
		memset(k, 0, sizeof(*k));
		snprintf(k->key, sizeof(k->key), "%s", de->d_name);
		if (meta_get(entry, "version", k->version, sizeof(k->version)) || !k->version[0])
			snprintf(k->version, sizeof(k->version), "%s", k->key);
		meta_get(entry, "suite", k->suite, sizeof(k->suite));
		/* Entries from before arm64 have no arch: they are x86_64. */
		if (meta_get(entry, "arch", k->arch, sizeof(k->arch)) || !k->arch[0])
			snprintf(k->arch, sizeof(k->arch), "x86_64");
		/* A built kernel has no Debian suite: `kernel list` says "build" in
		 * that column, and no fetch takes it for its suite's kernel. */
		if (!k->suite[0] && !meta_get(entry, "source", src, sizeof(src)) &&
		    !strcmp(src, "build"))
			snprintf(k->suite, sizeof(k->suite), "build");
		k->scx = path_join(cfg, sizeof(cfg), entry, "config", NULL) ? -1 : kconfig_file_scx(cfg);
	}
	closedir(d);
	if (ret) {
		free(e);
		return ret;
	}
	if (cnt)
		qsort(e, cnt, sizeof(*e), entry_cmp);
	*v = e;
	*n = cnt;
	return 0;
}

size_t kcache_select(const struct kcache_entry *v, size_t n, const char *want, bool *sel)
{
	size_t cnt = 0;

	/* Pass 0 keys, 1 versions, 2 prefixes: the first that names any wins,
	 * so a full key never also picks the keys it is a prefix of. */
	for (int pass = 0; pass < 3 && !cnt; pass++) {
		for (size_t i = 0; i < n; i++) {
			sel[i] = pass == 0   ? !strcmp(v[i].key, want)
				 : pass == 1 ? !strcmp(v[i].version, want)
					     : kver_prefix(want, v[i].key) ||
						       kver_prefix(want, v[i].version);
			cnt += sel[i];
		}
	}
	return cnt;
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	return i;
}

void kcache_closest(const struct kcache_entry *v, size_t n, const char *want, char *buf,
		    size_t len)
{
	size_t picked[4], np = 0, off = 0;

	if (len)
		buf[0] = '\0';
	while (np < 4 && np < n) {
		size_t best = n, best_score = 0;

		for (size_t i = 0; i < n; i++) {
			size_t s = common_prefix(want, v[i].key), sv = common_prefix(want, v[i].version);
			bool taken = false;

			for (size_t j = 0; j < np; j++)
				taken = taken || picked[j] == i;
			if (sv > s)
				s = sv;
			/* Strictly better only: among equals the first, the newest. */
			if (!taken && (best == n || s > best_score)) {
				best = i;
				best_score = s;
			}
		}
		picked[np++] = best;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						v[best].key);
	}
}

int kcache_lock(const char *path, bool exclusive)
{
	struct stat a, b;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto err_close;
	}
	/* A remover renames an entry away before emptying it: a lock won
	 * after that guards a directory nobody will find again. */
	if (fstat(fd, &a) || stat(path, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		ret = -ENOENT;
		goto err_close;
	}
	return fd;
err_close:
	close(fd);
	return ret;
}

/* Bytes of the regular files under the directory dfd (borrowed), links
 * not followed. */
static unsigned long long tree_bytes(int dfd, int depth)
{
	unsigned long long sum = 0;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISREG(st.st_mode))
			sum += (unsigned long long)st.st_size;
		else if (S_ISDIR(st.st_mode) && depth > 0 &&
			 (sub = openat(dfd, de->d_name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			sum += tree_bytes(sub, depth - 1);
			close(sub);
		}
	}
	closedir(d);
	return sum;
}

/* The size of root/name: an entry's link is followed (its kernel is what
 * a run boots), nothing below it is. */
static unsigned long long entry_bytes(const char *root, const char *name)
{
	char p[PATH_MAX];
	unsigned long long b;
	int fd;

	if (path_join(p, sizeof(p), root, name, NULL) ||
	    (fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	b = tree_bytes(fd, KCACHE_TREE_DEPTH);
	close(fd);
	return b;
}

static const char *fmt_size(unsigned long long b, char *buf, size_t len)
{
	if (b >= 1ull << 30)
		snprintf(buf, len, "%.1f GiB", (double)b / (1ull << 30));
	else
		snprintf(buf, len, "%.1f MiB", (double)b / (1ull << 20));
	return buf;
}

/* Empty the directory dfd (borrowed) without following links: a link is
 * unlinked, never what it points to. Passes repeat until one finds
 * nothing, as readdir may miss names while the directory changes. */
static int rm_contents(int dfd, int depth)
{
	bool again = true;
	int ret = 0;

	while (again && !ret) {
		int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct dirent *de;
		DIR *d;

		again = false;
		if (fd < 0)
			return -errno;
		d = fdopendir(fd);
		if (!d) {
			ret = -errno;
			close(fd);
			return ret;
		}
		while (!ret && (de = readdir(d))) {
			struct stat st;
			int sub;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
				ret = errno == ENOENT ? 0 : -errno;
				continue;
			}
			again = true;
			if (!S_ISDIR(st.st_mode)) {
				ret = unlinkat(dfd, de->d_name, 0) ? -errno : 0;
				continue;
			}
			if (depth <= 0) {
				ret = -ELOOP;
				break;
			}
			sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				ret = -errno;
				break;
			}
			ret = rm_contents(sub, depth - 1);
			close(sub);
			if (!ret && unlinkat(dfd, de->d_name, AT_REMOVEDIR))
				ret = -errno;
		}
		closedir(d);
	}
	return ret;
}

int kcache_remove(const char *root, const char *name)
{
	char hidden[NAME_MAX + 1];
	struct stat st, locked;
	int rootfd, fd = -1, ret;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* A link to a kernel directory elsewhere: only the link goes,
		 * and not while a run holds what it points to. */
		fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
			ret = -EBUSY;
			goto out;
		}
		ret = unlinkat(rootfd, name, 0) ? -errno : 0;
		goto out;
	}
	fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out;
	}
	/* Another remover may have taken the name away between our open and
	 * our lock: only the directory still found there is ours to remove. */
	if (fstat(fd, &locked) || fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) ||
	    st.st_dev != locked.st_dev || st.st_ino != locked.st_ino) {
		ret = -ENOENT;
		goto out;
	}
	/* Out of sight first (readers skip dot names): nobody resolves a half
	 * removed entry, and a removal cut short leaves a work area that the
	 * next `kernel clean` finishes. */
	if (name[0] != '.' &&
	    snprintf(hidden, sizeof(hidden), ".rm-%d-%s", (int)getpid(), name) < (int)sizeof(hidden)) {
		if (renameat(rootfd, name, rootfd, hidden)) {
			ret = -errno;
			goto out;
		}
		name = hidden;
	}
	ret = rm_contents(fd, KCACHE_TREE_DEPTH);
	if (!ret && unlinkat(rootfd, name, AT_REMOVEDIR))
		ret = -errno;
out:
	if (fd >= 0)
		close(fd); /* drops the lock */
	close(rootfd);
	return ret;
}

int kcache_rmtree(const char *path)
{
	const char *slash = strrchr(path, '/'), *name;
	char dir[PATH_MAX];
	struct stat st;
	int dfd, fd, ret;

	if (!slash || !slash[1] ||
	    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return -EINVAL;
	name = slash + 1;
	dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		ret = errno == ENOENT ? 0 : -errno;
	else if (!S_ISDIR(st.st_mode))
		ret = unlinkat(dfd, name, 0) ? -errno : 0;
	else if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		ret = -errno;
	else {
		ret = rm_contents(fd, KCACHE_TREE_DEPTH);
		close(fd);
		if (!ret && unlinkat(dfd, name, AT_REMOVEDIR))
			ret = -errno;
	}
	close(dfd);
	return ret;
}

static bool is_work_area(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(work_prefixes); i++)
		if (!strncmp(name, work_prefixes[i], strlen(work_prefixes[i])))
			return true;
	return false;
}

/* The work areas under root (sizes into *bytes): removed, or with
 * dry_run named, when their lock is free; every one in use is skipped. */
static int clean_work_areas(const char *root, FILE *out, bool dry_run, bool list_only,
			    unsigned long long *bytes)
{
	struct dirent *de;
	DIR *d = opendir(root);
	int ret = 0;

	*bytes = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX], sz[32];
		unsigned long long b;
		int fd, r;

		if (!is_work_area(de->d_name) || path_join(p, sizeof(p), root, de->d_name, NULL))
			continue;
		b = entry_bytes(root, de->d_name);
		*bytes += b;
		if (list_only)
			continue;
		if (dry_run) {
			fd = kcache_lock(p, true);
			fprintf(out, "%s %s (%s)\n", fd == -EBUSY ? "would keep (in use)" : "would remove",
				de->d_name, fmt_size(b, sz, sizeof(sz)));
			if (fd >= 0)
				close(fd);
			continue;
		}
		r = kcache_remove(root, de->d_name);
		if (!r)
			fprintf(out, "removed %s (%s)\n", de->d_name, fmt_size(b, sz, sizeof(sz)));
		else if (r != -EBUSY && r != -ENOENT)
			ret = r;
	}
	closedir(d);
	return ret;
}

int kcache_list(FILE *out)
{
	char root[PATH_MAX], sz[32];
	struct kcache_entry *v = NULL;
	unsigned long long total = 0, work = 0;
	size_t n = 0;
	int ret;

	if (kcache_root(root, sizeof(root))) {
		fprintf(stderr, "ktstr-orch: no kernel cache: set KTSTR_CACHE_DIR or HOME\n");
		return -ENOENT;
	}
	if ((ret = kcache_scan(root, &v, &n))) {
		fprintf(stderr, "ktstr-orch kernel list: %s: %s\n", root, strerror(-ret));
		return ret;
	}
	/* scripts/run-tests reads the suite as the fifth field: new columns
	 * go at the end. */
	for (size_t i = 0; i < n; i++) {
		unsigned long long b = entry_bytes(root, v[i].key);

		total += b;
		fprintf(out, "%-40s version %-28s suite %-9s sched_ext %-7s size %-9s arch %s\n",
			v[i].key, v[i].version, v[i].suite[0] ? v[i].suite : "?",
			v[i].scx == 1	? "yes"
			: v[i].scx == 0 ? "no"
					: "unknown",
			fmt_size(b, sz, sizeof(sz)), v[i].arch);
	}
	if (!n)
		fprintf(out, "(no cached kernels in %s: run `ktstr-orch kernel fetch`)\n", root);
	else
		fprintf(out, "%zu kernel%s, %s in %s\n", n, n == 1 ? "" : "s",
			fmt_size(total, sz, sizeof(sz)), root);
	clean_work_areas(root, out, false, true, &work);
	if (work)
		fprintf(out, "private apt state and leftovers: %s (`ktstr-orch kernel clean` removes "
			     "them)\n",
			fmt_size(work, sz, sizeof(sz)));
	free(v);
	return 0;
}

int kcache_clean(FILE *out, const char *what, bool all, bool dry_run)
{
	char root[PATH_MAX], closest[1024], sz[32], p[PATH_MAX];
	struct kcache_entry *v = NULL;
	unsigned long long work;
	bool *sel = NULL;
	size_t n = 0, busy = 0;
	int ret;

	if (kcache_root(root, sizeof(root))) {
		fprintf(stderr, "ktstr-orch kernel clean: no kernel cache: set KTSTR_CACHE_DIR or "
				"HOME\n");
		return -ENOENT;
	}
	if ((ret = kcache_scan(root, &v, &n)))
		goto out;
	sel = calloc(n ? n : 1, sizeof(*sel));
	if (!sel) {
		ret = -ENOMEM;
		goto out;
	}
	if (all) {
		for (size_t i = 0; i < n; i++)
			sel[i] = true;
	} else if (what && !kcache_select(v, n, what, sel)) {
		kcache_closest(v, n, what, closest, sizeof(closest));
		fprintf(stderr,
			"ktstr-orch kernel clean: %s names no cached kernel in %s (neither a key, a "
			"version nor a version prefix such as 7.2 of one); %s%s\n",
			what, root, closest[0] ? "cached: " : "the cache is empty", closest);
		ret = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int r;

		if (!sel[i])
			continue;
		/* A linked entry frees nothing: its kernel stays where it is. */
		if (path_join(p, sizeof(p), root, v[i].key, NULL) || lstat(p, &st) ||
		    S_ISLNK(st.st_mode))
			snprintf(sz, sizeof(sz), "a link; its target stays");
		else
			fmt_size(entry_bytes(root, v[i].key), sz, sizeof(sz));
		if (dry_run) {
			r = kcache_lock(p, true);
			fprintf(out, "%s %s (%s)\n", r == -EBUSY ? "would keep (in use)" : "would remove",
				v[i].key, sz);
			if (r >= 0)
				close(r);
			continue;
		}
		r = kcache_remove(root, v[i].key);
		if (!r) {
			fprintf(out, "removed %s (%s)\n", v[i].key, sz);
		} else if (r == -EBUSY) {
			fprintf(stderr, "ktstr-orch kernel clean: %s is in use (a run, shell or "
					"`kernel path` holds its lock): kept; clean again once it ends\n",
				v[i].key);
			busy++;
		} else if (r != -ENOENT) { /* gone meanwhile: what was asked */
			fprintf(stderr, "ktstr-orch kernel clean: cannot remove %s/%s: %s\n", root,
				v[i].key, strerror(-r));
			ret = r;
		}
	}
	/* Work areas only when no entry was named: cleaning one kernel
	 * leaves a fetch's state alone. */
	if (all || !what) {
		int r = clean_work_areas(root, out, dry_run, false, &work);

		if (r && !ret) {
			fprintf(stderr, "ktstr-orch kernel clean: cannot remove a work area in %s: %s\n",
				root, strerror(-r));
			ret = r;
		}
	}
	if (!ret && busy)
		ret = -EBUSY;
out:
	free(sel);
	free(v);
	return ret;
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
