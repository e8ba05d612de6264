/* The guest kernel's layout for arm64 cache entries
 * (kernel_layout_from_arm64_entry) from the real Debian kernels `ktstr-orch
 * kernel fetch --arch arm64` put in the cache: sid 7.2 (PC-relative
 * kallsyms, VA_BITS 52, CONFIG_KALLSYMS_ALL) and bookworm 6.1
 * (base-relative kallsyms in the older table order, VA_BITS 48, no
 * CONFIG_KALLSYMS_ALL). Skipped, with the reason, where the cache lacks
 * them.
 *
 * How each expectation is known, independently of the code under test:
 *  - exported symbols are looked up in the Image's __ksymtab, found by its
 *    own structure below (struct kernel_symbol: s32 value_offset,
 *    name_offset, namespace_offset, each relative to its own place, so
 *    the file offsets need no link address);
 *  - __per_cpu_start from an exported per-CPU variable (kernel_cpustat)
 *    minus its offset in BTF's .data..percpu DATASEC;
 *  - linux_banner by reading the Image's bytes at its file offset;
 *  - the link addresses are hard-coded from arch/arm64/include/asm/
 *    memory.h's formula worked by hand, and 6.1's absolute kallsyms
 *    addresses (base-relative) must equal it plus the __ksymtab file
 *    offset of the same exported function;
 *  - the other values are hard-coded for the exact releases, as `bpftool
 *    btf dump file vmlinux.btf format raw` reports them. */
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/le.h>
#include <ktstr/util.h>

#include "kernel_layout.h"
#include "kernel_layout_priv.h"

#define REL_72 "7.2.13+deb14-cloud-arm64"
#define REL_61 "6.1.0-57-cloud-arm64"

/* The cache entry matching pat ("7.*", "6.1.*") into buf; false if none. */
static bool entry_dir(const char *pat, char *buf, size_t len)
{
	const char *cache = getenv("KTSTR_CACHE_DIR");
	char g[8192];
	glob_t gl;
	bool ok;

	snprintf(g, sizeof(g), "%s/kernels/%s-cloud-arm64", cache && *cache ? cache : "/var/cache/ktstr",
		 pat);
	if (glob(g, 0, NULL, &gl))
		return false;
	snprintf(buf, len, "%s", gl.gl_pathv[gl.gl_pathc - 1]);
	globfree(&gl);
	snprintf(g, sizeof(g), "%s/Image", buf);
	ok = access(g, R_OK) == 0;
	return ok;
}

#define NEED_ENTRY(pat, dir)                                                                    \
	do {                                                                                    \
		if (!entry_dir(pat, dir, sizeof(dir)))                                          \
			cr_skip_test("no arm64 kernel %s-cloud-arm64 in the cache (ktstr-orch "  \
				     "kernel fetch --arch arm64 [--suite bookworm])",            \
				     pat);                                                      \
	} while (0)

static void read_entry(const char dir[static 1], const char *name, char **buf, size_t *len)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_eq(read_file(p, buf, len, 512u << 20), 0, "read %s", p);
}

/* The file offset of an exported symbol's value, from the __ksymtab entry
 * whose name_offset lands on "name\0" (__ksymtab_strings is a mergeable
 * string section: a name may be the tail of a longer one), whose
 * namespace_offset lands on a string in the file and whose value lies in
 * the image (size bytes, BSS included): exactly one distinct answer. */
static bool ksymtab_off(const char *img, size_t len, uint64_t size, const char *name,
			uint64_t *off)
{
	size_t nl = strlen(name);
	bool found = false;

	for (const char *p = img; (p = memmem(p, len - (size_t)(p - img), name, nl)); p++) {
		uint64_t at = (uint64_t)(p - img);

		if (at + nl >= len || p[nl])
			continue;
		for (uint64_t e = 0; e + 12 <= len; e += 4) {
			int64_t n = (int32_t)get_le32(img + e + 4), v, ns;

			if ((int64_t)(e + 4) + n != (int64_t)at)
				continue;
			v = (int64_t)e + (int32_t)get_le32(img + e);
			ns = (int64_t)e + 8 + (int32_t)get_le32(img + e + 8);
			if (v < 0 || (uint64_t)v >= size || ns < 0 || (uint64_t)ns >= len ||
			    (img[ns] && (img[ns] < 0x20 || img[ns] > 0x7e)))
				continue;
			if (found && *off != (uint64_t)v)
				return false;
			found = true;
			*off = (uint64_t)v;
		}
	}
	return found;
}

static struct btf *entry_btf(const char *dir)
{
	char p[4096];
	struct btf *btf;

	snprintf(p, sizeof(p), "%s/vmlinux.btf", dir);
	btf = btf__parse_raw(p);
	cr_assert_not_null(btf, "parse %s", p);
	return btf;
}

#define FIELD_EQ(f, off, sz)                                                            \
	do {                                                                            \
		cr_assert(l->f, #f " found");                                           \
		cr_assert_eq(l->f->offset, off, #f " offset %u", l->f->offset);         \
		cr_assert_eq(l->f->size, sz, #f " size %u", l->f->size);                \
	} while (0)

#define KSYM_EQ(img, len, va, name, got)                                                     \
	do {                                                                                 \
		uint64_t o_;                                                                 \
		cr_assert(ksymtab_off(img, len, get_le64(img + 16), name, &o_), "%s in __ksymtab", name);        \
		cr_assert_eq(got, va + o_, "%s: %#llx, __ksymtab %#llx", name,               \
			     (unsigned long long)(got), (unsigned long long)(va + o_));      \
	} while (0)

Test(kernel_layout_arm64, the_formula_for_each_va_bits_and_version)
{
	struct kl_arm64_config c = { .va_bits = 52, .major = 7, .minor = 2 };

	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffff800080000000ull, "52 bits: VA_BITS_MIN 48");
	c.pages_16k = true;
	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffffc00080000000ull, "16K pages: VA_BITS_MIN 47");
	c.pages_16k = false;
	c.va_bits = 48;
	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffff800080000000ull);
	c.major = 6, c.minor = 4;
	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffff800008000000ull, "before 6.5: 128 MiB");
	c.minor = 5;
	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffff800080000000ull, "6.5 on: 2 GiB");
	c.va_bits = 39;
	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffffffc080000000ull);
	c.major = 5, c.minor = 15;
	cr_assert_eq(kl_arm64_kimage_vaddr(&c), 0xffffffc008000000ull);
}

Test(kernel_layout_arm64, sid_7_2_pc_relative_kallsyms)
{
	char dir[1024], err[1024], *img;
	Ktstr__GuestKernelLayout *l;
	struct btf *btf;
	uint32_t off;
	size_t len;
	uint64_t va, o;

	NEED_ENTRY("7.*", dir);
	cr_assert_eq(kernel_layout_from_arm64_entry(dir, &l, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < l->n_missing; i++)
		cr_log_info("%s: missing %s", l->release, l->missing[i]);
	cr_assert(l->has_arch && l->arch == KTSTR__ARCH__ARCH_ARM64);
	cr_assert_str_eq(l->symbol_source, "kallsyms");
	cr_assert_not(l->has_phys_base || l->has_page_offset_base || l->has_init_top_pgt,
		      "x86_64's fields stay unset");
	va = l->image_vaddr;
	read_entry(dir, "Image", &img, &len);
	/* The banner, in the Image's own bytes at its file offset. */
	cr_assert(l->linux_banner > va && l->linux_banner - va + l->banner.len <= len);
	cr_assert_eq(memcmp(img + (l->linux_banner - va), l->banner.data, l->banner.len), 0);
	cr_assert_eq(memcmp(l->banner.data, "Linux version ", 14), 0);
	cr_assert_eq(memcmp(l->banner.data + 14, l->release, strlen(l->release)), 0);
	/* Exported symbols, through __ksymtab. */
	KSYM_EQ(img, len, va, "__per_cpu_offset", l->per_cpu_offset);
	KSYM_EQ(img, len, va, "nr_cpu_ids", l->nr_cpu_ids);
	KSYM_EQ(img, len, va, "memstart_addr", l->memstart_addr);
	KSYM_EQ(img, len, va, "jiffies_64", l->jiffies);
	/* __per_cpu_start through an exported per-CPU variable, and
	 * runqueues from it through BTF. */
	btf = entry_btf(dir);
	cr_assert(ksymtab_off(img, len, l->image_size, "kernel_cpustat", &o));
	cr_assert_eq(kl_btf_percpu_var(btf, "kernel_cpustat", &off), 0);
	cr_assert_eq(l->per_cpu_start, va + o - off, "__per_cpu_start %#llx vs %#llx",
		     (unsigned long long)l->per_cpu_start, (unsigned long long)(va + o - off));
	cr_assert_eq(kl_btf_percpu_var(btf, "runqueues", &off), 0);
	cr_assert_eq(l->runqueues, l->per_cpu_start + off);
	btf__free(btf);
	/* sched_ext, as on x86_64. */
	cr_assert(l->rq_scx && l->scx_rq_nr_running && l->scx_rq_local_dsq && l->has_scx_enable_state &&
		  l->n_scx_enable_states == 4 && l->has_scx_root && l->scx_sched_watchdog_timeout);
	cr_assert(l->scx_rq_runnable_list && l->task_scx && l->task_pid && l->task_comm);
	cr_assert_eq(l->n_missing, 0);
	if (strcmp(l->release, REL_72)) {
		cr_log_warn("release %s: exact values are known for " REL_72 " only", l->release);
		goto out;
	}
	/* memory.h: _PAGE_END(48) + 2 GiB; Image header image_size. */
	cr_assert_eq(l->image_vaddr, 0xffff800080000000ull);
	cr_assert_eq(l->image_size, 0x25c0000);
	cr_assert_eq(l->va_bits, 52);
	cr_assert_eq(l->hz, 250);
	cr_assert_eq(l->linux_banner, 0xffff800081403e40ull);
	cr_assert_eq(l->per_cpu_offset, 0xffff800082102198ull);
	cr_assert_eq(l->per_cpu_start, 0xffff80008202c000ull);
	cr_assert_eq(l->nr_cpu_ids, 0xffff8000820fe150ull);
	cr_assert_eq(l->runqueues, 0xffff800082044780ull);
	cr_assert_eq(l->jiffies, 0xffff8000820f6a00ull);
	cr_assert_eq(l->memstart_addr, 0xffff80008187a7e8ull);
	cr_assert_eq(l->scx_root, 0xffff8000824ed5b8ull);
	cr_assert_eq(l->scx_enable_state, 0xffff800082136db0ull);
	cr_assert_eq(l->scx_watchdog_interval, 0xffff8000824ed5c0ull);
	cr_assert_eq(l->scx_watchdog_timestamp, 0xffff800082138048ull);
	/* bpftool: STRUCT 'rq' size=4352; nr_running bits 0, clock 28800,
	 * clock_task 28672, cpu 30016, scx 19392; task_struct scx 6208, pid
	 * 14528, comm 18816. The sched_ext structs match x86_64's. */
	cr_assert_eq(l->rq_size, 4352);
	FIELD_EQ(rq_nr_running, 0, 4);
	FIELD_EQ(rq_clock, 3600, 8);
	FIELD_EQ(rq_clock_task, 3584, 8);
	FIELD_EQ(rq_cpu, 3752, 4);
	FIELD_EQ(rq_scx, 2424, 384);
	FIELD_EQ(task_scx, 776, 224);
	FIELD_EQ(task_pid, 1816, 4);
	FIELD_EQ(task_comm, 2352, 16);
	FIELD_EQ(scx_rq_local_dsq, 0, 104);
	FIELD_EQ(scx_rq_nr_running, 144, 4);
	FIELD_EQ(scx_rq_flags, 156, 4);
	FIELD_EQ(scx_dsq_nr, 40, 4);
	FIELD_EQ(scx_sched_watchdog_timeout, 840, 8);
	FIELD_EQ(scx_sched_pcpu, 688, 8);
	FIELD_EQ(scx_sched_pcpu_event_stats, 16, 104);
	FIELD_EQ(scx_rq_runnable_list, 104, 16);
	FIELD_EQ(scx_entity_runnable_node, 136, 16);
	FIELD_EQ(scx_entity_runnable_at, 152, 8);
	cr_assert_eq(l->scx_event_stats_size, 104);
	cr_assert_eq(l->n_scx_events, 13);
out:
	free(img);
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
}

/* 6.1's kallsyms: base-relative, in the older order (offsets and the base
 * before num_syms, seqs_of_names between markers and token table), and
 * its base a relocation the kernel applies at boot (0 in the file). */
Test(kernel_layout_arm64, bookworm_6_1_absolute_addresses_match_the_formula)
{
	const char *const names[] = { "_stext", "_etext", "start_kernel", "schedule", "kfree" };
	char dir[1024], err[1024], *img, *cfg;
	struct kl_sym syms[ARRAY_SIZE(names)];
	struct kl_arm64_config c;
	struct kl_image im;
	size_t len, cfglen;
	uint64_t va, o;

	NEED_ENTRY("6.1.*", dir);
	read_entry(dir, "Image", &img, &len);
	read_entry(dir, "config", &cfg, &cfglen);
	cr_assert_eq(kl_arm64_config(cfg, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.va_bits, 48);
	cr_assert_eq(c.major * 100 + c.minor, 601);
	cr_assert_not(c.kallsyms_all);
	va = kl_arm64_kimage_vaddr(&c);
	cr_assert_eq(va, 0xffff800008000000ull, "_PAGE_END(48) + 128 MiB");
	cr_assert_eq(kl_arm64_link_check((const uint8_t *)img, len, va, get_le64(img + 16), err,
					 sizeof(err)),
		     0, "%s", err);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		syms[i] = (struct kl_sym){ .name = names[i] };
	kl_image_open_flat(&im, (const uint8_t *)img, len, va, va);
	cr_assert_eq(kl_syms_from_kallsyms(&im, syms, ARRAY_SIZE(names), err, sizeof(err)), 0, "%s",
		     err);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		cr_assert(syms[i].found, "%s in kallsyms", names[i]);
	/* _stext follows the 64 KiB head (SEGMENT_ALIGN) at _text = va. */
	cr_assert_eq(syms[0].addr, va + 0x10000, "_stext %#llx", (unsigned long long)syms[0].addr);
	/* Absolute addresses (base + offset) equal the formula plus the
	 * file offset that PC-relative __ksymtab entries give. */
	cr_assert(ksymtab_off(img, len, get_le64(img + 16), "schedule", &o));
	cr_assert_eq(syms[3].addr, va + o, "schedule %#llx, __ksymtab %#llx",
		     (unsigned long long)syms[3].addr, (unsigned long long)(va + o));
	cr_assert(ksymtab_off(img, len, get_le64(img + 16), "kfree", &o));
	cr_assert_eq(syms[4].addr, va + o, "kfree %#llx, __ksymtab %#llx",
		     (unsigned long long)syms[4].addr, (unsigned long long)(va + o));
	kl_image_close(&im);
	free(cfg);
	free(img);
}

/* Without CONFIG_KALLSYMS_ALL kallsyms has code symbols only: no banner,
 * no runqueues. The entry is refused with that reason; what could be
 * derived is still there. */
Test(kernel_layout_arm64, bookworm_6_1_without_data_symbols_says_why)
{
	char dir[1024], err[1024];
	Ktstr__GuestKernelLayout *l;

	NEED_ENTRY("6.1.*", dir);
	cr_assert_eq(kernel_layout_from_arm64_entry(dir, &l, err, sizeof(err)), -ENODATA, "%s", err);
	cr_assert(strstr(err, "CONFIG_KALLSYMS_ALL"), "%s", err);
	cr_assert_not_null(l);
	cr_assert(l->has_arch && l->arch == KTSTR__ARCH__ARCH_ARM64);
	cr_assert_eq(l->image_vaddr, 0xffff800008000000ull);
	cr_assert_eq(l->va_bits, 48);
	cr_assert(l->has_hz && l->hz == 250);
	cr_assert_str_eq(l->symbol_source, "kallsyms");
	cr_assert_not(l->has_linux_banner || l->has_runqueues || l->has_memstart_addr);
	cr_assert_eq(l->n_missing, 4, "%zu missing", l->n_missing);
	cr_assert_str_eq(l->missing[0], "symbol linux_banner");
	cr_assert_str_eq(l->missing[3], "symbol memstart_addr");
	if (!strstr(dir, REL_61))
		cr_log_warn("%s: exact values are known for " REL_61 " only", dir);
	else
		cr_assert_eq(l->image_size, 0x1ab0000);
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
}

/* ---- refusals: a damaged entry is a clean error ---- */

/* A scratch copy of entry src in *dir: Image of len bytes from img (which
 * the caller may have changed), the config as cfg, the BTF linked. */
static void scratch_entry(char *dir, size_t cap, const char *src, const char *img, size_t len,
			  const char *cfg)
{
	char p[2048], s[2048];
	int fd;

	snprintf(dir, cap, "/tmp/ktstr-kla64-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/Image", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, img, len), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/config", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, cfg, strlen(cfg)), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/vmlinux.btf", dir);
	snprintf(s, sizeof(s), "%s/vmlinux.btf", src);
	cr_assert_eq(symlink(s, p), 0);
}

static void scratch_remove(const char *dir)
{
	static const char *const names[] = { "Image", "config", "vmlinux.btf" };
	char p[2048];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int layout_of(const char *src, const char *img, size_t len, const char *cfg, char *err,
		     size_t errlen)
{
	Ktstr__GuestKernelLayout *l = (void *)1;
	char dir[64];
	int ret;

	scratch_entry(dir, sizeof(dir), src, img, len, cfg);
	err[0] = 0;
	ret = kernel_layout_from_arm64_entry(dir, &l, err, errlen);
	scratch_remove(dir);
	if (ret && ret != -ENODATA)
		cr_assert_null(l, "no layout on %d", ret);
	if (l)
		ktstr__guest_kernel_layout__free_unpacked(l, NULL);
	if (ret)
		cr_assert(err[0], "every error has a reason (ret %d)", ret);
	return ret;
}

Test(kernel_layout_arm64, truncated_images_are_refused)
{
	size_t cuts[] = { 0, 32, 64, 4096, 1u << 20, 16u << 20, 0 /* mid-banner, below */ };
	char dir[1024], err[1024], *img, *cfg;
	Ktstr__GuestKernelLayout *l;
	size_t len, cfglen;

	NEED_ENTRY("7.*", dir);
	read_entry(dir, "Image", &img, &len);
	read_entry(dir, "config", &cfg, &cfglen);
	cr_assert_eq(kernel_layout_from_arm64_entry(dir, &l, err, sizeof(err)), 0, "%s", err);
	/* The last cut ends in the middle of linux_banner: the banner check
	 * must refuse what the symbols point past the file's end. */
	cuts[ARRAY_SIZE(cuts) - 1] = l->linux_banner - l->image_vaddr + 8;
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		int ret = layout_of(dir, img, cuts[i], cfg, err, sizeof(err));

		cr_assert(ret == -EINVAL || ret == -ENODATA, "cut at %zu: %d %s", cuts[i], ret, err);
	}
	/* The untouched copy passes: the refusals are the cuts'. */
	cr_assert_eq(layout_of(dir, img, len, cfg, err, sizeof(err)), 0, "%s", err);
	free(cfg);
	free(img);
}

Test(kernel_layout_arm64, an_image_without_kallsyms_is_refused)
{
	static const char digits[] = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009";
	char dir[1024], err[1024], *img, *cfg, *p;
	size_t len, cfglen, hits = 0;
	int ret;

	NEED_ENTRY("7.*", dir);
	read_entry(dir, "Image", &img, &len);
	read_entry(dir, "config", &cfg, &cfglen);
	/* The token table holds "0" .. "9" as single-character tokens in a
	 * row: zeroing every such run leaves no token table. */
	for (p = img; (p = memmem(p, len - (size_t)(p - img), digits, 19)); hits++)
		memset(p, 0, 19);
	cr_assert(hits > 0);
	ret = layout_of(dir, img, len, cfg, err, sizeof(err));
	cr_assert_eq(ret, -ENODATA, "%d %s", ret, err);
	cr_assert(strstr(err, "no kallsyms tables recognised in the Image"), "%s", err);
	free(cfg);
	free(img);
}

Test(kernel_layout_arm64, a_config_that_does_not_place_the_image_is_refused)
{
	char dir[1024], err[1024], *img, *cfg, *p;
	size_t len, cfglen;

	NEED_ENTRY("7.*", dir);
	read_entry(dir, "Image", &img, &len);
	read_entry(dir, "config", &cfg, &cfglen);
	/* No VA_BITS: not an arm64 config. */
	p = strstr(cfg, "\nCONFIG_ARM64_VA_BITS=");
	cr_assert_not_null(p);
	p[8] = 'X';
	cr_assert_eq(layout_of(dir, img, len, cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "no CONFIG_ARM64_VA_BITS"), "%s", err);
	p[8] = 'A';
	/* A VA_BITS arm64 does not have. */
	p = strstr(cfg, "\nCONFIG_ARM64_VA_BITS=52");
	cr_assert_not_null(p);
	p[23] = '3';
	cr_assert_eq(layout_of(dir, img, len, cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "not one arm64 has"), "%s", err);
	p[23] = '2';
	/* No version header. */
	p = strstr(cfg, "# Linux/arm64 ");
	cr_assert_not_null(p);
	p[2] = 'X';
	cr_assert_eq(layout_of(dir, img, len, cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "header line"), "%s", err);
	/* A version before 6.5 puts KIMAGE_VADDR 128 MiB into the range: the
	 * Image's relocations say otherwise. */
	memcpy(p, "# Linux/arm64 6.1 ", 18);
	cr_assert_eq(layout_of(dir, img, len, cfg, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "relocations do not place it at 0xffff800008000000"), "%s", err);
	/* A config over KL_CONFIG_MAX is refused before it is read. */
	{
		char *big = malloc(KL_CONFIG_MAX + 2);

		cr_assert_not_null(big);
		memset(big, '#', KL_CONFIG_MAX + 1);
		big[KL_CONFIG_MAX + 1] = 0;
		cr_assert_eq(layout_of(dir, img, len, big, err, sizeof(err)), -EFBIG);
		cr_assert(strstr(err, "larger than 4 MiB"), "%s", err);
		free(big);
	}
	free(cfg);
	free(img);
}

Test(kernel_layout_arm64, oversized_images_are_refused_before_reading)
{
	char dir[] = "/tmp/ktstr-kla64-big-XXXXXX", p[128], err[512];
	Ktstr__GuestKernelLayout *l = (void *)1;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/Image", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)KERNEL_LAYOUT_ARM64_IMAGE_MAX + 1), 0); /* sparse */
	close(fd);
	cr_assert_eq(kernel_layout_from_arm64_entry(dir, &l, err, sizeof(err)), -EFBIG);
	cr_assert_null(l);
	cr_assert(strstr(err, "larger than 256 MiB"), "%s", err);
	unlink(p);
	rmdir(dir);
	/* And no Image at all. */
	cr_assert_eq(kernel_layout_from_arm64_entry(dir, &l, err, sizeof(err)), -ENOENT);
	cr_assert_null(l);
}

/* A hostile flat image: a token table and index the finder accepts, behind
 * 12 MiB of rising u32 that look like markers but never start at 0. Every
 * position of the kallsyms_seqs_of_names search walks them again (16K
 * reads each, the symbol bound); without the bound on marker reads in all
 * (MARKER_STEPS_MAX) that is ~50G reads, about 45 s of CPU here, against
 * well under a second with it. The timeout makes the difference a failure. */
Test(kernel_layout_arm64, marker_search_is_bounded, .timeout = 20)
{
	const size_t nrise = (12u << 20) / 4, len = nrise * 4 + 256 * 3 + 512 + 64;
	uint8_t *img = calloc(1, len);
	struct kl_sym sym = { .name = "linux_banner" };
	struct kl_image im;
	char err[256];
	size_t t;

	cr_assert_not_null(img);
	for (size_t i = 0; i < nrise; i++)
		put_le32(img + 4 * i, (uint32_t)(1000 * i + 1));
	t = nrise * 4;
	for (int i = 0; i < 256; i++) {
		img[t + 3 * i] = 'a' + i % 26;
		img[t + 3 * i + 1] = 'a' + i / 26;
		put_le16(img + t + 256 * 3 + 2 * i, (uint16_t)(3 * i));
	}
	kl_image_open_flat(&im, img, len, 0xffff800080000000ull, 0xffff800080000000ull);
	cr_assert_eq(kl_syms_from_kallsyms(&im, &sym, 1, err, sizeof(err)), -ENOENT, "%s", err);
	cr_assert(strstr(err, "no kallsyms tables recognised"), "%s", err);
	cr_assert_not(sym.found);
	kl_image_close(&im);
	free(img);
}

/* The run's entry point derives an arm64 layout from the entry holding
 * the Image (what `run --arch arm64` sends the worker). */
Test(kernel_layout_arm64, the_monitor_entry_point_reads_the_entry)
{
	char dir[1024], image[1100];
	Ktstr__GuestKernelLayout *l;

	NEED_ENTRY("7.*", dir);
	snprintf(image, sizeof(image), "%s/Image", dir);
	l = kernel_layout_for_monitor(image, KTSTR__ARCH__ARCH_ARM64);
	cr_assert_not_null(l);
	cr_assert(l->has_arch && l->arch == KTSTR__ARCH__ARCH_ARM64 && l->has_runqueues);
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
	/* The same Image taken for an x86_64 kernel is refused, not misread. */
	cr_assert_null(kernel_layout_for_monitor(image, KTSTR__ARCH__ARCH_X86_64));
}

/* The entry's BTF: absent, the symbols still resolve and the reason names
 * the config; damaged, libbpf refuses it and so does the deriver. */
Test(kernel_layout_arm64, an_entry_without_or_with_damaged_btf)
{
	char dir[1024], sd[64], p[128], err[1024], *img, *cfg, *btf;
	Ktstr__GuestKernelLayout *l;
	size_t len, cfglen, btflen;
	int fd;

	NEED_ENTRY("7.*", dir);
	read_entry(dir, "Image", &img, &len);
	read_entry(dir, "config", &cfg, &cfglen);
	read_entry(dir, "vmlinux.btf", &btf, &btflen);
	scratch_entry(sd, sizeof(sd), dir, img, len, cfg);
	snprintf(p, sizeof(p), "%s/vmlinux.btf", sd);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(kernel_layout_from_arm64_entry(sd, &l, err, sizeof(err)), -ENODATA, "%s", err);
	cr_assert(strstr(err, "CONFIG_DEBUG_INFO_BTF=y"), "%s", err);
	cr_assert(l && l->has_runqueues && l->has_linux_banner && !l->has_rq_size,
		  "symbols without BTF");
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
	memset(btf + 4, 0xff, 64);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, btf, btflen), 0);
	close(fd);
	l = (void *)1;
	cr_assert_eq(kernel_layout_from_arm64_entry(sd, &l, err, sizeof(err)), -EINVAL);
	cr_assert_null(l);
	cr_assert(strstr(err, "vmlinux.btf is damaged"), "%s", err);
	scratch_remove(sd);
	free(btf);
	free(cfg);
	free(img);
}
