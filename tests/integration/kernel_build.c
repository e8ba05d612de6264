/* `ktstr-orch kernel build` end to end on a stand-in tree
 * (data/fake-kbuild: a Makefile with kbuild's targets whose "build" copies
 * the test kernel), so the command's own behaviour is proven in seconds:
 * config assembly, what Kconfig dropped, the entry and its metadata, the
 * cache answering, git identity and dirty trees, --git, --clean and
 * --force, a failing build and a build past --timeout. The real kernel is
 * scripts/kernel-build-lane's (part of `make test`). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

struct kb_env {
	struct suite_env e;
	char tree[1100], cache[1100], margs[2600];
};

static void kb_init(struct kb_env *k)
{
	char cmd[4096], bz[1024], *out = NULL;

	suite_env_init(&k->e, false);
	if (vmtest_kernel("bzImage", bz, sizeof(bz)))
		test_missing("no bzImage (set KTSTR_TEST_BZIMAGE)");
	if (system("git --version >/dev/null 2>&1") || system("objcopy --version >/dev/null 2>&1"))
		test_missing("git or objcopy missing (scripts/install-deps installs them)");
	snprintf(k->tree, sizeof(k->tree), "%s/tree", k->e.tmp);
	snprintf(k->cache, sizeof(k->cache), "%s/cache", k->e.tmp);
	snprintf(cmd, sizeof(cmd), "cp -r %s/tests/integration/data/fake-kbuild %s", k->e.src,
		 k->tree);
	cr_assert_eq(vmtest_sh(cmd, 30000, &out), 0, "%s", out ? out : "");
	free(out);
	snprintf(k->margs, sizeof(k->margs),
		 "--make-arg FAKE_BZIMAGE=%s --make-arg FAKE_VMLINUX=%s", bz, k->e.kernel);
}

/* `ktstr-orch kernel ARGS` with the test's cache; stdout in *out, stderr
 * in *err (both malloc'd). Returns the exit status. */
static int kb(const struct kb_env *k, const char *args, char **out, char **err)
{
	char cmd[12288], errf[1200], rcf[1200], *rc = NULL;
	size_t n;
	int status;

	snprintf(errf, sizeof(errf), "%s/stderr", k->e.tmp);
	snprintf(rcf, sizeof(rcf), "%s/rc", k->e.tmp);
	/* The shell reports the command's exit status in rcf (vmtest_sh says
	 * only whether it was 0). */
	snprintf(cmd, sizeof(cmd), "KTSTR_CACHE_DIR=%s %s kernel %s 2>%s; echo $? >%s", k->cache,
		 k->e.orch, args, errf, rcf);
	cr_assert_eq(vmtest_sh(cmd, 120000, out), 0, "the shell failed: %s", cmd);
	cr_assert_eq(read_file(rcf, &rc, &n, 64), 0);
	status = atoi(rc);
	free(rc);
	if (err && read_file(errf, err, &n, 1u << 20))
		*err = strdup("");
	return status;
}

static int put(const char *path, const char *text)
{
	return write_file_create(path, text, strlen(text), 0644);
}

static void chomp(char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
}

static char *meta(const struct kb_env *k, const char *key)
{
	char p[2048], *text = NULL;
	size_t n;

	snprintf(p, sizeof(p), "%s/kernels/%s/metadata", k->cache, key);
	cr_assert_eq(read_file(p, &text, &n, 1u << 16), 0, "no metadata at %s", p);
	return text;
}

static void git(const struct kb_env *k, const char *args)
{
	char cmd[2048], *out = NULL;

	snprintf(cmd, sizeof(cmd),
		 "git -C %s -c user.name=t -c user.email=t@example.org -c init.defaultBranch=main %s",
		 k->tree, args);
	cr_assert_eq(vmtest_sh(cmd, 30000, &out), 0, "%s: %s", cmd, out ? out : "");
	free(out);
}

Test(kernel_build, builds_caches_and_then_answers_from_the_cache, .timeout = 300)
{
	struct kb_env k;
	char args[8192], *out = NULL, *err = NULL, *m, p[2048], *cfg = NULL, key[512];
	size_t n;

	kb_init(&k);
	snprintf(args, sizeof(args), "build --source %s --base tinyconfig %s", k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	chomp(out);
	snprintf(key, sizeof(key), "%s", out);
	cr_assert_eq(strncmp(key, "9.9.9-fake+src.", 15), 0, "the key: %s", key);
	assert_has(err, "steps"); /* the progress line counted kbuild's steps */
	assert_has(err, "cached 9.9.9-fake+src.");
	m = meta(&k, key);
	assert_has(m, "source=build\n");
	assert_has(m, "ident=tree:");
	assert_has(m, "base=tinyconfig\n");
	assert_has(m, "make_args=FAKE_BZIMAGE=");
	assert_has(m, "sched_ext=yes\n");
	free(m);
	/* the config has the base, what ktstr adds, and the base's choice of
	 * SCHED_CLASS_EXT overridden */
	snprintf(p, sizeof(p), "%s/kernels/%s/config", k.cache, key);
	cr_assert_eq(read_file(p, &cfg, &n, 1u << 20), 0);
	assert_has(cfg, "CONFIG_FAKE_BASE_tinyconfig=y\n");
	assert_has(cfg, "CONFIG_PVH=y\n");
	assert_has(cfg, "CONFIG_SCHED_CLASS_EXT=y\n");
	cr_assert_null(strstr(cfg, "# CONFIG_SCHED_CLASS_EXT is not set"), "%s", cfg);
	free(cfg);
	snprintf(p, sizeof(p), "%s/kernels/%s/vmlinux.btf", k.cache, key);
	cr_assert_eq(access(p, F_OK), 0, "the entry has BTF");
	free(out);
	free(err);

	/* Same source, same config: the cache answers. */
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	chomp(out);
	cr_assert_str_eq(out, key);
	assert_has(err, "nothing to build");
	free(out);
	free(err);
	cr_assert_eq(kb(&k, "list", &out, &err), 0);
	assert_has(out, key);
	assert_has(out, "suite build");
	free(out);
	free(err);

	/* --force builds again; --clean empties the build directory first. */
	snprintf(args, sizeof(args), "build --source %s --base tinyconfig %s --force --clean",
		 k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	assert_has(err, "--clean:");
	assert_has(err, "built in");
	chomp(out);
	cr_assert_str_eq(out, key, "same source and config: same key");
	free(out);
	free(err);

	/* A changed file of a plain tree is another identity. */
	snprintf(p, sizeof(p), "%s/Kconfig", k.tree);
	cr_assert_eq(put(p, "mainmenu \"fake 2\"\n"), 0);
	snprintf(args, sizeof(args), "build --source %s --base tinyconfig %s", k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	chomp(out);
	cr_assert_str_neq(out, key, "another content, another key");
	cr_assert_eq(strncmp(strstr(out, ".cfg."), strstr(key, ".cfg."), 13), 0,
		     "same config hash: %s %s", out, key);
	free(out);
	free(err);
}

Test(kernel_build, what_kconfig_drops_and_bad_fragments_are_usage_errors, .timeout = 120)
{
	struct kb_env k;
	char args[8192], frag[1200], *out = NULL, *err = NULL;

	kb_init(&k);
	snprintf(frag, sizeof(frag), "%s/frag.config", k.e.tmp);
	cr_assert_eq(put(frag, "CONFIG_FAKE_DROP=y\nCONFIG_HZ_1000=y\n"), 0);
	snprintf(args, sizeof(args), "build --source %s --config %s %s", k.tree, frag, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 2, "%s", err);
	assert_has(err, "1 option asked for did not survive Kconfig");
	assert_has(err, "CONFIG_FAKE_DROP=y (set by ");
	assert_has(err, "frag.config:1) became: not set");
	free(out);
	free(err);

	cr_assert_eq(put(frag, "CONFIG_X=on\n"), 0);
	cr_assert_eq(kb(&k, args, &out, &err), 2, "%s", err);
	assert_has(err, "frag.config:1: CONFIG_X: the value must be");
	free(out);
	free(err);

	snprintf(args, sizeof(args), "build --source %s/arch %s", k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 2, "%s", err);
	assert_has(err, "not a Linux source tree");
	free(out);
	free(err);

	cr_assert_eq(kb(&k, "build --git 'ext::sh -c id' --ref main", &out, &err), 2, "%s", err);
	assert_has(err, "not a URL ktstr fetches");
	free(out);
	free(err);
}

Test(kernel_build, a_dirty_git_tree_is_built_but_not_cached, .timeout = 300)
{
	struct kb_env k;
	char args[8192], p[2048], *out = NULL, *err = NULL, *path = NULL, *m, key[512];
	struct stat st;

	kb_init(&k);
	git(&k, "init -q");
	git(&k, "add -A");
	git(&k, "commit -q -m fake");
	snprintf(args, sizeof(args), "build --source %s %s", k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	chomp(out);
	snprintf(key, sizeof(key), "%s", out);
	m = meta(&k, key);
	assert_has(m, "ident=git:");
	assert_has(m, "base=defconfig\n");
	free(m);
	free(out);
	free(err);

	/* An uncommitted change: built, not cached; the build directory is
	 * what to boot, and it resolves as a kernel. */
	snprintf(p, sizeof(p), "%s/local.c", k.tree);
	cr_assert_eq(put(p, "int x;\n"), 0);
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	chomp(out);
	assert_has(err, "1 uncommitted change");
	assert_has(err, "not cached");
	cr_assert(strstr(out, "/.kbuild-") && strstr(out, "/build"), "a build dir: %s", out);
	snprintf(p, sizeof(p), "%s/kernels", k.cache);
	snprintf(args, sizeof(args), "path --kernel %s --engine kvm", out);
	free(err);
	cr_assert_eq(kb(&k, args, &path, &err), 0, "%s", err);
	assert_has(path, "arch/x86/boot/bzImage");
	free(path);
	free(out);
	free(err);
	cr_assert_eq(kb(&k, "list", &out, &err), 0);
	cr_assert_eq(stat(p, &st), 0);
	{
		/* still one entry: the dirty build added none */
		unsigned entries = 0;
		for (char *s = strstr(out, "suite build"); s; s = strstr(s + 1, "suite build"))
			entries++;
		cr_assert_eq(entries, 1, "%s", out);
	}
	free(out);
	free(err);
}

Test(kernel_build, a_git_ref_is_fetched_built_and_cached, .timeout = 300)
{
	struct kb_env k;
	char args[8192], *out = NULL, *err = NULL, *m, key[512];

	kb_init(&k);
	git(&k, "init -q");
	git(&k, "add -A");
	git(&k, "commit -q -m fake");
	git(&k, "tag v9.9.9");
	snprintf(args, sizeof(args), "build --git file://%s --ref v9.9.9 %s", k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 0, "%s", err);
	chomp(out);
	snprintf(key, sizeof(key), "%s", out);
	m = meta(&k, key);
	assert_has(m, "ident=git:");
	assert_has(m, "git_ref=v9.9.9\n");
	assert_has(m, "/.kbuild-");
	free(m);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "build --git file://%s --ref no-such-ref %s", k.tree, k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 3, "%s", err);
	assert_has(err, "git fetch");
	free(out);
	free(err);
}

Test(kernel_build, a_failed_or_hung_build_says_why_and_leaves_nothing, .timeout = 120)
{
	struct kb_env k;
	char args[8192], *out = NULL, *err = NULL, pidf[1200], *pids = NULL;
	unsigned secs;
	uint64_t t0;
	size_t n;

	kb_init(&k);
	snprintf(args, sizeof(args), "build --source %s %s --make-arg FAKE_FAIL=1", k.tree,
		 k.margs);
	cr_assert_eq(kb(&k, args, &out, &err), 3, "%s", err);
	assert_has(err, "make bzImage failed after 2 steps");
	assert_has(err, "  | ext.c:1: error: fake failure");
	assert_has(err, "ktstr-build.log");
	free(out);
	free(err);

	/* Past --timeout: make's whole process group goes (the sleep too).
	 * The sleep's length is this test's own, so that a "sleep 300" of
	 * anything else running on the host is not taken for ours. */
	snprintf(pidf, sizeof(pidf), "%s/sleepers", k.e.tmp);
	secs = 3000 + (unsigned)getpid() % 5000;
	snprintf(args, sizeof(args), "build --source %s %s --make-arg FAKE_SLEEP=%u --timeout 4",
		 k.tree, k.margs, secs);
	t0 = ktstr_now_ms();
	cr_assert_eq(kb(&k, args, &out, &err), 3, "%s", err);
	cr_assert_lt(ktstr_now_ms() - t0, 60000, "bounded by --timeout");
	assert_has(err, "ran past --timeout");
	snprintf(args, sizeof(args), "pgrep -f 'slee[p] %u' > %s; true", secs, pidf);
	free(out);
	cr_assert_eq(vmtest_sh(args, 10000, &out), 0);
	cr_assert_eq(read_file(pidf, &pids, &n, 4096), 0);
	cr_assert_eq(n, 0, "the build's sleep outlived it: %s", pids);
	free(pids);
	free(out);
	free(err);
	cr_assert_eq(kb(&k, "list", &out, &err), 0);
	cr_assert_null(strstr(out, "suite build"), "nothing cached: %s", out);
	free(out);
	free(err);
}
