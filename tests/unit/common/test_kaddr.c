/* Guest kernel address translation (include/ktstr/kaddr.h) on a synthetic
 * guest: a small RAM buffer, a kernel image "linked" at the usual x86_64
 * address, per-CPU areas in the direct map, and a guest that writes
 * garbage where the host reads offsets. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <ktstr/kaddr.h>
#include <ktstr/le.h>
#include <ktstr/util.h>

#define RAM (16u << 20)
#define PAGE_OFFSET_L4 0xffff888000000000ull
#define PAGE_OFFSET_L5 0xff11000000000000ull


static uint8_t ram[RAM];

struct rd_ctx {
	unsigned calls;
};

/* The worker's callback: guest RAM is [0, RAM); anything else is a hole. */
static int rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct rd_ctx *c = ctx;

	c->calls++;
	if (gpa >= RAM || len > RAM - gpa)
		return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static void put64(uint64_t gpa, uint64_t v)
{
	put_le64(ram + gpa, v);
}

Test(kaddr, kernel_image_and_direct_map_translate_linearly)
{
	struct kaddr_map m = { .phys_base = 0, .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM };
	uint64_t gpa;

	/* __START_KERNEL_map + 1 MiB -> gpa 1 MiB (phys_base 0). */
	cr_assert_eq(kaddr_to_gpa(&m, KADDR_START_KERNEL_MAP + 0x100000, 8, &gpa), 0);
	cr_assert_eq(gpa, 0x100000);
	/* phys_base shifts only the kernel image. */
	m.phys_base = 0x200000;
	cr_assert_eq(kaddr_to_gpa(&m, KADDR_START_KERNEL_MAP + 0x100000, 8, &gpa), 0);
	cr_assert_eq(gpa, 0x300000);
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4 + 0x1234, 4, &gpa), 0);
	cr_assert_eq(gpa, 0x1234);
	/* 5-level paging: the base the guest chose, read at run time. */
	m.page_offset = PAGE_OFFSET_L5;
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L5 + 0x5000, 4, &gpa), 0);
	cr_assert_eq(gpa, 0x5000);
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4 + 0x5000, 4, &gpa), -ERANGE,
		     "the 4-level base is not mapped when the guest runs 5-level");
}

Test(kaddr, out_of_ram_and_unmapped_regions_are_refused)
{
	struct kaddr_map m = { .phys_base = 0, .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM };
	uint64_t gpa = 0x5a5a;

	/* Last byte of RAM fine, one past it not, nor an object straddling it. */
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4 + RAM - 1, 1, &gpa), 0);
	cr_assert_eq(gpa, RAM - 1);
	gpa = 0x5a5a;
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4 + RAM, 1, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4 + RAM - 4, 8, &gpa), -EFAULT);
	cr_assert_eq(kaddr_to_gpa(&m, KADDR_START_KERNEL_MAP + RAM - 4, 8, &gpa), -EFAULT);
	/* vmalloc (0xffffc90000000000), user space, 0: no linear mapping. */
	cr_assert_eq(kaddr_to_gpa(&m, 0xffffc90000001000ull, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, 0x400000, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, 0, 8, &gpa), -ERANGE);
	/* Past the 1 GiB kernel-image span (modules live there). */
	cr_assert_eq(kaddr_to_gpa(&m, KADDR_START_KERNEL_MAP + KADDR_KERNEL_IMAGE_SIZE, 8, &gpa),
		     -ERANGE);
	/* Wrapping the address space, zero length. */
	cr_assert_eq(kaddr_to_gpa(&m, UINT64_MAX - 2, 8, &gpa), -EFAULT);
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4, 0, &gpa), -EINVAL);
	/* A hostile phys_base that wraps the sum. */
	m.phys_base = UINT64_MAX - 0x10;
	cr_assert_eq(kaddr_to_gpa(&m, KADDR_START_KERNEL_MAP + 0x100, 8, &gpa), -EFAULT);
	/* Direct map before page_offset_base was read: refused, not guessed. */
	m.phys_base = 0;
	m.page_offset = 0;
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_OFFSET_L4 + 0x1000, 8, &gpa), -ERANGE);
	cr_assert_eq(gpa, 0x5a5a, "no failed call wrote an address");
}

Test(kaddr, reads_are_bounded)
{
	struct kaddr_map m = { .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM };
	struct rd_ctx c = { 0 };
	static uint8_t big[KADDR_READ_MAX + 1];

	cr_assert_eq(kaddr_read(&m, rd, &c, PAGE_OFFSET_L4, big, sizeof(big)), -EINVAL);
	cr_assert_eq(kaddr_read(&m, rd, &c, PAGE_OFFSET_L4, big, 0), -EINVAL);
	cr_assert_eq(c.calls, 0, "nothing read for a refused length");
	cr_assert_eq(kaddr_read(&m, rd, &c, PAGE_OFFSET_L4, big, KADDR_READ_MAX), 0);
}

/* Per-CPU: runqueues is a per-CPU variable; CPU n's rq lies at &runqueues +
 * __per_cpu_offset[n]. Both layouts the kernel has used are exercised. */
Test(kaddr, percpu_zero_based_and_image_linked)
{
	struct kaddr_map m = { .phys_base = 0, .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM };
	const uint64_t pcpu_offset_gpa = 0x200000; /* __per_cpu_offset[] in the image */
	const uint64_t pcpu_offset_kva = KADDR_START_KERNEL_MAP + pcpu_offset_gpa;
	const uint64_t areas = 0x800000, area_size = 0x40000;
	struct rd_ctx c = { 0 };
	uint64_t kva, gpa;

	memset(ram, 0, sizeof(ram));
	/* x86_64 before 6.15: per-CPU symbols are offsets from 0 and
	 * __per_cpu_offset[n] is the area's direct-map address. */
	for (unsigned n = 0; n < 4; n++)
		put64(pcpu_offset_gpa + 8 * n, PAGE_OFFSET_L4 + areas + n * area_size);
	for (unsigned n = 0; n < 4; n++) {
		cr_assert_eq(kaddr_percpu(&m, rd, &c, pcpu_offset_kva, n, 4, 0x35e80, 3456, &kva), 0);
		cr_assert_eq(kaddr_to_gpa(&m, kva, 3456, &gpa), 0);
		cr_assert_eq(gpa, areas + n * area_size + 0x35e80, "cpu %u", n);
	}
	/* 6.15+: the per-CPU section is linked in the image and the offset
	 * is area - __per_cpu_start; the sum wraps into the direct map. */
	{
		const uint64_t start = 0xffffffff83da5000ull, rq = 0xffffffff83dd7100ull;

		for (unsigned n = 0; n < 4; n++)
			put64(pcpu_offset_gpa + 8 * n, PAGE_OFFSET_L4 + areas + n * area_size - start);
		cr_assert_eq(kaddr_percpu(&m, rd, &c, pcpu_offset_kva, 3, 4, rq, 4480, &kva), 0);
		cr_assert_eq(kva, PAGE_OFFSET_L4 + areas + 3 * area_size + (rq - start));
	}
}

Test(kaddr, percpu_garbage_never_yields_a_wild_address)
{
	struct kaddr_map m = { .phys_base = 0, .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM };
	const uint64_t pcpu_offset_gpa = 0x200000;
	const uint64_t pcpu_offset_kva = KADDR_START_KERNEL_MAP + pcpu_offset_gpa;
	static const uint64_t garbage[] = {
		0,                           /* zero-based var + 0: user address */
		0xdeadbeefdeadbeefull,       /* noise */
		PAGE_OFFSET_L4 + RAM,        /* one past RAM */
		PAGE_OFFSET_L4 + RAM - 0x100, /* rq straddles the end of RAM */
		UINT64_MAX,                  /* wraps */
		0xffffc90000000000ull,       /* vmalloc */
	};
	struct rd_ctx c = { 0 };
	uint64_t kva = 0x1111;

	memset(ram, 0, sizeof(ram));
	for (size_t i = 0; i < ARRAY_SIZE(garbage); i++) {
		put64(pcpu_offset_gpa, garbage[i]);
		cr_assert_eq(kaddr_percpu(&m, rd, &c, pcpu_offset_kva, 0, 1, 0x35e80, 3456, &kva),
			     -EFAULT, "garbage %#llx", (unsigned long long)garbage[i]);
	}
	cr_assert_eq(kva, 0x1111, "no failed call wrote an address");
	/* A CPU past the VM's vCPUs is never read at all. */
	c.calls = 0;
	cr_assert_eq(kaddr_percpu(&m, rd, &c, pcpu_offset_kva, 4, 4, 0x35e80, 3456, &kva), -EINVAL);
	cr_assert_eq(c.calls, 0);
	/* The array itself outside RAM: the read is refused. */
	cr_assert_eq(kaddr_percpu(&m, rd, &c, KADDR_START_KERNEL_MAP + RAM, 0, 1, 0x35e80, 3456, &kva),
		     -EFAULT);
}

Test(kaddr, banner_self_check)
{
	static const char banner[] = "Linux version 7.2.13+deb14-cloud-amd64 (debian-kernel@lists";
	struct kaddr_map m = { .phys_base = 0, .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM };
	struct rd_ctx c = { 0 };

	memset(ram, 0, sizeof(ram));
	memcpy(ram + 0x589580, banner, sizeof(banner) - 1);
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KADDR_START_KERNEL_MAP + 0x589580, banner,
					sizeof(banner) - 1),
		     0);
	/* Wrong phys_base (or KASLR on): the bytes differ. */
	m.phys_base = 0x1000;
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KADDR_START_KERNEL_MAP + 0x589580, banner,
					sizeof(banner) - 1),
		     -ESRCH);
	/* A banner address outside the kernel image is a bad layout. */
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, PAGE_OFFSET_L4 + 0x589580, banner,
					sizeof(banner) - 1),
		     -ERANGE);
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KADDR_START_KERNEL_MAP, banner, 0), -EINVAL);
}

/* ---- the page-table walk: what is not linearly mapped ---- */

#define PT_P 0x1ull  /* present */
#define PT_RW 0x2ull
#define PT_PS 0x80ull
#define PT_NX (1ull << 63)

/* Index of kva at a level (0 = PTE ... 4 = PML5). */
static unsigned pt_idx(uint64_t kva, int lvl)
{
	return (unsigned)((kva >> (12 + 9 * lvl)) & 511);
}

/* Map the 4 KiB page at kva to gpa page: tables at tbl[0..levels-1]
 * (tbl[levels-1] is the root), as the kernel's vmalloc leaves them. */
static void pt_map4k(const uint64_t *tbl, int levels, uint64_t kva, uint64_t page)
{
	for (int lvl = levels - 1; lvl > 0; lvl--)
		put64(tbl[lvl] + 8 * pt_idx(kva, lvl), tbl[lvl - 1] | PT_P | PT_RW);
	put64(tbl[0] + 8 * pt_idx(kva, 0), page | PT_P | PT_RW | PT_NX);
}

Test(kaddr, vmalloc_addresses_are_walked_4_and_5_level)
{
	struct rd_ctx c = { 0 };
	/* 4-level: PGD 0x10000, PUD 0x11000, PMD 0x12000, PT 0x13000. */
	const uint64_t t4[4] = { 0x13000, 0x12000, 0x11000, 0x10000 };
	const uint64_t t5[5] = { 0x23000, 0x22000, 0x21000, 0x20000, 0x1f000 };
	const uint64_t v4 = 0xffffc90000123000ull, v5 = 0xffa0000000456000ull;
	struct kaddr_map m = { .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM,
			       .pgd_gpa = 0x10000, .levels = 4 };
	uint64_t gpa, room, v;
	uint8_t buf[16];

	memset(ram, 0, 0x40000);
	cr_assert_eq(kaddr_levels_for(PAGE_OFFSET_L4), 4);
	cr_assert_eq(kaddr_levels_for(PAGE_OFFSET_L5), 5);
	/* Two virtually adjacent pages on physically distant frames. */
	pt_map4k(t4, 4, v4, 0x300000);
	pt_map4k(t4, 4, v4 + 0x1000, 0x500000);
	cr_assert_eq(kaddr_walk(&m, rd, &c, v4 + 0x456, &gpa, &room), 0);
	cr_assert_eq(gpa, 0x300456);
	cr_assert_eq(room, 0x1000 - 0x456);
	put64(0x300ff8, 0x1111111111111111ull);
	put64(0x500000, 0x2222222222222222ull);
	cr_assert_eq(kaddr_read(&m, rd, &c, v4 + 0xff8, buf, 16), 0, "a read across the page");
	cr_assert_eq(get_le64(buf), 0x1111111111111111ull);
	cr_assert_eq(get_le64(buf + 8), 0x2222222222222222ull);
	/* Linear regions still come first: no walk for them. */
	c.calls = 0;
	cr_assert_eq(kaddr_read(&m, rd, &c, PAGE_OFFSET_L4 + 0x300ff8, &v, 8), 0);
	cr_assert_eq(c.calls, 1);

	/* 2 MiB and 1 GiB pages (PS at the PMD and PUD levels). */
	put64(0x12000 + 8 * pt_idx(v4 + 0x200000, 1), 0x600000 | PT_P | PT_PS);
	cr_assert_eq(kaddr_walk(&m, rd, &c, v4 + 0x200000 + 0x1234, &gpa, &room), 0);
	cr_assert_eq(gpa, 0x600000 + (((v4 + 0x200000) & 0x1fffff) + 0x1234));
	put64(0x11000 + 8 * pt_idx(0xffffc90040000000ull, 2), 0x0 | PT_P | PT_PS);
	cr_assert_eq(kaddr_walk(&m, rd, &c, 0xffffc90040000000ull + 0x7000, &gpa, &room), 0);
	cr_assert_eq(gpa, 0x7000);
	cr_assert_eq(room, (1ull << 30) - 0x7000);

	/* 5-level, as a guest that booted with la57. */
	m.page_offset = PAGE_OFFSET_L5;
	m.pgd_gpa = 0x1f000;
	m.levels = 5;
	pt_map4k(t5, 5, v5, 0x700000);
	put64(0x700010, 0xabcdefull);
	cr_assert_eq(kaddr_read(&m, rd, &c, v5 + 0x10, &v, 8), 0);
	cr_assert_eq(v, 0xabcdefull);
}

Test(kaddr, a_hostile_page_table_is_refused_not_followed)
{
	struct rd_ctx c = { 0 };
	const uint64_t t4[4] = { 0x13000, 0x12000, 0x11000, 0x10000 };
	const uint64_t v = 0xffffc90000123000ull;
	struct kaddr_map m = { .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM,
			       .pgd_gpa = 0x10000, .levels = 4 };
	uint64_t gpa = 0x5a5a, room, x;

	memset(ram, 0, 0x40000);
	/* Nothing mapped: not present at the top. */
	cr_assert_eq(kaddr_walk(&m, rd, &c, v, &gpa, &room), -EFAULT);
	/* A table pointer, then a page, outside guest RAM. */
	put64(0x10000 + 8 * pt_idx(v, 3), (RAM + 0x1000ull) | PT_P);
	cr_assert_eq(kaddr_walk(&m, rd, &c, v, &gpa, &room), -EFAULT);
	pt_map4k(t4, 4, v, 0x000ffffffffff000ull);
	cr_assert_eq(kaddr_walk(&m, rd, &c, v, &gpa, &room), -EFAULT);
	cr_assert_eq(kaddr_read(&m, rd, &c, v, &x, 8), -EFAULT);
	/* A table that points at itself ends after 4 reads, like any walk. */
	put64(0x10000 + 8 * pt_idx(v, 3), 0x10000 | PT_P);
	put64(0x10000 + 8 * pt_idx(v, 2), 0x10000 | PT_P);
	put64(0x10000 + 8 * pt_idx(v, 1), 0x10000 | PT_P);
	put64(0x10000 + 8 * pt_idx(v, 0), 0x10000 | PT_P);
	c.calls = 0;
	cr_assert_eq(kaddr_walk(&m, rd, &c, v, &gpa, &room), 0);
	cr_assert_leq(c.calls, 4u);
	/* Non-canonical, user half, no root: refused before any read. */
	c.calls = 0;
	cr_assert_eq(kaddr_walk(&m, rd, &c, 0xfff0c90000000000ull & ~(1ull << 47), &gpa, &room),
		     -ERANGE);
	cr_assert_eq(kaddr_walk(&m, rd, &c, 0x400000, &gpa, &room), -ERANGE);
	m.pgd_gpa = 0;
	cr_assert_eq(kaddr_walk(&m, rd, &c, v, &gpa, &room), -ERANGE);
	cr_assert_eq(kaddr_read(&m, rd, &c, v, &x, 8), -ERANGE);
	cr_assert_eq(c.calls, 0);
	/* A root at the end of RAM: the slot read stays inside. */
	m.pgd_gpa = RAM - 8;
	cr_assert_eq(kaddr_walk(&m, rd, &c, v, &gpa, &room), -EFAULT);
}

Test(kaddr, percpu_objects_in_a_vmalloc_chunk_translate_through_the_walk)
{
	struct rd_ctx c = { 0 };
	const uint64_t t4[4] = { 0x13000, 0x12000, 0x11000, 0x10000 };
	const uint64_t chunk = 0xffffc90000200000ull, pcpu_off_kva = KADDR_START_KERNEL_MAP + 0x8000;
	struct kaddr_map m = { .page_offset = PAGE_OFFSET_L4, .gpa_limit = RAM,
			       .pgd_gpa = 0x10000, .levels = 4 };
	uint64_t kva, v;

	memset(ram, 0, 0x40000);
	/* __per_cpu_offset[1] = chunk - var: CPU 1's copy of a dynamic
	 * per-CPU object at offset 0x80 lands in the vmalloc'd chunk. */
	put64(0x8000 + 8, chunk);
	pt_map4k(t4, 4, chunk, 0x400000);
	put64(0x400080, 77);
	cr_assert_eq(kaddr_percpu(&m, rd, &c, pcpu_off_kva, 1, 2, 0x80, 104, &kva), 0);
	cr_assert_eq(kva, chunk + 0x80);
	cr_assert_eq(kaddr_read(&m, rd, &c, kva, &v, 8), 0);
	cr_assert_eq(v, 77);
	/* Without the walk it is refused as before. */
	m.pgd_gpa = 0;
	cr_assert_eq(kaddr_percpu(&m, rd, &c, pcpu_off_kva, 1, 2, 0x80, 104, &kva), -EFAULT);
}
