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
