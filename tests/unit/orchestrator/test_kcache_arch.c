/* arm64 kernels in the kernel cache: --arch names, an arm64 entry made
 * from Debian's package layouts (sid's Image, bookworm's gzip'd vmlinuz),
 * its metadata read back, and lookups that never cross architectures. */
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/compress.h>
#include <ktstr/le.h>
#include <ktstr/strv.h>
#include <ktstr/util.h>

#include "guest_arch.h"
#include "hostcaps.h"
#include "kernel_cache.h"
#include "kernel_fetch.h"

static char cache[64], kroot[80];

static void mktmp(void)
{
	strcpy(cache, "/tmp/ktstr-karch-XXXXXX");
	cr_assert_not_null(mkdtemp(cache));
	setenv("KTSTR_CACHE_DIR", cache, 1);
	snprintf(kroot, sizeof(kroot), "%s/kernels", cache);
	cr_assert_eq(mkdir(kroot, 0755), 0);
	unsetenv("KTSTR_KERNEL");
}

static void rmtmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", cache);
	cr_assert_eq(system(cmd), 0);
}

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_eq(write_file_create(p, data, len, 0644), 0, "%s", p);
}

static void puts_(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

/* An entry as `kernel fetch` leaves it: x86 (bzImage, vmlinux) or arm64
 * (Image, metadata arch=arm64, written by kfetch_metadata). */
static void mkentry(const char *key, const char *suite, const char *arch)
{
	struct strbuf sb = { 0 };
	char d[256];

	snprintf(d, sizeof(d), "%s/%s", kroot, key);
	cr_assert_eq(mkdir(d, 0755), 0, "%s", d);
	if (arch) {
		puts_(d, "Image", "img");
	} else {
		puts_(d, "bzImage", "bz");
		puts_(d, "vmlinux", "elf");
	}
	puts_(d, "config", "CONFIG_SCHED_CLASS_EXT=y\n");
	cr_assert_eq(kfetch_metadata(&sb, key, suite, "pkgs", "CONFIG_SCHED_CLASS_EXT=y\n", "", arch),
		     0);
	puts_(d, "metadata", sb.buf);
	sb_free(&sb);
}

Test(kcache_arch, arch_names)
{
	Ktstr__Arch a = 99;

	cr_assert_eq(guest_arch_parse(NULL, &a), 0);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_X86_64, "no --arch is x86_64");
	cr_assert_eq(guest_arch_parse("x86_64", &a), 0);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_X86_64);
	cr_assert_eq(guest_arch_parse("arm64", &a), 0);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_ARM64);
	a = 99;
	cr_assert_eq(guest_arch_parse("aarch64", &a), 0);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_ARM64, "aarch64 is arm64");
	for (const char *const *bad = (const char *const[]){ "amd64", "riscv64", "", "ARM64",
							      "arm64 ", NULL };
	     *bad; bad++)
		cr_assert_eq(guest_arch_parse(*bad, &a), -EINVAL, "'%s'", *bad);
	cr_assert_str_eq(guest_arch_name(KTSTR__ARCH__ARCH_ARM64), "arm64");
	cr_assert_str_eq(guest_arch_name(KTSTR__ARCH__ARCH_X86_64), "x86_64");
	cr_assert_str_eq(guest_arch_deb(KTSTR__ARCH__ARCH_ARM64), "arm64");
	cr_assert_str_eq(guest_arch_deb(KTSTR__ARCH__ARCH_X86_64), "amd64");
}

Test(kcache_arch, metadata_says_the_arch_and_scan_reads_it_back)
{
	struct kcache_entry *v = NULL;
	struct strbuf sb = { 0 };
	size_t n = 0;

	cr_assert_eq(kfetch_metadata(&sb, "k", "sid", "p", "", "", "x86_64"), 0);
	cr_assert_null(strstr(sb.buf, "arch="), "x86_64 entries say nothing: %s", sb.buf);
	sb_free(&sb);
	mktmp();
	mkentry("7.2.13+deb14-cloud-amd64", "sid", NULL);
	mkentry("7.2.13+deb14-cloud-arm64", "sid", "arm64");
	cr_assert_eq(kcache_scan(kroot, &v, &n), 0);
	cr_assert_eq(n, 2, "an entry holding only an Image is an entry");
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(v[i].arch, strstr(v[i].key, "arm64") ? "arm64" : "x86_64", "%s",
				 v[i].key);
	free(v);
	rmtmp();
}

static const char *resolve(const char *arg, const char *arch, int want_ret, char *err,
			   size_t errlen)
{
	static char key[256];
	struct kernel_choice kc;

	cr_assert_eq(kernel_resolve_arch(arg, arch, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, errlen),
		     want_ret, "%s/%s: %s", arg ? arg : "(none)", arch ? arch : "(none)", err);
	snprintf(key, sizeof(key), "%s", want_ret ? "" : kc.key);
	if (!want_ret && arch && !strcmp(arch, "arm64"))
		cr_assert(strstr(kc.image, "/Image"), "an arm64 entry boots its Image: %s", kc.image);
	kernel_choice_release(&kc);
	return key;
}

Test(kcache_arch, lookups_never_cross_architectures)
{
	struct kfetch_opts o = { 0 };
	char key[256], err[2048];

	mktmp();
	/* In version order the arm64 key is the newest ("arm64" > "amd64"). */
	mkentry("7.2.13+deb14-cloud-amd64", "sid", NULL);
	mkentry("7.2.13+deb14-cloud-arm64", "sid", "arm64");
	mkentry("6.1.0-57-cloud-arm64", "bookworm", "arm64");
	mkentry("6.12.118+deb12-cloud-amd64", "bookworm", NULL);

	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2.13+deb14-cloud-amd64");
	o.arch = "arm64";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2.13+deb14-cloud-arm64");
	o.arch = "aarch64";
	o.suite = "bookworm";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "6.1.0-57-cloud-arm64");
	o.arch = NULL;
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "6.12.118+deb12-cloud-amd64");
	o.suite = NULL;
	o.version = "7.2.13+deb14";
	o.arch = "arm64";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2.13+deb14-cloud-arm64", "--kernel-version keys carry the arch");
	o.version = "6.1.0-57";
	o.arch = NULL;
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), -ENOENT, "no x86 6.1.0-57");
	o.arch = "riscv64";
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), -EINVAL);
	cr_assert_eq(kernel_fetch(&o, stdout), -EINVAL, "a bad --arch is refused before anything");

	/* run/list/shell's lookup: the newest of the guest's arch. */
	cr_assert_str_eq(resolve(NULL, NULL, 0, err, sizeof(err)), "7.2.13+deb14-cloud-amd64");
	cr_assert_str_eq(resolve(NULL, "arm64", 0, err, sizeof(err)), "7.2.13+deb14-cloud-arm64");
	cr_assert_str_eq(resolve("7.2", NULL, 0, err, sizeof(err)), "7.2.13+deb14-cloud-amd64");
	cr_assert_str_eq(resolve("6", "arm64", 0, err, sizeof(err)), "6.1.0-57-cloud-arm64");
	resolve("6.1.0-57-cloud-arm64", NULL, -ENOENT, err, sizeof(err));
	cr_assert(strstr(err, "6.1.0-57-cloud-arm64 (arm64) is not for x86_64 guests"), "%s", err);
	resolve("6.12", "arm64", -ENOENT, err, sizeof(err));
	cr_assert(strstr(err, "not for arm64 guests"), "%s", err);
	rmtmp();

	/* Only arm64 kernels cached: an x86 run finds none. */
	mktmp();
	mkentry("7.2.13+deb14-cloud-arm64", "sid", "arm64");
	resolve(NULL, NULL, -ENOENT, err, sizeof(err));
	cr_assert(strstr(err, "kernel fetch"), "%s", err);
	o = (struct kfetch_opts){ 0 };
	cr_assert_eq(kfetch_cached(&o, key, sizeof(key)), -ENOENT);
	rmtmp();
	mktmp();
	mkentry("7.2.13+deb14-cloud-amd64", "sid", NULL);
	resolve(NULL, "arm64", -ENOENT, err, sizeof(err));
	cr_assert(strstr(err, "kernel fetch --arch arm64"), "%s", err);
	rmtmp();
}

/* `kernel path` into a string: its exit as kcache_print_path's return. */
static char *kpath(const char *arg, Ktstr__Arch arch, Ktstr__Engine engine, int want_ret,
		   char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	err[0] = '\0';
	cr_assert_eq(kcache_print_path(f, arg, arch, engine, err, errlen), want_ret, "%s/%s: %s",
		     arg ? arg : "(none)", guest_arch_name(arch), err);
	fclose(f);
	return text;
}

/* `kernel path --arch A [-k K]` names the image run --arch A [-k K] boots:
 * an x86_64 and an arm64 entry of one version side by side, each arch
 * gets its own, and an arm64 request with none cached says how to get
 * one. */
Test(kcache_arch, kernel_path_answers_per_arch_what_run_boots)
{
	const Ktstr__Arch X86 = KTSTR__ARCH__ARCH_X86_64, ARM = KTSTR__ARCH__ARCH_ARM64;
	const Ktstr__Engine QEMU = KTSTR__ENGINE__ENGINE_QEMU, KVM = KTSTR__ENGINE__ENGINE_KVM;
	char want[512], err[2048];
	struct host_caps hc;
	char *got;

	mktmp();
	mkentry("7.2.13+deb14-cloud-amd64", "sid", NULL);
	mkentry("7.2.13+deb14-cloud-arm64", "sid", "arm64");

	/* No --kernel (the newest of the arch), a version prefix, a version. */
	static const char *const ks[] = { NULL, "7.2", "7.2.13+deb14" };

	for (const char *const *k = ks; k < ks + ARRAY_SIZE(ks); k++) {
		struct kernel_choice kc;

		snprintf(want, sizeof(want), "%s/7.2.13+deb14-cloud-arm64/Image\n", kroot);
		got = kpath(*k, ARM, QEMU, 0, err, sizeof(err));
		cr_assert_str_eq(got, want, "--arch arm64 -k %s", *k ? *k : "(none)");
		free(got);
		/* run's resolution of the same request: the same image. */
		cr_assert_eq(kernel_resolve_arch(*k, "arm64", QEMU, &kc, err, sizeof(err)), 0, "%s",
			     err);
		cr_assert_eq(strncmp(kc.image, want, strlen(want) - 1), 0, "%s", kc.image);
		kernel_choice_release(&kc);

		snprintf(want, sizeof(want), "%s/7.2.13+deb14-cloud-amd64/vmlinux\n", kroot);
		got = kpath(*k, X86, QEMU, 0, err, sizeof(err));
		cr_assert_str_eq(got, want, "--arch x86_64 -k %s under QEMU", *k ? *k : "(none)");
		free(got);
		snprintf(want, sizeof(want), "%s/7.2.13+deb14-cloud-amd64/bzImage\n", kroot);
		got = kpath(*k, X86, KVM, 0, err, sizeof(err));
		cr_assert_str_eq(got, want, "--arch x86_64 -k %s under KVM", *k ? *k : "(none)");
		free(got);
	}
	/* The other arch's key by name: refused, naming its arch. */
	got = kpath("7.2.13+deb14-cloud-amd64", ARM, QEMU, -ENOENT, err, sizeof(err));
	cr_assert_str_eq(got, "", "nothing on stdout");
	free(got);
	cr_assert(strstr(err, "7.2.13+deb14-cloud-amd64 (x86_64) is not for arm64 guests"), "%s",
		  err);

	/* The engine `kernel path --arch A` resolves for is run's: a guest of
	 * another arch than the host's runs under QEMU whatever auto finds,
	 * and --engine kvm is refused for it; the host's own: as asked. */
	{
		Ktstr__Arch host = ktstr_arch_host(), foreign = host == ARM ? X86 : ARM;
		Ktstr__Engine e = KTSTR__ENGINE__ENGINE_AUTO;

		cr_assert_eq(hostcaps_probe_guest(&e, foreign, &hc, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(hc.engine, QEMU);
		cr_assert_eq(hc.guest_arch, foreign);
		e = KVM;
		cr_assert_eq(hostcaps_probe_guest(&e, foreign, &hc, err, sizeof(err)), -EINVAL);
		cr_assert(strstr(err, "--engine kvm"), "%s", err);
		e = KVM;
		cr_assert_eq(hostcaps_probe_guest(&e, host, &hc, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(hc.engine, KVM);
		cr_assert_eq(hc.guest_arch, host);
	}
	rmtmp();

	/* Only x86_64 cached: an arm64 request names the fetch that fixes it. */
	mktmp();
	mkentry("7.2.13+deb14-cloud-amd64", "sid", NULL);
	got = kpath(NULL, ARM, QEMU, -ENOENT, err, sizeof(err));
	cr_assert_str_eq(got, "");
	free(got);
	cr_assert(strstr(err, "has no arm64 kernel") && strstr(err, "kernel fetch --arch arm64"),
		  "%s", err);
	/* Also when the version named is cached for x86_64 only. */
	got = kpath("7.2", ARM, QEMU, -ENOENT, err, sizeof(err));
	free(got);
	cr_assert(strstr(err, "--kernel 7.2: ") && strstr(err, "has no arm64 kernel (the cached "
								"kernel 7.2.13+deb14-cloud-amd64 "
								"(x86_64) is not for these guests)") &&
			  strstr(err, "kernel fetch --arch arm64`"),
		  "%s", err);
	rmtmp();
}

/* ---- kcache_install_arm64 on synthetic package trees ------------------ */

/* A small arm64 Image: the 64-byte header (4 KiB pages, image_size
 * covering the file), then filler and, when blob, that BTF inside. */
static uint8_t *make_image(const void *blob, size_t blen, size_t *len)
{
	size_t n = 64 * 1024 + blen;
	uint8_t *img = calloc(1, n);

	put_le64(img + 8, 0);		/* text_offset */
	put_le64(img + 16, n + 4096);	/* image_size */
	put_le64(img + 24, 2);		/* flags: 4 KiB pages */
	memcpy(img + 56, "ARM\x64", 4);
	for (size_t i = 64; i < 32768; i++)
		img[i] = (uint8_t)(i % 151);
	if (blob)
		memcpy(img + 32768, blob, blen);
	*len = n;
	return img;
}

static uint8_t *make_btf_named(const char *ops, size_t *len)
{
	struct btf *btf = btf__new_empty();
	const void *raw;
	uint8_t *copy;
	__u32 sz;
	int id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);

	cr_assert_gt(btf__add_struct(btf, ops, 4), 0);
	cr_assert_eq(btf__add_field(btf, "dispatch", id, 0, 0), 0);
	raw = btf__raw_data(btf, &sz);
	copy = malloc(sz);
	memcpy(copy, raw, sz);
	*len = sz;
	btf__free(btf);
	return copy;
}

static uint8_t *make_btf(size_t *len)
{
	return make_btf_named("sched_ext_ops", len);
}

static bool same_file(const char *path, const void *data, size_t len)
{
	char *got = NULL;
	size_t n = 0;
	bool same;

	if (read_file(path, &got, &n, 1u << 24))
		return false;
	same = n == len && !memcmp(got, data, len);
	free(got);
	return same;
}

static const char *CFG = "CONFIG_SCHED_CLASS_EXT=y\nCONFIG_BPF_SYSCALL=y\n"
			 "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_SERIAL_AMBA_PL011_CONSOLE=y\n";

Test(kcache_arch, install_arm64_sid_layout)
{
	size_t blen, ilen;
	uint8_t *btf = make_btf(&blen), *img = make_image(btf, blen, &ilen);
	char tree[256], mod[384], key[256], p[512], *text = NULL;
	size_t len;
	FILE *f;

	mktmp();
	snprintf(tree, sizeof(tree), "%s/tree", cache);
	snprintf(mod, sizeof(mod), "%s/usr/lib/modules/7.2.13+deb14-cloud-arm64", tree);
	cr_assert_eq(mkdir_p(mod, 0755), 0);
	put(mod, "vmlinuz", img, ilen);
	puts_(mod, "config", CFG);
	cr_assert_eq(kcache_install_arm64(tree, "sid", "linux-binary-x", false, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "7.2.13+deb14-cloud-arm64");
	snprintf(p, sizeof(p), "%s/%s/Image", kroot, key);
	cr_assert(same_file(p, img, ilen), "the Image is the package's vmlinuz");
	snprintf(p, sizeof(p), "%s/%s/vmlinux.btf", kroot, key);
	cr_assert(same_file(p, btf, blen), "vmlinux.btf is the blob inside the Image");
	snprintf(p, sizeof(p), "%s/%s/config", kroot, key);
	cr_assert(same_file(p, CFG, strlen(CFG)));
	snprintf(p, sizeof(p), "%s/%s/bzImage", kroot, key);
	cr_assert_neq(access(p, F_OK), 0, "no x86 files in an arm64 entry");
	snprintf(p, sizeof(p), "%s/%s/metadata", kroot, key);
	cr_assert_eq(read_file(p, &text, &len, 65536), 0);
	cr_assert(strstr(text, "\narch=arm64\n"), "%s", text);
	cr_assert(strstr(text, "\nsuite=sid\n") && strstr(text, "\nsched_ext=yes\n"), "%s", text);
	/* Missing options are arm64's: not PVH nor the 8250 console (x86's),
	 * and the PL011 console the config has is not missing. */
	{
		char *m = strstr(text, "\nmissing_config=");

		cr_assert_not_null(m, "%s", text);
		*strchr(m + 1, '\n') = '\0';
		cr_assert(strstr(m, "CONFIG_DEVMEM") && !strstr(m, "PVH") && !strstr(m, "8250") &&
				  !strstr(m, "PL011"),
			  "%s", m);
	}
	free(text);
	/* kernel list says the arch, last. */
	text = NULL;
	f = open_memstream(&text, &len);
	cr_assert_eq(kcache_list(f), 0);
	fclose(f);
	cr_assert(strstr(text, "7.2.13+deb14-cloud-arm64 ") && strstr(text, " arch arm64\n"), "%s",
		  text);
	free(text);
	rmtmp();
	free(img);
	free(btf);
}

Test(kcache_arch, install_arm64_bookworm_layout_gunzips)
{
	size_t blen, ilen, zlen;
	uint8_t *btf = make_btf(&blen), *img = make_image(btf, blen, &ilen), *gz = NULL;
	char tree[256], boot[300], key[256], p[512];

	cr_assert_eq(compress_gzip(img, ilen, &gz, &zlen), 0);
	mktmp();
	snprintf(tree, sizeof(tree), "%s/tree", cache);
	snprintf(boot, sizeof(boot), "%s/boot", tree);
	cr_assert_eq(mkdir_p(boot, 0755), 0);
	put(boot, "vmlinuz-6.1.0-57-cloud-arm64", gz, zlen);
	puts_(boot, "config-6.1.0-57-cloud-arm64", "CONFIG_DEBUG_INFO_BTF=y\n");
	cr_assert_eq(kcache_install_arm64(tree, "bookworm", "linux-image-x", false, key, sizeof(key)),
		     0);
	cr_assert_str_eq(key, "6.1.0-57-cloud-arm64");
	snprintf(p, sizeof(p), "%s/%s/Image", kroot, key);
	cr_assert(same_file(p, img, ilen), "the gzip'd vmlinuz is stored inflated");
	snprintf(p, sizeof(p), "%s/%s/vmlinux.btf", kroot, key);
	cr_assert(same_file(p, btf, blen), "no sched_ext in the config: any parsing BTF will do");
	rmtmp();
	free(gz);
	free(img);
	free(btf);
}

Test(kcache_arch, install_arm64_refuses_what_is_not_an_image)
{
	size_t ilen;
	uint8_t *img = make_image(NULL, 0, &ilen);
	char tree[256], mod[384], key[256], p[512];

	mktmp();
	snprintf(tree, sizeof(tree), "%s/tree", cache);
	snprintf(mod, sizeof(mod), "%s/usr/lib/modules/7.2-x", tree);
	cr_assert_eq(mkdir_p(mod, 0755), 0);
	puts_(mod, "config", CFG);
	/* An ELF vmlinux where the Image should be. */
	memcpy(img, "\177ELF", 4);
	memset(img + 56, 0, 4);
	put(mod, "vmlinuz", img, ilen);
	cr_assert_eq(kcache_install_arm64(tree, "sid", "p", false, key, sizeof(key)), -ENOEXEC);
	snprintf(p, sizeof(p), "%s/7.2-x", kroot);
	cr_assert_neq(access(p, F_OK), 0, "nothing cached");
	/* An Image whose image_size does not cover the file. */
	free(img);
	img = make_image(NULL, 0, &ilen);
	put_le64(img + 16, 4096);
	put(mod, "vmlinuz", img, ilen);
	cr_assert_eq(kcache_install_arm64(tree, "sid", "p", false, key, sizeof(key)), -EINVAL);
	/* BTF without sched_ext_ops though the config has sched_ext: not the
	 * kernel's BTF, so not stored; the kernel is (it boots). */
	{
		size_t blen;
		uint8_t *other = make_btf_named("other_ops", &blen);

		free(img);
		img = make_image(other, blen, &ilen);
		free(other);
	}
	put(mod, "vmlinuz", img, ilen);
	cr_assert_eq(kcache_install_arm64(tree, "sid", "p", false, key, sizeof(key)), 0);
	snprintf(p, sizeof(p), "%s/7.2-x/vmlinux.btf", kroot);
	cr_assert_neq(access(p, F_OK), 0, "a BTF without sched_ext_ops is not the kernel's");
	snprintf(p, sizeof(p), "%s/7.2-x/Image", kroot);
	cr_assert_eq(access(p, F_OK), 0);
	/* No BTF inside at all: the same. */
	free(img);
	img = make_image(NULL, 0, &ilen);
	put(mod, "vmlinuz", img, ilen);
	cr_assert_eq(kcache_install_arm64(tree, "sid", "p", true, key, sizeof(key)), 0);
	snprintf(p, sizeof(p), "%s/7.2-x/vmlinux.btf", kroot);
	cr_assert_neq(access(p, F_OK), 0);
	rmtmp();
	free(img);
}

/* A gzip'd vmlinuz that inflates past KTSTR_KERNEL_IMAGE_MAX (what a VM
 * accepts) is refused, not inflated without end. */
Test(kcache_arch, install_arm64_bounds_the_inflated_image, .timeout = 120)
{
	size_t ilen = (size_t)KTSTR_KERNEL_IMAGE_MAX + 1, zlen = 0, hlen;
	uint8_t *img = calloc(1, ilen), *hdr = make_image(NULL, 0, &hlen), *gz = NULL;
	char tree[256], boot[300], key[256], p[512];

	cr_assert_not_null(img);
	memcpy(img, hdr, 64);
	put_le64(img + 16, ilen + 4096);
	cr_assert_eq(compress_gzip(img, ilen, &gz, &zlen), 0);
	free(img);
	mktmp();
	snprintf(tree, sizeof(tree), "%s/tree", cache);
	snprintf(boot, sizeof(boot), "%s/boot", tree);
	cr_assert_eq(mkdir_p(boot, 0755), 0);
	put(boot, "vmlinuz-6.1-big-cloud-arm64", gz, zlen);
	puts_(boot, "config-6.1-big-cloud-arm64", CFG);
	cr_assert_eq(kcache_install_arm64(tree, "bookworm", "p", false, key, sizeof(key)), -EFBIG);
	snprintf(p, sizeof(p), "%s/6.1-big-cloud-arm64", kroot);
	cr_assert_neq(access(p, F_OK), 0, "nothing cached");
	rmtmp();
	free(gz);
	free(hdr);
}
