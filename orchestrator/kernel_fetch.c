#include "kernel_fetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/strv.h>
#include <ktstr/util.h>

#include "guest_arch.h"
#include "kconfig_need.h"
#include "kernel_cache.h"
#include "kernel_store.h"
#include "pathjoin.h"
#include "proc_run.h"
#include "vmlinux_extract.h"

#define APT_UPDATE_TIMEOUT_MS (15 * 60 * 1000)
#define APT_QUERY_TIMEOUT_MS (2 * 60 * 1000)
#define APT_DOWNLOAD_TIMEOUT_MS (30 * 60 * 1000)
#define SYSTEM_SOURCES "/etc/apt/sources.list.d/debian.sources"
/* The private sources are signed by this (package debian-archive-keyring). */
#define DEBIAN_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define MIRROR_MAX 1024

/* The URIs: lines of the system's deb822 sources (never a hard-coded host):
 * the archive mirror and, when present, the security mirror. */
static int system_debian_uris(struct strv *uris)
{
	char *text = NULL;
	size_t tl;
	int ret = 0;

	if (read_file(SYSTEM_SOURCES, &text, &tl, 1u << 20)) {
		fprintf(stderr, "ktstr-orch kernel fetch: cannot read " SYSTEM_SOURCES " to learn "
				"the Debian mirror (this host has no Debian apt sources): name one "
				"with --mirror, e.g. --mirror http://deb.debian.org/debian (bookworm "
				"also --mirror http://deb.debian.org/debian-security)\n");
		return -ENOENT;
	}
	for (char *p = text; p && *p && !ret; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char uri[MIRROR_MAX];

		if (strncmp(p, "URIs:", 5))
			continue;
		p += 5;
		while (*p == ' ' || *p == '\t')
			p++;
		snprintf(uri, sizeof(uri), "%.*s", (int)strcspn(p, " \t\n"), p);
		if (uri[0] && strv_find(uris, uri) < 0)
			ret = strv_push(uris, uri);
	}
	free(text);
	if (!ret && !uris->n) {
		fprintf(stderr, "ktstr-orch kernel fetch: no URIs: line in " SYSTEM_SOURCES
				": name a Debian mirror with --mirror URL\n");
		ret = -ENOENT;
	}
	return ret;
}

bool kfetch_mirror_ok(const char *uri)
{
	size_t len = strlen(uri);

	if (len >= MIRROR_MAX ||
	    (strncmp(uri, "http://", 7) && strncmp(uri, "https://", 8) && strncmp(uri, "file:/", 6)))
		return false;
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int kfetch_sources(const struct strv *uris, const char *suite, struct strbuf *sb)
{
	bool sid = !strcmp(suite, "sid"), any = false;
	int ret = 0;

	for (size_t i = 0; i < uris->n && !ret; i++) {
		bool sec = strstr(uris->v[i], "security") != NULL;

		if (!kfetch_mirror_ok(uris->v[i]))
			return -EINVAL;
		/* sid has no security suite. */
		if (sec && sid)
			continue;
		ret = sb_printf(sb, "%sTypes: deb\nURIs: %s\n", sb->len ? "\n" : "", uris->v[i]);
		if (!ret && sec)
			ret = sb_printf(sb, "Suites: %s-security\n", suite);
		else if (!ret && sid)
			ret = sb_printf(sb, "Suites: sid\n");
		else if (!ret)
			ret = sb_printf(sb, "Suites: %s %s-updates\n", suite, suite);
		if (!ret)
			ret = sb_printf(sb, "Components: main\nSigned-By: " DEBIAN_KEYRING "\n");
		any = true;
	}
	return ret ? ret : any ? 0 : -EINVAL;
}

/* Create or truncate path with text (util's write_file only writes
 * existing sysfs-style files). */
static int create_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret;

	if (fd < 0)
		return -errno;
	ret = write_full(fd, text, strlen(text));
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

struct apt_ctx {
	char work[PATH_MAX];
	char opt_src[PATH_MAX + 40], opt_lists[PATH_MAX + 40], opt_cache[PATH_MAX + 40];
	char opt_status[PATH_MAX + 40];
	char opt_arch[64], opt_archs[64]; /* the packages' architecture, not the host's */
	int lockfd; /* exclusive lock on work (kernel_cache.h), owned; -1 none */
};

/* apt/apt-cache argv with the private-state options. */
static void apt_argv(struct apt_ctx *a, const char *tool, char **argv, size_t *n)
{
	size_t i = 0;

	argv[i++] = (char *)tool;
	argv[i++] = "-o";
	argv[i++] = a->opt_src;
	argv[i++] = "-o";
	argv[i++] = "Dir::Etc::SourceParts=/dev/null";
	argv[i++] = "-o";
	argv[i++] = a->opt_lists;
	argv[i++] = "-o";
	argv[i++] = a->opt_cache;
	argv[i++] = "-o";
	/* Private pkgcache files need a status file; an empty one is enough. */
	argv[i++] = a->opt_status;
	argv[i++] = "-o";
	/* As root apt would switch to _apt for downloads, which cannot write
	 * our private dirs; as a user this option is a no-op. */
	argv[i++] = geteuid() == 0 ? "APT::Sandbox::User=root" : "Debug::NoLocking=0";
	/* The guest's architecture alone: apt downloads packages of any
	 * architecture it is told, whatever dpkg on this host knows. */
	argv[i++] = "-o";
	argv[i++] = a->opt_arch;
	argv[i++] = "-o";
	argv[i++] = a->opt_archs;
	argv[i++] = "-q";
	*n = i;
}

/* The private apt state of suite for Debian architecture deb (.apt-SUITE
 * for amd64, .apt-SUITE-DEB otherwise: each keeps its own package lists),
 * locked, with its sources on the --mirror URLs, else the system's.
 * a->lockfd is owned by the caller on success (closed on failure). */
static int apt_setup(struct apt_ctx *a, const struct kfetch_opts *o, const char *suite,
		     const char *deb)
{
	char path[PATH_MAX + 64], root[PATH_MAX];
	struct strbuf sb = { 0 };
	struct strv uris = { 0 };
	int ret;

	a->lockfd = -1;
	ret = kcache_root(root, sizeof(root));
	if (ret) {
		fprintf(stderr, "ktstr-orch kernel fetch: no cache directory: set KTSTR_CACHE_DIR or HOME\n");
		return ret;
	}
	if (access(DEBIAN_KEYRING, R_OK)) {
		fprintf(stderr, "ktstr-orch kernel fetch: no " DEBIAN_KEYRING " to check the "
				"mirror's signatures with: install debian-archive-keyring\n");
		return -ENOENT;
	}
	for (size_t i = 0; i < o->nmirrors && !ret; i++)
		ret = strv_push(&uris, o->mirrors[i]);
	if (!ret && !o->nmirrors)
		ret = system_debian_uris(&uris);
	if (ret)
		goto err_uris;
	if (snprintf(a->work, sizeof(a->work), "%s/.apt-%s%s%s", root, suite,
		     strcmp(deb, "amd64") ? "-" : "", strcmp(deb, "amd64") ? deb : "") >=
	    (int)sizeof(a->work)) {
		ret = -ENAMETOOLONG;
		goto err_uris;
	}
	snprintf(path, sizeof(path), "%s/lists/partial", a->work);
	if ((ret = mkdir_p(path, 0755)))
		goto err_mkdir;
	snprintf(path, sizeof(path), "%s/cache/archives/partial", a->work);
	if ((ret = mkdir_p(path, 0755)))
		goto err_mkdir;
	snprintf(a->opt_src, sizeof(a->opt_src), "Dir::Etc::SourceList=%s/ktstr.sources", a->work);
	snprintf(a->opt_lists, sizeof(a->opt_lists), "Dir::State::Lists=%s/lists", a->work);
	snprintf(a->opt_cache, sizeof(a->opt_cache), "Dir::Cache=%s/cache", a->work);
	snprintf(a->opt_status, sizeof(a->opt_status), "Dir::State::status=%s/status", a->work);
	snprintf(a->opt_arch, sizeof(a->opt_arch), "APT::Architecture=%s", deb);
	snprintf(a->opt_archs, sizeof(a->opt_archs), "APT::Architectures::=%s", deb);
	/* Two fetches of one suite would share (and break) this state. */
	a->lockfd = kcache_lock(a->work, true);
	if (a->lockfd < 0) {
		ret = a->lockfd;
		fprintf(stderr, "ktstr-orch kernel fetch: %s: %s\n", a->work,
			ret == -EBUSY ? "another `kernel fetch` of this suite is working there: let it "
					"finish"
				      : strerror(-ret));
		goto err_uris;
	}
	snprintf(path, sizeof(path), "%s/status", a->work);
	if (access(path, F_OK) && (ret = create_file(path, "")))
		goto err_mkdir;
	ret = kfetch_sources(&uris, suite, &sb);
	if (ret == -EINVAL) {
		/* --mirror URLs were checked: the system's are at fault, or only
		 * a security mirror was named for sid. */
		fprintf(stderr, "ktstr-orch kernel fetch: no usable Debian mirror for %s in %s\n",
			suite, o->nmirrors ? "the --mirror URLs" : SYSTEM_SOURCES);
		goto err_lock;
	}
	snprintf(path, sizeof(path), "%s/ktstr.sources", a->work);
	if (!ret)
		ret = create_file(path, sb.buf);
	sb_free(&sb);
	if (ret) {
		fprintf(stderr, "ktstr-orch kernel fetch: cannot write %s: %s\n", path, strerror(-ret));
		goto err_lock;
	}
	strv_free(&uris);
	return 0;
err_mkdir:
	fprintf(stderr, "ktstr-orch kernel fetch: cannot create %s: %s\n", path, strerror(-ret));
err_lock:
	sb_free(&sb);
	if (a->lockfd >= 0)
		close(a->lockfd);
	a->lockfd = -1;
err_uris:
	strv_free(&uris);
	return ret;
}

static int apt_run(struct apt_ctx *a, const char *tool, const char *const *args, int timeout,
		   struct strbuf *out, int quiet)
{
	char *argv[64];
	size_t n;

	apt_argv(a, tool, argv, &n);
	for (; *args; args++) {
		if (n == ARRAY_SIZE(argv) - 1)
			return -E2BIG;
		argv[n++] = (char *)*args;
	}
	argv[n] = NULL;
	return proc_run(argv, timeout, out, quiet);
}

/* Depends: names of pkg (first alternative of each, version constraints
 * dropped), appended to out. */
static int apt_depends(struct apt_ctx *a, const char *pkg, struct strv *out)
{
	const char *args[] = { "show", "--no-all-versions", pkg, NULL };
	struct strbuf sb = { 0 };
	int ret = apt_run(a, "apt-cache", args, APT_QUERY_TIMEOUT_MS, &sb, 1);
	char *line;

	if (ret) {
		sb_free(&sb);
		return ret > 0 ? -ENOENT : ret;
	}
	line = sb.buf ? strstr(sb.buf, "\nDepends:") : NULL;
	if (!line && sb.buf && !strncmp(sb.buf, "Depends:", 8))
		line = sb.buf - 1;
	if (line) {
		char *end = strchr(line + 1, '\n'), *p = line + 9;

		if (end)
			*end = '\0';
		while (p && *p && !ret) {
			char name[256];
			size_t l;

			p += strspn(p, " ,");
			l = strcspn(p, " ,|(");
			snprintf(name, sizeof(name), "%.*s", (int)l, p);
			if (name[0])
				ret = strv_push(out, name);
			p = strchr(p, ',');
		}
	}
	sb_free(&sb);
	return ret;
}

/* The kernel packages behind the meta package: walk Depends two levels
 * deep, keeping linux-* cloud-DEB packages (image/binary/base). */
static int resolve_packages(struct apt_ctx *a, const char *meta, const char *deb,
			    struct strv *pkgs)
{
	struct strv level = { 0 };
	char flavour[32];
	int ret = strv_push(&level, meta);

	snprintf(flavour, sizeof(flavour), "cloud-%s", deb);
	for (int depth = 0; depth < 3 && !ret && level.n; depth++) {
		struct strv next = { 0 };

		for (size_t i = 0; i < level.n && !ret; i++) {
			if (strv_find(pkgs, level.v[i]) >= 0)
				continue;
			if (depth > 0 && (strncmp(level.v[i], "linux-", 6) ||
					  !strstr(level.v[i], flavour) ||
					  strstr(level.v[i], "-dbg") || strstr(level.v[i], "-modules-")))
				continue;
			ret = strv_push(pkgs, level.v[i]);
			if (!ret)
				ret = apt_depends(a, level.v[i], &next);
		}
		strv_free(&level);
		level = next;
	}
	strv_free(&level);
	return ret;
}

static int find_named(const char *dir, const char *prefix, char *out, size_t outlen, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = -ENOENT;

	if (!d)
		return -ENOENT;
	while (ret && (de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' || path_join(p, sizeof(p), dir, de->d_name, NULL) ||
		    lstat(p, &st))
			continue;
		if (S_ISREG(st.st_mode) && !strncmp(de->d_name, prefix, strlen(prefix))) {
			ret = snprintf(out, outlen, "%s", p) < (int)outlen ? 0 : -ENAMETOOLONG;
		} else if (S_ISDIR(st.st_mode) && depth > 0) {
			ret = find_named(p, prefix, out, outlen, depth - 1);
		}
	}
	closedir(d);
	return ret;
}

int kfetch_tree_files(const char *tree, const char *packages, char *image, size_t ilen,
		      char *config, size_t clen, char *key, size_t keylen)
{
	const char *base;

	/* usr/lib/modules/<v>/vmlinuz (sid linux-binary) or boot/vmlinuz-<v>. */
	if (find_named(tree, "vmlinuz", image, ilen, 4)) {
		fprintf(stderr, "ktstr-orch kernel fetch: no vmlinuz in the extracted packages (%s)\n",
			packages);
		return -ENOENT;
	}
	if (find_named(tree, "config", config, clen, 4)) {
		fprintf(stderr, "ktstr-orch kernel fetch: no kernel config in the extracted packages "
				"(%s)\n", packages);
		return -ENOENT;
	}
	/* The key is the kernel release: from vmlinuz-<v> or the modules dir. */
	base = strrchr(image, '/') + 1;
	if (!strncmp(base, "vmlinuz-", 8)) {
		snprintf(key, keylen, "%s", base + 8);
	} else {
		char tmpd[PATH_MAX];
		const char *s;

		snprintf(tmpd, sizeof(tmpd), "%s", image);
		*strrchr(tmpd, '/') = '\0';
		s = strrchr(tmpd, '/');
		snprintf(key, keylen, "%s", s ? s + 1 : "kernel");
	}
	return 0;
}

int kfetch_metadata(struct strbuf *sb, const char *key, const char *suite, const char *packages,
		    const char *config, const char *missing, const char *arch)
{
	int ret = sb_printf(sb, "key=%s\nversion=%s\nsource=debian\nsuite=%s\npackages=%s\n"
				"sched_ext=%s\nmissing_config=%s\nfetched=%lld\n",
			    key, key, suite, packages,
			    kconfig_has(config, "SCHED_CLASS_EXT") ? "yes" : "no", missing,
			    (long long)time(NULL));

	/* x86_64 entries say nothing: those of before arm64 read the same. */
	if (!ret && arch && strcmp(arch, "x86_64"))
		ret = sb_printf(sb, "arch=%s\n", arch);
	return ret;
}

int kcache_install(const char *tree, const char *suite, const char *packages, bool force,
		   char *key, size_t keylen)
{
	char image[PATH_MAX], config[PATH_MAX];
	char err[512], missing[512];
	char *img = NULL, *cfg = NULL;
	uint8_t *vml = NULL, *btf = NULL;
	size_t imglen, cfglen, vmllen = 0, btflen = 0;
	struct strbuf meta = { 0 };
	int ret, nmiss;

	if ((ret = kfetch_tree_files(tree, packages, image, sizeof(image), config, sizeof(config),
				     key, keylen)))
		return ret;
	if ((ret = read_file(image, &img, &imglen, KTSTR_KERNEL_IMAGE_MAX)) ||
	    (ret = read_file(config, &cfg, &cfglen, 16u << 20))) {
		fprintf(stderr, "ktstr-orch kernel fetch: cannot read %s: %s\n", img ? config : image,
			strerror(-ret));
		goto out;
	}
	nmiss = kconfig_validate(cfg, missing, sizeof(missing));
	if (nmiss == 1 && strstr(missing, "SCHED_CLASS_EXT"))
		kwarn("kernel %s has no sched_ext (CONFIG_SCHED_CLASS_EXT): fine for EEVDF tests, "
		      "sched_ext schedulers will be skipped", key);
	else if (nmiss)
		kwarn("kernel %s lacks %s: tests that need them will fail", key, missing);
	ret = bzimage_extract_vmlinux((const uint8_t *)img, imglen, &vml, &vmllen, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ktstr-orch kernel fetch: %s: %s\n", image, err);
		goto out;
	}
	if (vmlinux_extract_btf(vml, vmllen, &btf, &btflen, err, sizeof(err)))
		kwarn("%s: %s (schedulers that need BTF will not load)", key, err);
	if ((ret = kfetch_metadata(&meta, key, suite, packages, cfg, missing, NULL)))
		goto out;
	{
		struct kstore_in si = { .who = "kernel fetch", .key = key, .bzimage = img,
					.bzlen = imglen, .vmlinux = vml, .vmllen = vmllen,
					.config = cfg, .cfglen = cfglen, .btf = btf,
					.btflen = btflen, .metadata = meta.buf, .force = force };

		ret = kcache_store(&si);
	}
out:
	sb_free(&meta);
	free(img);
	free(cfg);
	free(vml);
	free(btf);
	return ret;
}

int kfetch_cached(const struct kfetch_opts *o, char *key, size_t keylen)
{
	const char *suite = o->suite ? o->suite : "sid", *arch;
	char root[PATH_MAX], want[300];
	struct kcache_entry *v;
	Ktstr__Arch ga;
	size_t n;
	int ret;

	if (guest_arch_parse(o->arch, &ga))
		return -EINVAL;
	arch = guest_arch_name(ga);
	if ((ret = kcache_root(root, sizeof(root))) || (ret = kcache_scan(root, &v, &n)))
		return ret;
	/* The meta package linux-image-X-cloud-amd64 is release X-cloud-amd64;
	 * without a version the newest fetched from the suite was its current
	 * kernel when fetched (--force asks again). */
	if (o->version)
		snprintf(want, sizeof(want), "%s-cloud-%s", o->version, guest_arch_deb(ga));
	ret = -ENOENT;
	for (size_t i = 0; i < n && ret; i++) {
		/* Another architecture's kernel is never this one's newest. */
		if (strcmp(v[i].arch, arch) ||
		    (o->version ? strcmp(v[i].key, want) : strcmp(v[i].suite, suite)))
			continue;
		snprintf(key, keylen, "%s", v[i].key);
		ret = 0;
	}
	free(v);
	return ret;
}

/* dpkg-deb -x every .deb in debs into tree. */
static int extract_debs(const char *debs, const char *tree)
{
	struct dirent *de;
	DIR *d = opendir(debs);
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char deb[PATH_MAX];
		char *xargv[] = { "dpkg-deb", "-x", deb, (char *)tree, NULL };

		if (!strstr(de->d_name, ".deb") || path_join(deb, sizeof(deb), debs, de->d_name, NULL))
			continue;
		ret = proc_run(xargv, APT_QUERY_TIMEOUT_MS, NULL, 0);
		if (ret)
			fprintf(stderr, "ktstr-orch kernel fetch: dpkg-deb -x %s failed\n", deb);
		ret = ret < 0 ? ret : ret ? -EIO : 0;
	}
	closedir(d);
	return ret;
}

/* The network part, in the locked private apt state a. */
static int fetch_with_apt(struct apt_ctx *a, const struct kfetch_opts *o, const char *suite,
			  Ktstr__Arch ga, FILE *out)
{
	const char *deb = guest_arch_deb(ga);
	const char *update[] = { "update", NULL };
	char meta[256], tree[PATH_MAX + 16], debs[PATH_MAX + 8], key[256], cwd[PATH_MAX];
	const char *args[24] = { "download" };
	struct strv pkgs = { 0 };
	char *pkglist = NULL;
	size_t n = 1;
	int ret;

	snprintf(debs, sizeof(debs), "%s/debs", a->work);
	snprintf(tree, sizeof(tree), "%s/tree", a->work);
	kinfo("apt-get update (%s, private state in %s)", suite, a->work);
	ret = apt_run(a, "apt-get", update, APT_UPDATE_TIMEOUT_MS, NULL, 0);
	if (ret) {
		fprintf(stderr, "ktstr-orch kernel fetch: apt-get update failed (%s): check the "
				"network and the mirror (%s)\n",
			ret < 0 ? strerror(-ret) : "non-zero exit",
			o->nmirrors ? "--mirror" : SYSTEM_SOURCES);
		return ret < 0 ? ret : -EIO;
	}
	/* bookworm's amd64 kernel is 6.12 (the one x86 tests use without
	 * sched_ext); its arm64 one the suite's own 6.1. */
	if (o->version)
		snprintf(meta, sizeof(meta), "linux-image-%s-cloud-%s", o->version, deb);
	else if (ga == KTSTR__ARCH__ARCH_X86_64 && strcmp(suite, "sid"))
		snprintf(meta, sizeof(meta), "linux-image-6.12-cloud-amd64");
	else
		snprintf(meta, sizeof(meta), "linux-image-cloud-%s", deb);
	ret = resolve_packages(a, meta, deb, &pkgs);
	if (ret == -ENOENT && o->version) {
		strv_free(&pkgs);
		strncat(meta, "-unsigned", sizeof(meta) - strlen(meta) - 1);
		ret = resolve_packages(a, meta, deb, &pkgs);
	}
	if (ret || pkgs.n < 2) {
		fprintf(stderr, "ktstr-orch kernel fetch: cannot resolve %s in %s%s\n", meta, suite,
			o->version ? " (is --kernel-version the ABI as in package names, e.g. "
				     "7.2.1+deb14?)" : "");
		ret = ret ? ret : -ENOENT;
		goto out;
	}
	pkglist = strv_join(&pkgs, " ");
	kinfo("kernel packages: %s", pkglist ? pkglist : "?");
	/* apt-get download writes into the current directory. */
	for (size_t i = 1; i < pkgs.n && n < 23; i++)
		args[n++] = pkgs.v[i];
	args[n] = NULL;
	kcache_rmtree(debs);
	if ((ret = mkdir_p(debs, 0755)) || !getcwd(cwd, sizeof(cwd)) || chdir(debs)) {
		ret = ret ? ret : -errno;
		goto out;
	}
	ret = apt_run(a, "apt-get", args, APT_DOWNLOAD_TIMEOUT_MS, NULL, 0);
	if (chdir(cwd))
		kwarn("cannot return to %s", cwd);
	if (ret) {
		fprintf(stderr, "ktstr-orch kernel fetch: apt-get download failed\n");
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	kcache_rmtree(tree);
	if (!(ret = mkdir_p(tree, 0755)) && !(ret = extract_debs(debs, tree)))
		ret = (ga == KTSTR__ARCH__ARCH_ARM64 ? kcache_install_arm64 : kcache_install)(
			tree, suite, pkglist ? pkglist : "", o->force, key, sizeof(key));
	if (!ret)
		fprintf(out, "%s\n", key);
out:
	/* The entry holds what a run needs: the packages are tens of MiB. */
	kcache_rmtree(tree);
	kcache_rmtree(debs);
	free(pkglist);
	strv_free(&pkgs);
	return ret;
}

int kernel_fetch(const struct kfetch_opts *o, FILE *out)
{
	const char *suite = o->suite ? o->suite : "sid";
	struct apt_ctx a;
	Ktstr__Arch ga;
	char key[256];
	int ret;

	if (strcmp(suite, "sid") && strcmp(suite, "bookworm")) {
		fprintf(stderr, "ktstr-orch kernel fetch: --suite takes sid or bookworm\n");
		return -EINVAL;
	}
	if (guest_arch_parse(o->arch, &ga)) {
		fprintf(stderr, "ktstr-orch kernel fetch: --arch '%s': ktstr's guests are x86_64 or "
				"arm64 (alias aarch64)\n", o->arch);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->nmirrors; i++) {
		if (!kfetch_mirror_ok(o->mirrors[i])) {
			fprintf(stderr, "ktstr-orch kernel fetch: --mirror '%s': not an http://, "
					"https:// or file:/ URL without spaces (e.g. "
					"http://deb.debian.org/debian)\n",
				o->mirrors[i]);
			return -EINVAL;
		}
	}
	/* Cache first: no network, no apt, no sources needed. */
	if (!o->force && !kfetch_cached(o, key, sizeof(key))) {
		kinfo("kernel %s is already cached (%s): nothing fetched; --force asks the mirror "
		      "for %s and replaces it",
		      key, o->version ? "--kernel-version" : suite,
		      o->version ? "that version" : "the suite's current kernel");
		fprintf(out, "%s\n", key);
		return 0;
	}
	if ((ret = apt_setup(&a, o, suite, guest_arch_deb(ga))))
		return ret;
	ret = fetch_with_apt(&a, o, suite, ga, out);
	close(a.lockfd);
	return ret;
}
