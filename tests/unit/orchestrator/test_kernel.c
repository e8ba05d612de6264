/* Kernel resolution order and the cache entry a fetch produces. */
#include <criterion/criterion.h>
#include <errno.h>
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
