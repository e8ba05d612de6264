/* The guest kernel's layout (orchestrator/kernel_layout.c) from the real
 * Debian kernels on this machine: sid 7.2 (sched_ext) and bookworm 6.12 (no
 * sched_ext), both stripped vmlinux files from their bzImages, so the
 * symbols come from the kernel's kallsyms tables.
 *
 * How each expectation is known, independently of the code under test:
 *  - exported symbols (__per_cpu_offset, phys_base, page_offset_base,
 *    nr_cpu_ids) are looked up at run time in the image's __ksymtab (a
 *    different table, with PC-relative entries), below;
 *  - address translation is checked against the image's own program
 *    headers (p_vaddr -> p_paddr), and end to end on a fake guest RAM built
 *    from the image's PT_LOAD segments;
 *  - struct offsets and the other symbols are hard-coded for the exact
 *    kernel releases below, as `bpftool btf dump file VMLINUX format raw`
 *    (bpftool 7.1) reports them (bits_offset / 8) and as the kernel's
 *    kallsyms tables decode by hand (scripts/kallsyms.c's format); a
 *    different release at the same path gets only the run-time checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/kaddr.h>
#include <ktstr/util.h>

#include "kernel_layout.h"
#include "kernel_layout_priv.h"
#include "test_env.h"

#define REL_72 "7.2.13+deb14-cloud-amd64"
#define REL_612 "6.12.118+deb12-cloud-amd64"

struct img {
	char *buf;
	size_t len;
	Elf *elf;
};

static void img_open(struct img *im, const char *path)
{
	cr_assert_eq(read_file(path, &im->buf, &im->len, 1u << 30), 0, "read %s", path);
	elf_version(EV_CURRENT);
	im->elf = elf_memory(im->buf, im->len);
	cr_assert(im->elf);
}

static void img_close(struct img *im)
{
	elf_end(im->elf);
	free(im->buf);
}

static bool section(struct img *im, const char *name, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	elf_getshdrstrndx(im->elf, &shstrndx);
	while ((scn = elf_nextscn(im->elf, scn))) {
		const char *n;

		gelf_getshdr(scn, out);
		n = elf_strptr(im->elf, shstrndx, out->sh_name);
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* An exported symbol's address from __ksymtab: entries are struct
 * kernel_symbol { s32 value_offset, name_offset, namespace_offset } with
 * PC-relative offsets (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS, x86_64).
 * 6.12 keeps GPL exports in __ksymtab_gpl. */
static bool ksymtab(struct img *im, const char *name, uint64_t *addr)
{
	static const char *const tabs[] = { "__ksymtab", "__ksymtab_gpl" };
	GElf_Shdr strs;

	cr_assert(section(im, "__ksymtab_strings", &strs));
	for (int t = 0; t < 2; t++) {
		GElf_Shdr sh;

		if (!section(im, tabs[t], &sh))
			continue;
		for (uint64_t e = 0; e + 12 <= sh.sh_size; e += 12) {
			int32_t v, n;
			uint64_t nva;

			memcpy(&v, im->buf + sh.sh_offset + e, 4);
			memcpy(&n, im->buf + sh.sh_offset + e + 4, 4);
			nva = sh.sh_addr + e + 4 + (uint64_t)(int64_t)n;
			if (nva < strs.sh_addr || nva - strs.sh_addr >= strs.sh_size)
				continue;
			if (strcmp(im->buf + strs.sh_offset + (nva - strs.sh_addr), name))
				continue;
			*addr = sh.sh_addr + e + (uint64_t)(int64_t)v;
			return true;
		}
	}
	return false;
}

/* kva -> physical address through the image's program headers. */
static bool phdr_paddr(struct img *im, uint64_t kva, uint64_t *pa)
{
	size_t n;

	elf_getphdrnum(im->elf, &n);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		gelf_getphdr(im->elf, (int)i, &ph);
		if (ph.p_type == PT_LOAD && kva >= ph.p_vaddr && kva - ph.p_vaddr < ph.p_memsz) {
			*pa = ph.p_paddr + (kva - ph.p_vaddr);
			return true;
		}
	}
	return false;
}

static bool missing_has(const Ktstr__GuestKernelLayout *l, const char *what)
{
	for (size_t i = 0; i < l->n_missing; i++)
		if (strstr(l->missing[i], what))
			return true;
	return false;
}

static void log_missing(const Ktstr__GuestKernelLayout *l)
{
	for (size_t i = 0; i < l->n_missing; i++)
		cr_log_info("%s: missing %s", l->release, l->missing[i]);
}

#define FIELD_EQ(f, off, sz)                                                            \
	do {                                                                            \
		cr_assert(l->f, #f " found");                                           \
		cr_assert_eq(l->f->offset, off, #f " offset %u", l->f->offset);         \
		cr_assert_eq(l->f->size, sz, #f " size %u", l->f->size);                \
	} while (0)

/* The checks both kernels get: exported symbols agree with __ksymtab, the
 * banner is the image's, translation agrees with the program headers. */
static void common_checks(const char *path, const Ktstr__GuestKernelLayout *l)
{
	struct img im;
	uint64_t a, pa, gpa;
	struct kaddr_map m = { .phys_base = 0, .gpa_limit = 1ull << 32 };

	img_open(&im, path);
	cr_assert(l->has_per_cpu_offset && ksymtab(&im, "__per_cpu_offset", &a));
	cr_assert_eq(l->per_cpu_offset, a, "__per_cpu_offset %#lx vs __ksymtab %#lx",
		     (unsigned long)l->per_cpu_offset, (unsigned long)a);
	cr_assert(l->has_phys_base && ksymtab(&im, "phys_base", &a));
	cr_assert_eq(l->phys_base, a);
	cr_assert(l->has_page_offset_base && ksymtab(&im, "page_offset_base", &a));
	cr_assert_eq(l->page_offset_base, a);
	cr_assert(l->has_nr_cpu_ids && ksymtab(&im, "nr_cpu_ids", &a));
	cr_assert_eq(l->nr_cpu_ids, a);
	cr_assert(l->has_banner && l->banner.len > 20);
	cr_assert_eq(memcmp(l->banner.data, "Linux version ", 14), 0);
	cr_assert_eq(memcmp(l->banner.data + 14, l->release, strlen(l->release)), 0);
	cr_assert(l->has_rq_size && l->rq_nr_running && l->rq_clock && l->rq_cpu);
	/* The kernel-image translation (phys_base 0: runs where linked) is
	 * what the ELF program headers say, for every image symbol. */
	{
		const uint64_t kvas[] = { l->linux_banner, l->per_cpu_offset, l->page_offset_base,
					  l->phys_base, l->nr_cpu_ids };

		for (size_t i = 0; i < ARRAY_SIZE(kvas); i++) {
			cr_assert(phdr_paddr(&im, kvas[i], &pa), "%#lx in a PT_LOAD",
				  (unsigned long)kvas[i]);
			cr_assert_eq(kaddr_to_gpa(&m, kvas[i], 8, &gpa), 0);
			cr_assert_eq(gpa, pa, "%#lx: %#lx vs p_paddr %#lx", (unsigned long)kvas[i],
				     (unsigned long)gpa, (unsigned long)pa);
		}
	}
	img_close(&im);
}

/* A guest as the worker will see it: RAM holding the image's PT_LOAD
 * segments at their physical addresses, per-CPU areas in the direct map
 * with each CPU's rq->cpu set, and __per_cpu_offset[] filled in the way
 * the kernel does. The worker's read path must find every CPU's rq and
 * the banner through the layout alone. */
static uint8_t *guest_ram;
static uint64_t guest_ram_len;

static int guest_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	if (gpa >= guest_ram_len || len > guest_ram_len - gpa)
		return -EFAULT;
	memcpy(buf, guest_ram + gpa, len);
	return 0;
}

static void simulated_guest(const char *path, const Ktstr__GuestKernelLayout *l, uint64_t page_offset)
{
	const unsigned ncpu = 4;
	const uint64_t area0 = 0x8000000, area_size = 0x100000; /* 128 MiB up, 1 MiB apart */
	struct kaddr_map m = { .phys_base = 0, .page_offset = page_offset };
	struct img im;
	uint64_t pcpu_start = l->has_per_cpu_start ? l->per_cpu_start : 0, gpa, kva, off;
	size_t nph;

	img_open(&im, path);
	guest_ram_len = area0 + ncpu * area_size;
	guest_ram = calloc(1, guest_ram_len);
	cr_assert(guest_ram);
	m.gpa_limit = guest_ram_len;
	elf_getphdrnum(im.elf, &nph);
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		gelf_getphdr(im.elf, (int)i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		cr_assert(ph.p_paddr + ph.p_filesz <= area0, "image below the per-CPU areas");
		memcpy(guest_ram + ph.p_paddr, im.buf + ph.p_offset, ph.p_filesz);
	}
	cr_assert_eq(kaddr_check_banner(&m, guest_read, NULL, l->linux_banner, l->banner.data,
					l->banner.len),
		     0, "the banner self check passes on the image as loaded");
	for (unsigned n = 0; n < ncpu; n++) {
		/* setup_per_cpu_areas: __per_cpu_offset[n] = area - __per_cpu_start. */
		off = page_offset + area0 + n * area_size - pcpu_start;
		cr_assert_eq(kaddr_to_gpa(&m, l->per_cpu_offset + 8 * n, 8, &gpa), 0);
		memcpy(guest_ram + gpa, &off, 8);
		gpa = area0 + n * area_size + (l->runqueues - pcpu_start) + l->rq_cpu->offset;
		memcpy(guest_ram + gpa, &n, 4);
	}
	for (unsigned n = 0; n < ncpu; n++) {
		int32_t cpu = -1;

		cr_assert_eq(kaddr_percpu(&m, guest_read, NULL, l->per_cpu_offset, n, ncpu, l->runqueues,
					  l->rq_size, &kva),
			     0);
		cr_assert_eq(kaddr_read(&m, guest_read, NULL, kva + l->rq_cpu->offset, &cpu, 4), 0);
		cr_assert_eq(cpu, (int32_t)n, "rq->cpu of CPU %u reads %d", n, cpu);
	}
	free(guest_ram);
	img_close(&im);
}

Test(kernel_layout, sid_7_2_with_sched_ext)
{
	char path[4096], err[512];
	Ktstr__GuestKernelLayout *l;

	if (!test_env_kernel("vmlinux", path, sizeof(path)))
		test_missing("no sched_ext test vmlinux at %s (set KTSTR_TEST_KERNEL)", path);
	cr_assert_eq(kernel_layout_from_vmlinux(path, &l, err, sizeof(err)), 0, "%s", err);
	log_missing(l);
	cr_assert_str_eq(l->symbol_source, "kallsyms", "Debian's vmlinux is stripped");
	common_checks(path, l);
	/* sched_ext: everything the sampler and the watchdog write need. */
	cr_assert(l->rq_scx && l->scx_rq_nr_running && l->scx_rq_local_dsq && l->scx_rq_flags &&
		  l->scx_dsq_nr && l->has_scx_enable_state && l->n_scx_enable_states == 4);
	cr_assert(l->has_scx_root && l->scx_sched_watchdog_timeout, "7.x: per-root watchdog timeout");
	cr_assert(l->scx_rq_runnable_list && l->task_scx && l->scx_entity_runnable_node &&
		  l->scx_entity_runnable_at && l->task_pid && l->task_comm);
	cr_assert_not(l->has_scx_watchdog_timeout, "7.x has no static scx_watchdog_timeout");
	cr_assert(l->n_scx_events >= 10 && l->scx_sched_pcpu && l->scx_sched_pcpu_event_stats);
	cr_assert_str_eq(l->scx_events[0]->name, "SCX_EV_SELECT_CPU_FALLBACK");
	cr_assert_eq(l->n_missing, 0);
	simulated_guest(path, l, 0xff11000000000000ull);
	if (strcmp(l->release, REL_72)) {
		cr_log_warn("release %s: exact values are known for " REL_72 " only", l->release);
		goto out;
	}
	cr_assert_eq(l->hz, 250, "CONFIG_HZ from the config beside the vmlinux");
	/* kallsyms, 7.2: PC-relative offsets, per-CPU section linked at
	 * 0xffffffff83da5000 (readelf -S: .data..percpu). */
	cr_assert_eq(l->linux_banner, 0xffffffff82589580ull);
	cr_assert_eq(l->per_cpu_start, 0xffffffff83da5000ull);
	cr_assert_eq(l->runqueues, 0xffffffff83dd7100ull, "= .data..percpu + BTF DATASEC 0x32100");
	cr_assert(l->has_init_top_pgt && l->init_top_pgt % 4096 == 0 &&
		  l->init_top_pgt >= 0xffffffff80000000ull, "init_top_pgt %#llx",
		  (unsigned long long)l->init_top_pgt);
	cr_assert_eq(l->scx_root, 0xffffffff83e4afd0ull);
	cr_assert_eq(l->scx_enable_state, 0xffffffff8327cb90ull);
	/* bpftool btf dump: STRUCT 'rq' size=4480; nr_running bits 0, clock
	 * 29824, clock_task 29696, cpu 31040, scx 20416 (scx_rq size 384). */
	cr_assert_eq(l->rq_size, 4480);
	FIELD_EQ(rq_nr_running, 0, 4);
	FIELD_EQ(rq_clock, 3728, 8);
	FIELD_EQ(rq_clock_task, 3712, 8);
	FIELD_EQ(rq_cpu, 3880, 4);
	FIELD_EQ(rq_scx, 2552, 384);
	/* scx_rq: local_dsq 0 (scx_dispatch_q size 104), nr_running 1152,
	 * flags 1248; scx_dispatch_q.nr 320; scx_sched.watchdog_timeout 6720,
	 * pcpu 5504; scx_sched_pcpu.event_stats 128 (scx_event_stats 104). */
	FIELD_EQ(scx_rq_local_dsq, 0, 104);
	FIELD_EQ(scx_rq_nr_running, 144, 4);
	FIELD_EQ(scx_rq_flags, 156, 4);
	FIELD_EQ(scx_dsq_nr, 40, 4);
	FIELD_EQ(scx_sched_watchdog_timeout, 840, 8);
	FIELD_EQ(scx_sched_pcpu, 688, 8);
	FIELD_EQ(scx_sched_pcpu_event_stats, 16, 104);
	cr_assert_eq(l->scx_event_stats_size, 104);
	/* The runnable-task check (pahole): scx_rq.runnable_list 104,
	 * sched_ext_entity.runnable_node 136, runnable_at 152; task_struct.scx
	 * 776 (sched_ext_entity size 224), pid 2808, comm 3344. */
	FIELD_EQ(scx_rq_runnable_list, 104, 16);
	FIELD_EQ(scx_entity_runnable_node, 136, 16);
	FIELD_EQ(scx_entity_runnable_at, 152, 8);
	FIELD_EQ(task_scx, 776, 224);
	FIELD_EQ(task_pid, 2808, 4);
	FIELD_EQ(task_comm, 3344, 16);
	cr_assert_eq(l->n_scx_events, 13);
	cr_assert_str_eq(l->scx_enable_states[1]->name, "SCX_ENABLED");
	cr_assert_eq(l->scx_enable_states[1]->value, 1);
out:
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
}

Test(kernel_layout, bookworm_6_12_without_sched_ext)
{
	char path[4096], err[512];
	Ktstr__GuestKernelLayout *l;

	if (!test_env_kernel("noscx", path, sizeof(path)))
		test_missing("no bookworm 6.12 vmlinux at %s (set KTSTR_TEST_KERNEL_NOSCX)", path);
	cr_assert_eq(kernel_layout_from_vmlinux(path, &l, err, sizeof(err)), 0, "%s", err);
	log_missing(l);
	common_checks(path, l);
	/* No sched_ext: said once, and the rest still there. */
	cr_assert(missing_has(l, "CONFIG_SCHED_CLASS_EXT is off"));
	cr_assert_eq(l->n_missing, 1);
	cr_assert_not(l->rq_scx || l->has_scx_enable_state || l->has_scx_root || l->n_scx_events);
	simulated_guest(path, l, 0xffff888000000000ull);
	if (strcmp(l->release, REL_612)) {
		cr_log_warn("release %s: exact values are known for " REL_612 " only", l->release);
		goto out;
	}
	/* kallsyms, 6.12: base-relative offsets with absolute per-CPU symbols
	 * (CONFIG_KALLSYMS_ABSOLUTE_PERCPU): runqueues is an offset from 0,
	 * equal to BTF's .data..percpu DATASEC offset. */
	cr_assert_eq(l->runqueues, 0x35e80);
	cr_assert_eq(l->per_cpu_start, 0);
	cr_assert_eq(l->linux_banner, 0xffffffff821532e0ull);
	/* bpftool: STRUCT 'rq' size=3456; nr_running bits 32, clock 21888,
	 * clock_task 22016, cpu 23360. */
	cr_assert_eq(l->rq_size, 3456);
	FIELD_EQ(rq_nr_running, 4, 4);
	FIELD_EQ(rq_clock, 2736, 8);
	FIELD_EQ(rq_clock_task, 2752, 8);
	FIELD_EQ(rq_cpu, 2920, 4);
out:
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
}

Test(kernel_layout, a_bzimage_path_uses_the_vmlinux_beside_it)
{
	char path[4096], err[512];
	Ktstr__GuestKernelLayout *l;

	if (!test_env_kernel("bzImage", path, sizeof(path)))
		test_missing("no test bzImage at %s (set KTSTR_TEST_BZIMAGE)", path);
	cr_assert_eq(kernel_layout_from_vmlinux(path, &l, err, sizeof(err)), 0, "%s", err);
	cr_assert(l->has_runqueues && l->release);
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
}

/* ---- untrusted images: every kind of garbage is a clean error ---- */

static int write_tmp(const void *data, size_t len, char *path, size_t cap)
{
	int fd;

	snprintf(path, cap, "/tmp/ktstr-kl-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write_full(fd, data, len), 0);
	close(fd);
	return 0;
}

static int layout_of(const void *data, size_t len, char *err, size_t errlen)
{
	Ktstr__GuestKernelLayout *l = NULL;
	char path[64];
	int ret;

	write_tmp(data, len, path, sizeof(path));
	err[0] = 0;
	ret = kernel_layout_from_vmlinux(path, &l, err, errlen);
	unlink(path);
	if (l)
		ktstr__guest_kernel_layout__free_unpacked(l, NULL);
	if (ret)
		cr_assert(err[0], "every error has a reason (ret %d)", ret);
	return ret;
}

Test(kernel_layout, garbage_is_refused_cleanly)
{
	char err[512], *img;
	size_t len;
	uint8_t junk[8192];

	cr_assert_eq(layout_of("", 0, err, sizeof(err)), -EINVAL);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 2654435761u >> 13);
	cr_assert_eq(layout_of(junk, sizeof(junk), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "neither an ELF vmlinux nor a bzImage"), "%s", err);
	memcpy(junk, "\x7f" "ELF", 4);
	cr_assert_eq(layout_of(junk, sizeof(junk), err, sizeof(err)), -EINVAL);
	/* Not a kernel at all: an x86_64 ELF with symbols but no linux_banner. */
	cr_assert_eq(read_file("/proc/self/exe", &img, &len, 1u << 30), 0);
	cr_assert_eq(layout_of(img, len, err, sizeof(err)), -ENODATA);
	cr_assert(strstr(err, "linux_banner"), "%s", err);
	free(img);
}

Test(kernel_layout, truncated_kernels_are_refused_cleanly)
{
	char path[4096], err[512], *img;
	size_t len;

	if (!test_env_kernel("vmlinux", path, sizeof(path)))
		test_missing("no test vmlinux at %s (set KTSTR_TEST_KERNEL)", path);
	cr_assert_eq(read_file(path, &img, &len, 1u << 30), 0);
	/* Truncated anywhere: the section headers sit at the end, so every
	 * cut loses them (or the tables the sections point at). */
	{
		static const size_t cuts[] = { 4, 64, 4096, 1u << 20, 32u << 20 };

		for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
			int ret = layout_of(img, cuts[i], err, sizeof(err));

			cr_assert(ret == -EINVAL || ret == -ENODATA, "cut at %zu: %d %s", cuts[i], ret,
				  err);
		}
		/* Into the section-header table (e_shoff: ELF64 header offset 0x28). */
		{
			uint64_t shoff;
			int r;

			memcpy(&shoff, img + 0x28, 8);
			cr_assert(shoff + 100 < len);
			r = layout_of(img, shoff + 100, err, sizeof(err));
			cr_assert(r == -EINVAL || r == -ENODATA, "%d %s", r, err);
		}
	}
	free(img);
}

/* Damage one part of the real image at a time. */
static char *find_bytes(char *img, size_t len, const char *s, size_t slen)
{
	return memmem(img, len, s, slen);
}

Test(kernel_layout, a_kernel_without_btf_or_symbols_says_what_is_missing)
{
	char path[4096], err[512], *img, *p;
	size_t len;
	struct img im;
	GElf_Shdr sh;

	if (!test_env_kernel("vmlinux", path, sizeof(path)))
		test_missing("no test vmlinux at %s (set KTSTR_TEST_KERNEL)", path);
	cr_assert_eq(read_file(path, &img, &len, 1u << 30), 0);

	/* No .BTF (renamed in the section-name table): the symbols still
	 * resolve, the monitor cannot run, and the reason names the config. */
	im = (struct img){ .buf = img, .len = len };
	im.elf = elf_memory(img, len);
	cr_assert(section(&im, ".shstrtab", &sh));
	elf_end(im.elf);
	p = find_bytes(img + sh.sh_offset, sh.sh_size, "\0.BTF\0", 6);
	cr_assert(p);
	p[2] = 'X';
	cr_assert_eq(layout_of(img, len, err, sizeof(err)), -ENODATA);
	cr_assert(strstr(err, "CONFIG_DEBUG_INFO_BTF=y"), "%s", err);
	p[2] = 'B';

	/* A damaged .BTF: libbpf refuses it, and so do we. */
	im = (struct img){ .buf = img, .len = len };
	im.elf = elf_memory(img, len);
	cr_assert(section(&im, ".BTF", &sh));
	elf_end(im.elf);
	memset(img + sh.sh_offset + 4, 0xff, 64);
	cr_assert_eq(layout_of(img, len, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ".BTF section is damaged"), "%s", err);
	free(img);

	/* No kallsyms: the token index destroyed. The only symbols gone, the
	 * reason names what to use instead. */
	cr_assert_eq(read_file(path, &img, &len, 1u << 30), 0);
	{
		/* The token table holds "0\0" .. "9\0" as single-character
		 * tokens, in a row: blank every such run in the image. */
		static const char digits[] = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009";
		size_t hits = 0;

		for (p = img; (p = find_bytes(p, len - (size_t)(p - img), digits, 19)); hits++)
			memset(p, 0, 19);
		cr_assert(hits > 0, "digit tokens in the image");
		int r = layout_of(img, len, err, sizeof(err));

		cr_assert_eq(r, -ENODATA, "%d %s", r, err);
		cr_assert(strstr(err, "no kernel symbols") && strstr(err, "-dbg"), "%s", err);
	}
	free(img);
}

Test(kernel_layout, oversized_files_are_refused_before_reading)
{
	char path[] = "/tmp/ktstr-kl-big-XXXXXX", err[256];
	Ktstr__GuestKernelLayout *l = (void *)1;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, (off_t)KERNEL_LAYOUT_FILE_MAX + 1), 0); /* sparse */
	close(fd);
	cr_assert_eq(kernel_layout_from_vmlinux(path, &l, err, sizeof(err)), -EFBIG);
	cr_assert_null(l);
	cr_assert(strstr(err, "1 GiB"), "%s", err);
	unlink(path);
}

/* ---- a kernel built from source: symbols from .symtab ---- */

/* An unstripped ELF of our own making stands in for a source-built
 * vmlinux: gcc links a file defining the symbols the deriver looks for,
 * and nm(1) says where they landed. kl_syms_from_symtab must agree, and
 * miss what is not there. */
Test(kernel_layout, symtab_symbols_of_an_unstripped_image)
{
	static const char src[] =
		"char linux_banner[] = \"Linux version 9.9.9-src (ktstr test)\";\n"
		"unsigned long __per_cpu_offset[8], page_offset_base, phys_base;\n"
		"unsigned int nr_cpu_ids = 8;\n"
		"struct { char pad[4096]; } runqueues;\n"
		"unsigned long long jiffies_64;\n"
		"void _start(void) { for (;;) ; }\n";
	char dir[] = "/tmp/ktstr-symtab-XXXXXX", path[128], cmd[512], err[256], line[256];
	const char *names[] = { "linux_banner", "__per_cpu_offset", "page_offset_base",
				"phys_base", "nr_cpu_ids", "runqueues", "jiffies_64",
				"scx_root" /* not in this image */ };
	struct kl_sym syms[ARRAY_SIZE(names)];
	struct kl_image im;
	uint8_t *data;
	size_t len;
	FILE *nm;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.c", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, src, sizeof(src) - 1), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "gcc -O0 -nostdlib -static -no-pie -o %s/vmlinux %s 2>&1", dir,
		 path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(path, sizeof(path), "%s/vmlinux", dir);
	cr_assert_eq(read_file(path, (char **)&data, &len, 1u << 24), 0);
	cr_assert_eq(kl_image_open(&im, data, len, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		syms[i] = (struct kl_sym){ .name = names[i] };
	cr_assert_eq(kl_syms_from_symtab(&im, syms, ARRAY_SIZE(names), err, sizeof(err)), 0, "%s",
		     err);
	snprintf(cmd, sizeof(cmd), "nm %s", path);
	nm = popen(cmd, "r");
	cr_assert_not_null(nm);
	while (fgets(line, sizeof(line), nm)) {
		unsigned long long addr;
		char type, name[128];

		if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(name, names[i])) {
				cr_assert(syms[i].found, "%s not found", names[i]);
				cr_assert_eq(syms[i].addr, addr, "%s: %#llx, nm says %#llx", names[i],
					     (unsigned long long)syms[i].addr, addr);
			}
	}
	pclose(nm);
	for (size_t i = 0; i + 1 < ARRAY_SIZE(names); i++)
		cr_assert(syms[i].found, "%s", names[i]);
	cr_assert_not(syms[ARRAY_SIZE(names) - 1].found, "scx_root is not in this image");
	kl_image_close(&im);
	free(data);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
