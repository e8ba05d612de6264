/* Kernel resolution order (paths, keys, versions, version prefixes), the
 * cache entry a fetch produces, cache-first fetch, mirrors, `kernel clean`
 * and `kernel list`. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "kernel_cache.h"
#include "test_env.h"
#include "kernel_fetch.h"

static char tmpdir[64];

static void mktmp(void)
{
	strcpy(tmpdir, "/tmp/ktstr-kcache-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	setenv("KTSTR_CACHE_DIR", tmpdir, 1);
	strcat(tmpdir, "/kernels"); /* kernels live in the cache's kernels/ */
	cr_assert_eq(mkdir(tmpdir, 0755), 0);
	unsetenv("KTSTR_KERNEL");
}

static void rmtmp(void)
{
	char cmd[128];

	*strrchr(tmpdir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

Test(kernel, empty_cache_says_how_to_get_a_kernel)
{
	struct kernel_choice kc;
	char err[1024];

	mktmp();
	cr_assert_eq(kernel_resolve(NULL, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "kernel fetch"), "%s", err);
	cr_assert(strstr(err, tmpdir), "%s", err);
	rmtmp();
}

Test(kernel, explicit_path_then_key_then_env_then_newest_scx)
{
	struct kernel_choice kc;
	char err[1024], a[256], b[256], dev[256];

	mktmp();
	/* two cache entries: one without sched_ext (newer), one with */
	snprintf(a, sizeof(a), "%s/6.12-cloud", tmpdir);
	snprintf(b, sizeof(b), "%s/7.2-cloud", tmpdir);
	snprintf(dev, sizeof(dev), "%s/devdir", tmpdir);
	mkdir(b, 0755);
	put(b, "vmlinux", "elf");
	put(b, "bzImage", "bz");
	put(b, "config", "CONFIG_SCHED_CLASS_EXT=y\n");
	put(b, "metadata", "version=7.2.13\n");
	sleep(1);
	mkdir(a, 0755);
	put(a, "bzImage", "bz");
	put(a, "config", "# CONFIG_SCHED_CLASS_EXT is not set\n");
	mkdir(dev, 0755);
	put(dev, "bzImage", "bz");

	cr_assert_eq(kernel_resolve(NULL, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(kc.image, "7.2-cloud/vmlinux"), "newest sched_ext entry, ELF for QEMU: %s", kc.image);
	cr_assert_eq(kc.scx, 1);
	cr_assert_eq(kernel_resolve(NULL, KTSTR__ENGINE__ENGINE_KVM, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "7.2-cloud/bzImage"), "bzImage for KVM: %s", kc.image);
	cr_assert_eq(kernel_resolve("6.12-cloud", KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "6.12-cloud/bzImage"), "by key: %s", kc.image);
	cr_assert_eq(kc.scx, 0);
	cr_assert_eq(kernel_resolve("7.2.13", KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "7.2-cloud"), "by version: %s", kc.image);
	cr_assert_eq(kernel_resolve(dev, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "devdir/bzImage"), "a directory: %s", kc.image);
	cr_assert_eq(kc.scx, -1, "no config: unknown");
	setenv("KTSTR_KERNEL", "6.12-cloud", 1);
	cr_assert_eq(kernel_resolve(NULL, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "6.12-cloud"), "$KTSTR_KERNEL before the cache default: %s", kc.image);
	cr_assert_eq(kernel_resolve("nope", KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "--kernel nope"), "%s", err);
	unsetenv("KTSTR_KERNEL");
	rmtmp();
}

Test(kernel, install_builds_a_complete_entry_from_package_files)
{
	char tree[256], mod[320], cmd[16384], key[256], p[512];
	char bz[4096], config[4096], vml[4096];
	struct stat st;
	struct kernel_choice kc;
	char err[512];

	if (!test_env_kernel("bzImage", bz, sizeof(bz)) ||
	    !test_env_kernel("config", config, sizeof(config)))
		test_missing("no test kernel (%s and %s; set KTSTR_TEST_KERNEL)", bz, config);
	mktmp();
	/* sid layout: linux-binary puts vmlinuz under usr/lib/modules/<v>/ */
	snprintf(tree, sizeof(tree), "%s/tree", tmpdir);
	snprintf(mod, sizeof(mod), "%s/usr/lib/modules/7.2-test-cloud-amd64", tree);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp '%s' %s/vmlinuz && cp '%s' %s/config", mod, bz,
		 mod, config, mod);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(kcache_install(tree, "sid", "linux-binary-test", false, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2-test-cloud-amd64");
	for (const char *const *f = (const char *const[]){ "bzImage", "vmlinux", "vmlinux.btf",
							   "config", "metadata", NULL };
	     *f; f++) {
		snprintf(p, sizeof(p), "%s/%s/%s", tmpdir, key, *f);
		cr_assert_eq(stat(p, &st), 0, "%s missing", p);
		cr_assert_gt(st.st_size, 0);
	}
	/* The vmlinux extracted from that bzImage is the one beside it. */
	if (test_env_kernel("vmlinux", vml, sizeof(vml))) {
		snprintf(cmd, sizeof(cmd), "cmp -s %s/%s/vmlinux '%s'", tmpdir, key, vml);
		cr_assert_eq(system(cmd), 0, "extracted vmlinux differs from %s", vml);
	}
	cr_assert_eq(kernel_resolve(NULL, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0);
	cr_assert_str_eq(kc.key, key);
	cr_assert_eq(kc.scx, 1);
	rmtmp();
}

/* ---- version prefixes, clean, sizes, cache-first fetch ------------------- */

static void mkentry(const char *key, const char *meta)
{
	char d[512];

	snprintf(d, sizeof(d), "%s/%s", tmpdir, key);
	cr_assert_eq(mkdir(d, 0755), 0, "%s", d);
	put(d, "bzImage", "bz");
	put(d, "vmlinux", "elf");
	put(d, "config", "CONFIG_SCHED_CLASS_EXT=y\n");
	if (meta)
		put(d, "metadata", meta);
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	return !lstat(p, &st);
}

/* The key --kernel arg resolves to (the lock released). */
static const char *key_of(const char *arg)
{
	static char key[256];
	struct kernel_choice kc;
	char err[2048];

	cr_assert_eq(kernel_resolve(arg, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0,
		     "%s: %s", arg, err);
	snprintf(key, sizeof(key), "%s", kc.key);
	kernel_choice_release(&kc);
	return key;
}

Test(kernel, version_order_and_prefix_boundaries)
{
	cr_assert_gt(kver_cmp("7.10", "7.9"), 0);
	cr_assert_gt(kver_cmp("7.2.13+deb14-cloud-amd64", "7.2.9+deb14-cloud-amd64"), 0);
	cr_assert_lt(kver_cmp("6.12.118+deb12-cloud-amd64", "7.2.13+deb14-cloud-amd64"), 0);
	cr_assert_lt(kver_cmp("7.2", "7.2.1"), 0);
	cr_assert_lt(kver_cmp("7.2~rc1", "7.2"), 0, "Debian's pre-release mark");
	cr_assert_gt(kver_cmp("7.2", "7.2~rc1"), 0);
	cr_assert_eq(kver_cmp("7.2.13", "7.2.13"), 0);
	cr_assert(kver_prefix("7.2", "7.2.13+deb14-cloud-amd64"));
	cr_assert(kver_prefix("7.2", "7.2"));
	cr_assert(kver_prefix("7.2.13+deb14", "7.2.13+deb14-cloud-amd64"));
	cr_assert(!kver_prefix("7.2", "7.20.1"), "a number is never cut");
	cr_assert(!kver_prefix("7.2", "7.2rc1"));
	cr_assert(!kver_prefix("7.2.13+deb1", "7.2.13+deb14-cloud-amd64"));
	cr_assert(!kver_prefix("", "7.2"));
}

Test(kernel, a_version_prefix_names_the_newest_kernel_it_matches)
{
	struct kernel_choice kc;
	char err[2048];

	mktmp();
	mkentry("7.2.9+deb14-cloud-amd64", "version=7.2.9+deb14-cloud-amd64\nsuite=sid\n");
	mkentry("7.2.13+deb14-cloud-amd64", "version=7.2.13+deb14-cloud-amd64\nsuite=sid\n");
	mkentry("7.20.1-cloud-amd64", NULL);
	mkentry("6.12.118+deb12-cloud-amd64", "suite=bookworm\n");
	cr_assert_str_eq(key_of("7.2"), "7.2.13+deb14-cloud-amd64", "7.2.13 after 7.2.9");
	cr_assert_str_eq(key_of("7.2.9"), "7.2.9+deb14-cloud-amd64");
	cr_assert_str_eq(key_of("7.2.13+deb14"), "7.2.13+deb14-cloud-amd64");
	cr_assert_str_eq(key_of("7.20"), "7.20.1-cloud-amd64");
	cr_assert_str_eq(key_of("7"), "7.20.1-cloud-amd64", "the newest 7.x");
	cr_assert_str_eq(key_of("6"), "6.12.118+deb12-cloud-amd64");
	cr_assert_str_eq(key_of("7.2.9+deb14-cloud-amd64"), "7.2.9+deb14-cloud-amd64");
	cr_assert_str_eq(key_of(NULL), "7.20.1-cloud-amd64", "default: the newest sched_ext");
	setenv("KTSTR_KERNEL", "7.2", 1);
	cr_assert_str_eq(key_of(NULL), "7.2.13+deb14-cloud-amd64", "$KTSTR_KERNEL takes prefixes");
	unsetenv("KTSTR_KERNEL");

	/* Nothing matches: what, why, the closest keys, what to do. */
	cr_assert_eq(kernel_resolve("7.3", KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "--kernel 7.3"), "%s", err);
	cr_assert(strstr(err, "closest in"), "%s", err);
	cr_assert(strstr(err, "7.2.13+deb14-cloud-amd64"), "%s", err);
	cr_assert(strstr(err, "kernel fetch"), "%s", err);
	cr_assert_eq(kernel_resolve("/no/such/vmlinux", KTSTR__ENGINE__ENGINE_QEMU, &kc, err,
				    sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "No such file"), "a path is not looked up in the cache: %s", err);
	rmtmp();
}

/* Whether some name in the cache root starts with prefix. */
static bool any_named(const char *prefix)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	bool found = false;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		found = found || !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return found;
}

Test(kernel, clean_refuses_an_entry_in_use_and_never_follows_links)
{
	char base[128], p[512], outside[256], *text = NULL;
	struct kernel_choice kc;
	size_t len;
	FILE *f;
	int lock;

	mktmp();
	snprintf(base, sizeof(base), "%.*s", (int)(strrchr(tmpdir, '/') - tmpdir), tmpdir);
	mkentry("7.2.13+deb14-cloud-amd64", NULL);
	mkentry("6.12.118+deb12-cloud-amd64", NULL);
	/* Outside the cache: a file an entry links to, a kernel dir the cache links to. */
	snprintf(outside, sizeof(outside), "%s/outside", base);
	cr_assert_eq(mkdir(outside, 0755), 0);
	put(outside, "precious", "keep me");
	put(outside, "vmlinux", "elf");
	snprintf(p, sizeof(p), "%s/7.2.13+deb14-cloud-amd64/escape", tmpdir);
	cr_assert_eq(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/linked", tmpdir);
	cr_assert_eq(symlink(outside, p), 0);

	/* A run holds 7.2: clean keeps it and says so. */
	cr_assert_eq(kernel_resolve("7.2", KTSTR__ENGINE__ENGINE_QEMU, &kc, p, sizeof(p)), 0, "%s", p);
	cr_assert_geq(kc.lockfd, 0);
	cr_assert_eq(kcache_clean(stdout, "7.2", false, false), -EBUSY);
	cr_assert(exists("7.2.13+deb14-cloud-amd64/vmlinux"));
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(kcache_clean(f, NULL, true, true), 0);
	fclose(f);
	cr_assert(strstr(text, "would keep (in use) 7.2.13+deb14-cloud-amd64"), "%s", text);
	cr_assert(strstr(text, "would remove 6.12.118+deb12-cloud-amd64"), "%s", text);
	free(text);
	cr_assert(exists("6.12.118+deb12-cloud-amd64"), "--dry-run removes nothing");
	kernel_choice_release(&kc);

	cr_assert_eq(kcache_clean(stdout, "7.2", false, false), 0);
	cr_assert(!exists("7.2.13+deb14-cloud-amd64"));
	cr_assert(!any_named(".rm-"), "no leftover of the removal");
	snprintf(p, sizeof(p), "%s/precious", outside);
	cr_assert_eq(access(p, F_OK), 0, "a link inside an entry is removed, not followed");
	cr_assert_eq(kcache_clean(stdout, "linked", false, false), 0);
	cr_assert(!exists("linked"));
	snprintf(p, sizeof(p), "%s/vmlinux", outside);
	cr_assert_eq(access(p, F_OK), 0, "a linked entry loses its link, never its target");
	cr_assert_eq(kcache_clean(stdout, "7.3", false, false), -ENOENT);
	cr_assert(exists("6.12.118+deb12-cloud-amd64"));

	/* Alone, clean takes work areas whose lock is free; --all the rest. */
	snprintf(p, sizeof(p), "%s/.apt-sid/lists/partial", tmpdir);
	cr_assert_eq(mkdir_p(p, 0755), 0);
	put(p, "Packages", "x");
	snprintf(p, sizeof(p), "%s/.tmp-7.2-123", tmpdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/.apt-bookworm", tmpdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	lock = kcache_lock(p, true); /* a fetch at work */
	cr_assert_geq(lock, 0);
	cr_assert_eq(kcache_clean(stdout, NULL, false, false), 0);
	cr_assert(!exists(".apt-sid") && !exists(".tmp-7.2-123"));
	cr_assert(exists(".apt-bookworm") && exists("6.12.118+deb12-cloud-amd64"));
	cr_assert_eq(kcache_clean(stdout, NULL, true, false), 0);
	cr_assert(!exists("6.12.118+deb12-cloud-amd64"));
	cr_assert(exists(".apt-bookworm"));
	close(lock);
	rmtmp();
}

Test(kernel, list_shows_each_entry_size_and_the_work_areas)
{
	char p[512], *text = NULL;
	char *big = calloc(1, 3u << 20);
	size_t len;
	FILE *f;
	int fd;

	mktmp();
	mkentry("7.2.13+deb14-cloud-amd64", "suite=sid\n");
	snprintf(p, sizeof(p), "%s/7.2.13+deb14-cloud-amd64/vmlinux", tmpdir);
	fd = open(p, O_WRONLY | O_TRUNC);
	cr_assert_eq(write_full(fd, big, 3u << 19), 0); /* 1.5 MiB */
	close(fd);
	snprintf(p, sizeof(p), "%s/.apt-sid/cache", tmpdir);
	cr_assert_eq(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/.apt-sid/cache/pkg.deb", tmpdir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	cr_assert_eq(write_full(fd, big, 2u << 20), 0);
	close(fd);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(kcache_list(f), 0);
	fclose(f);
	cr_assert(strstr(text, "7.2.13+deb14-cloud-amd64"), "%s", text);
	cr_assert(strstr(text, " suite sid "), "the suite stays the fifth field: %s", text);
	cr_assert(strstr(text, "size 1.5 MiB"), "%s", text);
	cr_assert(strstr(text, "leftovers: 2.0 MiB"), "%s", text);
	free(text);
	free(big);
	rmtmp();
}

Test(kernel, fetch_answers_from_the_cache_without_the_network)
{
	const char *bad[] = { "http://m/debian\nTrusted: yes" };
	const char *good[] = { "http://deb.debian.org/debian" };
	struct kfetch_opts o = { 0 };
	char key[256], *text = NULL;
	size_t len;
	FILE *f;

	mktmp();
	mkentry("7.2.13+deb14-cloud-amd64", "suite=sid\n");
	mkentry("6.12.118+deb12-cloud-amd64", "suite=bookworm\n");
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2.13+deb14-cloud-amd64", "the suite defaults to sid");
	o.suite = "bookworm";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "6.12.118+deb12-cloud-amd64");
	o.suite = NULL;
	o.version = "7.2.13+deb14";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2.13+deb14-cloud-amd64");
	o.version = "7.2.14+deb14";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), -ENOENT);

	/* A cached kernel: no apt state is even created. */
	o.version = NULL;
	o.mirrors = good;
	o.nmirrors = 1;
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(kernel_fetch(&o, f), 0);
	fclose(f);
	cr_assert_str_eq(text, "7.2.13+deb14-cloud-amd64\n");
	free(text);
	cr_assert(!exists(".apt-sid"));
	o.mirrors = bad;
	cr_assert_eq(kernel_fetch(&o, stdout), -EINVAL, "a mirror is checked before anything");
	rmtmp();
}

Test(kernel, mirror_urls_become_private_sources)
{
	struct strv uris = { 0 };
	struct strbuf sb = { 0 };

	cr_assert(kfetch_mirror_ok("http://deb.debian.org/debian"));
	cr_assert(kfetch_mirror_ok("https://mirror.example/debian/"));
	cr_assert(kfetch_mirror_ok("file:/srv/mirror/debian"));
	cr_assert(!kfetch_mirror_ok("ftp://deb.debian.org/debian"));
	cr_assert(!kfetch_mirror_ok("http://deb.debian.org/debian\nTrusted: yes"),
		  "no field injection into the deb822 file");
	cr_assert(!kfetch_mirror_ok("http://a b"));
	cr_assert(!kfetch_mirror_ok(""));

	cr_assert_eq(strv_push(&uris, "http://m/debian"), 0);
	cr_assert_eq(strv_push(&uris, "http://m/debian-security"), 0);
	cr_assert_eq(kfetch_sources(&uris, "bookworm", &sb), 0);
	cr_assert_str_eq(sb.buf, "Types: deb\nURIs: http://m/debian\nSuites: bookworm bookworm-updates\n"
				 "Components: main\n"
				 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
				 "Types: deb\nURIs: http://m/debian-security\n"
				 "Suites: bookworm-security\nComponents: main\n"
				 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n");
	sb_free(&sb);
	cr_assert_eq(kfetch_sources(&uris, "sid", &sb), 0);
	cr_assert_str_eq(sb.buf, "Types: deb\nURIs: http://m/debian\nSuites: sid\n"
				 "Components: main\n"
				 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
			 "sid has no security suite");
	sb_free(&sb);
	strv_free(&uris);
	cr_assert_eq(strv_push(&uris, "http://m/debian-security"), 0);
	cr_assert_eq(kfetch_sources(&uris, "sid", &sb), -EINVAL, "no archive mirror for sid");
	sb_free(&sb);
	strv_free(&uris);
	cr_assert_eq(strv_push(&uris, "http://m/debian\nX: y"), 0);
	cr_assert_eq(kfetch_sources(&uris, "sid", &sb), -EINVAL);
	sb_free(&sb);
	strv_free(&uris);
}
