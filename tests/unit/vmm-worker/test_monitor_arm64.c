/* The monitor on an arm64 guest (docs/monitor.md, "arm64 guests"): the real
 * Debian sid arm64 Image loaded into fake guest RAM (from 0x40000000) where
 * QEMU virt loads it, then booted by hand the way the kernel does it:
 * memstart_addr set, __per_cpu_offset filled, each CPU's rq naming itself.
 * Proves the readiness steps (banner through the image mapping, memstart,
 * the per-CPU self check) and a sample against the real kernel's bytes,
 * without the orchestrator's layout deriver. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>
#include <ktstr/kaddr.h>

#include "arm64-guest/arm64_image.h"
#include "arm64-guest/arm64_layout.h"
#include "monitor/monitor.h"
#include "qemu/qemu_arm64.h"
#include "arm64_sid72_image.h"

#define RAM (128ull << 20)
#define RAM_END (ARM64_DRAM_BASE + RAM)
#define AREA0 (ARM64_DRAM_BASE + (80ull << 20)) /* CPU n's per-CPU area: + n MiB */
#define PO52 0xfff0000000000000ull
#define PO48 0xffff000000000000ull
#define MS 1000000ull

/* The Image this test is bound to: tests/arm64_sid72_image.h. */
#define IMAGE_REL SID72_REL
#define KIMAGE SID72_KIMAGE
#define SYM_LINUX_BANNER SID72_LINUX_BANNER
#define SYM_PER_CPU_OFFSET SID72_PER_CPU_OFFSET
#define SYM_PER_CPU_START SID72_PER_CPU_START
#define SYM_RUNQUEUES SID72_RUNQUEUES
#define SYM_MEMSTART_ADDR SID72_MEMSTART_ADDR
#define RQ_NR_RUNNING SID72_RQ_NR_RUNNING
#define RQ_CLOCK SID72_RQ_CLOCK
#define RQ_CPU SID72_RQ_CPU
static const char banner[] = SID72_BANNER;

struct guest {
	uint8_t *ram; /* [ARM64_DRAM_BASE, RAM_END) */
	uint64_t load;
	uint64_t image_size;
	Ktstr__GuestKernelLayout l;
	Ktstr__KernelField f[3];
};

static int g_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct guest *g = ctx;

	if (gpa < ARM64_DRAM_BASE || gpa >= RAM_END || len > RAM_END - gpa)
		return -EFAULT;
	memcpy(buf, g->ram + (gpa - ARM64_DRAM_BASE), len);
	return 0;
}

static void put(struct guest *g, uint64_t gpa, const void *v, size_t n)
{
	cr_assert(gpa >= ARM64_DRAM_BASE && gpa + n <= RAM_END, "write at %#llx",
		  (unsigned long long)gpa);
	memcpy(g->ram + (gpa - ARM64_DRAM_BASE), v, n);
}

static void put64(struct guest *g, uint64_t gpa, uint64_t v)
{
	put(g, gpa, &v, 8);
}

static uint64_t img(const struct guest *g, uint64_t kva)
{
	return g->load + (kva - KIMAGE);
}

/* RAM of zeros and the layout; the Image is not loaded yet. */
static void guest_init(struct guest *g)
{
	memset(g, 0, sizeof(*g));
	g->ram = calloc(1, RAM);
	cr_assert(g->ram);
	sid72_layout(&g->l, g->f);
}

/* The Image file where QEMU virt puts it (qemu_arm64_kernel_base, from its
 * own header); false when the file is not on this machine. */
static bool load_image(struct guest *g)
{
	const char *cache = getenv("KTSTR_CACHE_DIR");
	struct arm64_image_info info;
	char path[4096], err[256];
	char *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/kernels/" IMAGE_REL "/Image",
		 cache && *cache ? cache : "/var/cache/ktstr");
	if (access(path, R_OK))
		return false;
	cr_assert_eq(read_file(path, &buf, &len, 1u << 30), 0, "read %s", path);
	cr_assert_eq(arm64_image_parse(buf, len, len, &info, err, sizeof(err)), 0, "%s", err);
	g->load = qemu_arm64_kernel_base(&info);
	g->image_size = info.image_size;
	/* text_offset 0 (every kernel since 5.8): 2 MiB past QEMU's stub. */
	cr_assert_eq(g->load, ARM64_DRAM_BASE + (2ull << 20));
	cr_assert(g->load + info.image_size <= AREA0, "image_size %#llx",
		  (unsigned long long)info.image_size);
	put(g, g->load, buf, len);
	free(buf);
	/* The numbers above belong to this Image: its banner is where its
	 * kallsyms said, and memstart_addr holds the kernel's static -1. */
	cr_assert_eq(memcmp(g->ram + (img(g, SYM_LINUX_BANNER) - ARM64_DRAM_BASE), banner,
			    sizeof(banner) - 1),
		     0, "%s is not the Image whose symbols this test knows", path);
	cr_assert_eq(*(int64_t *)(g->ram + (img(g, SYM_MEMSTART_ADDR) - ARM64_DRAM_BASE)), -1);
	cr_assert_eq(info.image_size, SID72_IMAGE_SIZE);
	return true;
}

/* The linear-map address of guest physical gpa, given memstart and the
 * linear map's base (PAGE_OFFSET): the kernel's __phys_to_virt. */
static uint64_t lm(uint64_t po, uint64_t memstart, uint64_t gpa)
{
	return po + (gpa - memstart);
}

/* What the kernel does before the monitor may trust it: memstart_addr
 * (arm64_memblock_init), then each CPU's __per_cpu_offset (setup_per_cpu_areas:
 * area - __per_cpu_start) and its rq->cpu (sched_init). */
static void boot(struct guest *g, uint32_t ncpu, uint64_t po, uint64_t memstart)
{
	put64(g, img(g, SYM_MEMSTART_ADDR), memstart);
	for (uint32_t n = 0; n < ncpu; n++) {
		uint64_t area = AREA0 + n * (1ull << 20);
		int32_t self = (int32_t)n;

		put64(g, img(g, SYM_PER_CPU_OFFSET) + 8 * n,
		      lm(po, memstart, area) - SYM_PER_CPU_START);
		put(g, area + (SYM_RUNQUEUES - SYM_PER_CPU_START) + RQ_CPU, &self, 4);
	}
}

static uint64_t rq_gpa(uint32_t cpu)
{
	return AREA0 + cpu * (1ull << 20) + (SYM_RUNQUEUES - SYM_PER_CPU_START);
}

static struct monitor *new_monitor(struct guest *g, uint32_t ncpu)
{
	struct monitor *m = NULL;
	char err[256] = "";

	cr_assert_eq(monitor_new(&g->l, ncpu, g_read, g, RAM_END, NULL, &m, err, sizeof(err)), 0,
		     "%s", err);
	return m;
}

static void real_image(uint64_t po, uint64_t memstart)
{
	const struct monitor_cpu_sample *c;
	const struct monitor_sample_hdr *h;
	struct guest g;
	struct monitor *m;
	uint32_t v32;
	uint64_t v64;

	guest_init(&g);
	/* Before the engine loads anything: zeros, not a mismatch. */
	m = new_monitor(&g, 2);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "the engine did not say"), "%s",
		  monitor_not_ready_reason(m));
	cr_assert_eq(monitor_set_image_load(m, ARM64_DRAM_BASE, ARM64_DRAM_BASE + (2ull << 20)), 0);
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "reads as zeros"), "%s",
		  monitor_not_ready_reason(m));
	monitor_free(m);
	if (!load_image(&g)) {
		free(g.ram);
		cr_skip_test("no %s arm64 Image in the kernel cache (ktstr-orch kernel fetch --arch "
			     "arm64): the exact Image this test's symbol addresses belong to",
			     IMAGE_REL);
	}
	m = new_monitor(&g, 2);
	cr_assert_eq(monitor_set_image_load(m, ARM64_DRAM_BASE, g.load), 0);
	/* As loaded: the banner matches through the image mapping, but the
	 * kernel has not found its RAM (memstart_addr is -1). */
	cr_assert_eq(monitor_try_ready(m, 0), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "memstart_addr not set yet"), "%s",
		  monitor_not_ready_reason(m));
	/* memstart set, per-CPU areas not yet: the image's zero offsets put
	 * every CPU on the image's own copy, which is not CPU 1's. */
	put64(&g, img(&g, SYM_MEMSTART_ADDR), memstart);
	cr_assert_eq(monitor_try_ready(m, MS), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "cpu"), "%s", monitor_not_ready_reason(m));
	/* One CPU: the image's own copy (its template, zeros) names CPU 0, so
	 * only the zero offset says the areas are not set up. Trusting it
	 * would read init memory the kernel frees and poisons after boot. */
	{
		struct monitor *m1 = new_monitor(&g, 1);

		cr_assert_eq(monitor_set_image_load(m1, ARM64_DRAM_BASE, g.load), 0);
		cr_assert_eq(monitor_try_ready(m1, MS), -EAGAIN);
		cr_assert(strstr(monitor_not_ready_reason(m1),
				 "cpu0's __per_cpu_offset is 0: per-CPU areas not set up yet"),
			  "%s", monitor_not_ready_reason(m1));
		monitor_free(m1);
	}
	/* A garbage memstart (not a base that maps RAM) is refused. */
	put64(&g, img(&g, SYM_MEMSTART_ADDR), 0x1234000);
	cr_assert_eq(monitor_try_ready(m, MS), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "memstart_addr reads 0x1234000"), "%s",
		  monitor_not_ready_reason(m));
	/* Booted: every CPU's rq names itself. */
	boot(&g, 2, po, memstart);
	/* A hostile offset for CPU 1 first (a vmalloc address: no walk). */
	put64(&g, img(&g, SYM_PER_CPU_OFFSET) + 8, 0xffff800090000000ull - SYM_PER_CPU_START);
	cr_assert_eq(monitor_try_ready(m, 2 * MS), -EAGAIN);
	cr_assert(strstr(monitor_not_ready_reason(m), "cpu1's __per_cpu_offset"), "%s",
		  monitor_not_ready_reason(m));
	boot(&g, 2, po, memstart);
	cr_assert_eq(monitor_try_ready(m, 100 * MS), 0, "%s", monitor_not_ready_reason(m));
	cr_assert_eq(monitor_nr_cpus(m), 2, "nr_cpu_ids (512 in the image) above the vCPUs");
	/* A sample reads each CPU's rq where the kernel keeps it. */
	for (uint32_t n = 0; n < 2; n++) {
		v32 = 3 - 2 * n;
		v64 = 123456789 + n;
		put(&g, rq_gpa(n) + RQ_NR_RUNNING, &v32, 4);
		put(&g, rq_gpa(n) + RQ_CLOCK, &v64, 8);
	}
	cr_assert_eq(monitor_sample(m, 200 * MS, NULL), 0);
	cr_assert_eq(monitor_ring_get(m, 0, &h, &c, NULL), 0);
	cr_assert_eq(h->flags & MONITOR_SAMPLE_IMPLAUSIBLE, 0);
	cr_assert_eq(c[0].nr_running, 3);
	cr_assert_eq(c[0].clock, 123456789);
	cr_assert_eq(c[1].nr_running, 1);
	cr_assert_eq(c[1].clock, 123456790);
	monitor_free(m);
	free(g.ram);
}

/* QEMU TCG's -cpu max has 52-bit VAs: RAM at PAGE_OFFSET. */
Test(monitor_arm64, real_image_in_fake_ram_52_bit_cpu)
{
	real_image(PO52, ARM64_DRAM_BASE);
}

/* A host CPU with 48 VA bits (KVM): the kernel lowers memstart below zero
 * and RAM sits at the 48-bit PAGE_OFFSET. */
Test(monitor_arm64, real_image_in_fake_ram_48_bit_cpu)
{
	real_image(PO52, ARM64_DRAM_BASE - (PO48 - PO52));
}

Test(monitor_arm64, incomplete_or_hostile_arm64_layouts_are_refused)
{
	struct guest g;
	struct monitor *m = NULL;
	char err[256];

	guest_init(&g);
#define REFUSED(what)                                                                          \
	do {                                                                                   \
		err[0] = '\0';                                                                 \
		cr_assert_eq(monitor_new(&g.l, 2, g_read, &g, RAM_END, NULL, &m, err, sizeof(err)), \
			     -ENODATA);                                                        \
		cr_assert(strstr(err, what), "%s", err);                                       \
		cr_assert_null(m);                                                             \
	} while (0)
	g.l.has_memstart_addr = 0;
	REFUSED("memstart_addr missing");
	g.l.has_memstart_addr = 1;
	g.l.va_bits = 56;
	REFUSED("va_bits");
	g.l.va_bits = 48;
	g.l.image_size = 2ull << 30;
	REFUSED("image_size");
	g.l.image_size = SID72_IMAGE_SIZE;
	g.l.image_vaddr = PO48; /* inside the linear map */
	REFUSED("image_vaddr");
	g.l.image_vaddr = KIMAGE;
	g.l.memstart_addr = KIMAGE + SID72_IMAGE_SIZE; /* past the image */
	REFUSED("memstart_addr is not");
	g.l.memstart_addr = SYM_MEMSTART_ADDR;
	/* An arm64 layout needs no phys_base or page_offset_base ... */
	cr_assert_eq(monitor_new(&g.l, 2, g_read, &g, RAM_END, NULL, &m, err, sizeof(err)), 0,
		     "%s", err);
	/* ... and an image load address inside RAM. */
	cr_assert_eq(monitor_set_image_load(m, ARM64_DRAM_BASE, ARM64_DRAM_BASE - 4096), -EINVAL);
	cr_assert_eq(monitor_set_image_load(m, ARM64_DRAM_BASE, RAM_END), -EINVAL);
	monitor_free(m);
	/* An x86_64 layout has no image load address to set. */
	g.l.has_arch = 0;
	g.l.has_phys_base = g.l.has_page_offset_base = 1;
	cr_assert_eq(monitor_new(&g.l, 2, g_read, &g, RAM_END, NULL, &m, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(monitor_set_image_load(m, ARM64_DRAM_BASE, ARM64_DRAM_BASE + 4096), -EINVAL);
	monitor_free(m);
	free(g.ram);
}
