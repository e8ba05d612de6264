/* `ktstr-orch kernel fetch --arch arm64` end to end against the Debian
 * mirror of this host's apt sources, into a cache of its own: sid's arm64
 * cloud kernel becomes an entry whose Image the worker's header parser
 * takes, whose config has sched_ext, whose vmlinux.btf (cut out of the
 * Image) libbpf parses with struct sched_ext_ops in it, whose metadata and
 * `kernel list` line say arm64, whose Image `kernel path --arch arm64`
 * names; a second fetch is answered offline (its mirror does not exist), and x86 lookups never take the arm64 entry. */
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "arm64-guest/arm64_image.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* A mirror nothing listens on: a fetch that needs the network fails. */
#define NO_MIRROR "--mirror http://127.0.0.1:9/debian"

struct kf_env {
	char orch[1024], tmp[1024], cache[1100];
};

/* `ktstr-orch kernel ARGS` with the test's cache: stdout in *out, stderr in
 * *err (malloc'd). Returns the exit status. */
static int kf(const struct kf_env *k, const char *args, char **out, char **err)
{
	char cmd[8192], errf[1200], outf[1200];
	size_t n;
	int rc;

	snprintf(errf, sizeof(errf), "%s/stderr", k->tmp);
	snprintf(outf, sizeof(outf), "%s/stdout", k->tmp);
	snprintf(cmd, sizeof(cmd), "KTSTR_CACHE_DIR=%s %s kernel %s >%s 2>%s", k->cache, k->orch,
		 args, outf, errf);
	rc = sh_status(cmd, 30 * 60 * 1000, NULL);
	if (read_file(outf, out, &n, 1u << 20))
		*out = strdup("");
	if (read_file(errf, err, &n, 1u << 20))
		*err = strdup("");
	return rc;
}

static char *entry_file(const struct kf_env *k, const char *key, const char *name, size_t *len)
{
	char p[1600], *text = NULL;

	snprintf(p, sizeof(p), "%s/kernels/%s/%s", k->cache, key, name);
	cr_assert_eq(read_file(p, &text, len, 512u << 20), 0, "%s missing", p);
	return text;
}

Test(arm64_kernel_fetch, sid_kernel_into_the_cache_then_offline, .timeout = 1800)
{
	struct arm64_image_info info;
	struct kf_env k;
	char *out = NULL, *err = NULL, *text, key[256], p[1600], msg[512] = "";
	struct btf *btf;
	size_t len;
	int rc;

	if (vmtest_bin("ktstr-orch", k.orch, sizeof(k.orch)))
		test_missing("ktstr-orch not built");
	cr_assert_eq(vmtest_tmpdir(k.tmp, sizeof(k.tmp)), 0);
	snprintf(k.cache, sizeof(k.cache), "%s/cache", k.tmp);

	rc = kf(&k, "fetch --arch arm64", &out, &err);
	if (rc && strstr(err, "apt-get update failed"))
		test_missing("the Debian mirror cannot be reached: %s", err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(out, "\n"), out);
	cr_assert(strlen(key) > 12 && !strcmp(key + strlen(key) - 12, "-cloud-arm64"), "key '%s'",
		  key);
	free(out);
	free(err);

	/* The Image: the worker's parser takes it as the boot loader will. */
	text = entry_file(&k, key, "Image", &len);
	cr_assert_eq(arm64_image_parse(text, len, len, &info, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(info.page_kib, 4, "Debian's cloud kernel has 4 KiB pages");
	free(text);
	text = entry_file(&k, key, "config", &len);
	cr_assert(strstr(text, "\nCONFIG_SCHED_CLASS_EXT=y\n"), "sid's kernel has sched_ext");
	free(text);
	/* vmlinux.btf: raw BTF libbpf loads, with the sched_ext ops struct. */
	snprintf(p, sizeof(p), "%s/kernels/%s/vmlinux.btf", k.cache, key);
	btf = btf__parse_raw(p);
	cr_assert_not_null(btf, "%s does not parse as raw BTF", p);
	cr_assert_gt(btf__find_by_name_kind(btf, "sched_ext_ops", BTF_KIND_STRUCT), 0);
	cr_assert_gt(btf__type_cnt(btf), 10000, "a whole kernel's types, not a fragment");
	btf__free(btf);
	text = entry_file(&k, key, "metadata", &len);
	assert_has(text, "\narch=arm64\n");
	assert_has(text, "\nsuite=sid\n");
	assert_has(text, "\nsched_ext=yes\n");
	free(text);

	/* kernel list: the entry, its arch last. */
	cr_assert_eq(kf(&k, "list", &out, &err), 0, "%s", err);
	snprintf(msg, sizeof(msg), "%s ", key);
	assert_has(out, msg);
	assert_has(strstr(out, msg), " arch arm64\n");
	free(out);
	free(err);

	/* kernel path --arch arm64: the entry's Image, what run --arch arm64
	 * boots; aarch64 is the same. */
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "path --arch %s%s", i ? "aarch64 --kernel " : "arm64",
			 i ? key : "");
		rc = kf(&k, p, &out, &err);
		cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
		snprintf(p, sizeof(p), "%s/kernels/%s/Image\n", k.cache, key);
		cr_assert_str_eq(out, p);
		free(out);
		free(err);
	}

	/* Again (alias aarch64), with a mirror that does not exist: the cache
	 * answers without the network. */
	rc = kf(&k, "fetch --arch aarch64 " NO_MIRROR, &out, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	snprintf(msg, sizeof(msg), "%s\n", key);
	cr_assert_str_eq(out, msg);
	assert_has(err, "already cached");
	free(out);
	free(err);

	/* x86 never takes it: its fetch needs the (missing) mirror, and
	 * `kernel path` finds no x86 kernel. */
	rc = kf(&k, "fetch " NO_MIRROR, &out, &err);
	cr_assert_eq(rc, 3, "an x86 fetch must not answer with the arm64 entry: exit %d, %s%s", rc,
		     out, err);
	free(out);
	free(err);
	rc = kf(&k, "path", &out, &err);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, out);
	cr_assert_null(strstr(out, key), "%s", out);
	free(out);
	free(err);

	/* A bad --arch: a usage error naming the choices. */
	rc = kf(&k, "fetch --arch riscv64", &out, &err);
	cr_assert_eq(rc, 2);
	assert_has(err, "--arch takes x86_64 or arm64");
	free(out);
	free(err);
	vmtest_rm_rf(k.tmp);
}
