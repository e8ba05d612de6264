/* arm64 guest kernel address translation (include/ktstr/kaddr.h) on a
 * synthetic guest laid out as both arm64 engines lay it out: RAM from
 * 0x40000000, an Image loaded 2 MiB into it and linked at KIMAGE_VADDR,
 * per-CPU areas in the linear map, and a guest that writes garbage where
 * the host reads offsets. Every region edge is tried from both sides. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <ktstr/kaddr.h>
#include <ktstr/le.h>
#include <ktstr/util.h>

#define RAM_BASE 0x40000000ull
#define RAM (16u << 20)
#define RAM_END (RAM_BASE + RAM)
#define IMAGE_PA (RAM_BASE + 0x200000)
#define IMAGE_SIZE 0x400000ull
#define KIMAGE 0xffff800080000000ull /* KIMAGE_VADDR, Linux >= 6.5 */
#define PO48 0xffff000000000000ull   /* PAGE_OFFSET, VA_BITS 48 */
#define PO52 0xfff0000000000000ull   /* PAGE_OFFSET, VA_BITS 52 */
#define PAGE_END 0xffff800000000000ull

static uint8_t ram[RAM];

struct rd_ctx {
	unsigned calls;
};

/* RAM is [RAM_BASE, RAM_END); below it is the machine's MMIO: a hole. */
static int rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct rd_ctx *c = ctx;

	c->calls++;
	if (gpa < RAM_BASE || gpa >= RAM_END || len > RAM_END - gpa)
		return -EFAULT;
	memcpy(buf, ram + (gpa - RAM_BASE), len);
	return 0;
}

static void put64(uint64_t gpa, uint64_t v)
{
	put_le64(ram + (gpa - RAM_BASE), v);
}

static void map48(struct kaddr_map *m)
{
	kaddr_map_arm64(m, KIMAGE, IMAGE_SIZE, IMAGE_PA, 48, RAM_BASE, RAM_END);
	m->memstart = RAM_BASE; /* what the kernel sets: the start of DRAM */
}

Test(kaddr_arm64, linear_map_bounds_per_va_bits)
{
	uint64_t s, e;

	cr_assert_eq(kaddr_arm64_linear(48, &s, &e), 0);
	cr_assert_eq(s, PO48);
	cr_assert_eq(e, PAGE_END);
	/* 52 bits: PAGE_END stays at the 48-bit place (VA_BITS_MIN). */
	cr_assert_eq(kaddr_arm64_linear(52, &s, &e), 0);
	cr_assert_eq(s, PO52);
	cr_assert_eq(e, PAGE_END);
	cr_assert_eq(kaddr_arm64_linear(39, &s, &e), 0);
	cr_assert_eq(s, 0xffffff8000000000ull);
	cr_assert_eq(e, 0xffffffc000000000ull);
	cr_assert_eq(kaddr_arm64_linear(53, &s, &e), -EINVAL);
	cr_assert_eq(kaddr_arm64_linear(0, &s, &e), -EINVAL);
	cr_assert_eq(kaddr_arm64_linear(64, &s, &e), -EINVAL);
}

Test(kaddr_arm64, kernel_image_edges)
{
	struct kaddr_map m;
	uint64_t gpa = 0x5a5a;

	map48(&m);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE, 8, &gpa), 0);
	cr_assert_eq(gpa, IMAGE_PA);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + 0x1234, 4, &gpa), 0);
	cr_assert_eq(gpa, IMAGE_PA + 0x1234);
	/* The last byte of the image, and an object ending exactly there. */
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + IMAGE_SIZE - 8, 8, &gpa), 0);
	cr_assert_eq(gpa, IMAGE_PA + IMAGE_SIZE - 8);
	gpa = 0x5a5a;
	/* Straddling the image's end, one past it, one below it. */
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + IMAGE_SIZE - 4, 8, &gpa), -EFAULT);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + IMAGE_SIZE, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE - 8, 8, &gpa), -ERANGE);
	/* Modules / vmalloc (between PAGE_END and the image), user space, 0. */
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_END, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, 0xffff800090000000ull, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, 0x400000, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, 0, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, UINT64_MAX, 2, &gpa), -EFAULT, "wraps");
	cr_assert_eq(gpa, 0x5a5a, "no failed call wrote an address");
	/* An image loaded where RAM does not hold it wholly. */
	m.image_pa = RAM_END - 0x1000;
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + 0x800, 8, &gpa), 0);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + 0x1000, 8, &gpa), -EFAULT);
	m.image_pa = RAM_BASE - 0x1000;
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE, 8, &gpa), -EFAULT, "below RAM is MMIO");
	m.image_pa = UINT64_MAX - 0x100;
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + 0x1000, 8, &gpa), -EFAULT, "wraps");
}

Test(kaddr_arm64, linear_map_edges_48_bits)
{
	struct kaddr_map m;
	uint64_t gpa = 0x5a5a;

	map48(&m);
	/* PAGE_OFFSET is memstart (the start of DRAM). */
	cr_assert_eq(kaddr_to_gpa(&m, PO48, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE);
	cr_assert_eq(kaddr_to_gpa(&m, PO48 + RAM - 1, 1, &gpa), 0);
	cr_assert_eq(gpa, RAM_END - 1);
	gpa = 0x5a5a;
	cr_assert_eq(kaddr_to_gpa(&m, PO48 + RAM - 4, 8, &gpa), -EFAULT, "straddles RAM's end");
	cr_assert_eq(kaddr_to_gpa(&m, PO48 + RAM, 8, &gpa), -EFAULT, "linear, but not RAM");
	cr_assert_eq(kaddr_to_gpa(&m, PO48 - 8, 8, &gpa), -ERANGE, "below PAGE_OFFSET");
	cr_assert_eq(kaddr_to_gpa(&m, PO52, 8, &gpa), -ERANGE, "the 52-bit base is not mapped");
	/* The linear map's own end: the last object before PAGE_END, one
	 * straddling it (memstart chosen so that PAGE_END - 8 is RAM). */
	m.memstart = RAM_BASE - (PAGE_END - PO48) + 0x1000;
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_END - 8, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE + 0x1000 - 8);
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_END - 4, 8, &gpa), -EFAULT, "straddles PAGE_END");
	cr_assert_eq(kaddr_to_gpa(&m, PAGE_END, 8, &gpa), -ERANGE);
	cr_assert_eq(gpa, RAM_BASE + 0x1000 - 8);
}

Test(kaddr_arm64, linear_map_52_bits_and_a_lowered_memstart)
{
	struct kaddr_map m;
	uint64_t gpa;

	kaddr_map_arm64(&m, KIMAGE, IMAGE_SIZE, IMAGE_PA, 52, RAM_BASE, RAM_END);
	m.memstart = RAM_BASE;
	cr_assert_eq(kaddr_to_gpa(&m, PO52 + 0x2000, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE + 0x2000);
	cr_assert_eq(kaddr_to_gpa(&m, PO52 - 8, 8, &gpa), -ERANGE);
	/* A 52-bit kernel on a CPU with 48 VA bits lowers memstart by
	 * _PAGE_OFFSET(48) - _PAGE_OFFSET(52): below zero, and RAM then sits
	 * at the 48-bit PAGE_OFFSET (arm64_memblock_init). */
	m.memstart = RAM_BASE - (PO48 - PO52);
	cr_assert_eq(kaddr_to_gpa(&m, PO48 + 0x2000, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE + 0x2000);
	cr_assert_eq(kaddr_to_gpa(&m, PO52 + 0x2000, 8, &gpa), -EFAULT, "wraps below RAM");
	/* A va_bits the kernel cannot have: no linear map at all. */
	m.va_bits = 60;
	cr_assert_eq(kaddr_to_gpa(&m, PO48 + 0x2000, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE, 8, &gpa), 0, "the image still translates");
}

Test(kaddr_arm64, memstart_unset_leaves_only_the_image)
{
	struct kaddr_map m;
	struct rd_ctx c = { 0 };
	uint64_t gpa, v;

	kaddr_map_arm64(&m, KIMAGE, IMAGE_SIZE, IMAGE_PA, 48, RAM_BASE, RAM_END);
	cr_assert_eq(m.memstart, KADDR_MEMSTART_UNSET, "-1, the kernel's static value");
	cr_assert_eq(kaddr_to_gpa(&m, PO48 + 0x1000, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&m, KIMAGE + 0x1000, 8, &gpa), 0);
	/* No page walk on arm64: what is not linear is refused unread. */
	cr_assert_eq(kaddr_read(&m, rd, &c, PO48 + 0x1000, &v, sizeof(v)), -ERANGE);
	cr_assert_eq(kaddr_read(&m, rd, &c, 0xffff800008000000ull, &v, sizeof(v)), -ERANGE);
	cr_assert_eq(c.calls, 0);
	/* Even with a pgd_gpa set by mistake. */
	m.pgd_gpa = RAM_BASE;
	m.levels = 4;
	cr_assert_eq(kaddr_walk(&m, rd, &c, 0xffff800008000000ull, &gpa, &v), -ERANGE);
	cr_assert_eq(c.calls, 0);
}

/* Per-CPU as arm64 has it: &var is a kernel-image address in the .data..percpu
 * section and __per_cpu_offset[n] = area - __per_cpu_start, the sum wrapping
 * into the linear map. */
Test(kaddr_arm64, percpu_offsets_and_hostile_values)
{
	struct kaddr_map m;
	const uint64_t off_gpa = IMAGE_PA + 0x100000; /* __per_cpu_offset[] */
	const uint64_t off_kva = KIMAGE + 0x100000;
	const uint64_t start = KIMAGE + 0x200000, rq = start + 0x1c0; /* __per_cpu_start, runqueues */
	const uint64_t areas = RAM_BASE + 0x800000, area_size = 0x40000, rq_size = 3456;
	struct rd_ctx c = { 0 };
	uint64_t kva = 0x1111, gpa;
	const uint64_t garbage[] = {
		0,			      /* the image copy: linked, not a CPU's */
		0xdeadbeefdeadbeefull,	      /* noise */
		PO48 + RAM - start,	      /* one past RAM */
		PO48 + RAM - 0x100 - (rq - start) - start, /* rq straddles RAM's end */
		PO48 - 0x1000 - start,	      /* below the linear map */
		PAGE_END - 0x100 - (rq - start) - start, /* straddles PAGE_END */
		0xffff800090000000ull - start, /* vmalloc: no walk */
		0 - rq + 8,		      /* wraps to a user address */
	};

	memset(ram, 0, sizeof(ram));
	map48(&m);
	for (unsigned n = 0; n < 4; n++)
		put64(off_gpa + 8 * n, PO48 + (areas - RAM_BASE) + n * area_size - start);
	for (unsigned n = 0; n < 4; n++) {
		cr_assert_eq(kaddr_percpu(&m, rd, &c, off_kva, n, 4, rq, rq_size, &kva), 0);
		cr_assert_eq(kaddr_to_gpa(&m, kva, rq_size, &gpa), 0);
		cr_assert_eq(gpa, areas + n * area_size + (rq - start), "cpu %u", n);
	}
	kva = 0x1111;
	for (size_t i = 0; i < ARRAY_SIZE(garbage); i++) {
		put64(off_gpa, garbage[i]);
		int ret = kaddr_percpu(&m, rd, &c, off_kva, 0, 1, rq, rq_size, &kva);

		/* 0 is the one value that lands somewhere readable: the
		 * image's own per-CPU section, which the rq->cpu self check
		 * refuses (every CPU would name the same rq). */
		if (garbage[i] == 0) {
			cr_assert_eq(ret, 0);
			cr_assert_eq(kva, rq);
			kva = 0x1111;
			continue;
		}
		cr_assert_eq(ret, -EFAULT, "garbage %#llx", (unsigned long long)garbage[i]);
	}
	cr_assert_eq(kva, 0x1111, "no failed call wrote an address");
	/* memstart not set yet: the linear map is unknown, nothing resolves. */
	put64(off_gpa, PO48 + (areas - RAM_BASE) - start);
	m.memstart = KADDR_MEMSTART_UNSET;
	cr_assert_eq(kaddr_percpu(&m, rd, &c, off_kva, 0, 1, rq, rq_size, &kva), -EFAULT);
	/* The array itself outside the image. */
	map48(&m);
	cr_assert_eq(kaddr_percpu(&m, rd, &c, KIMAGE + IMAGE_SIZE, 0, 1, rq, rq_size, &kva),
		     -ERANGE);
}

Test(kaddr_arm64, banner_self_check)
{
	static const char banner[] = "Linux version 7.2.13+deb14-cloud-arm64 (debian-kernel@lists";
	const size_t len = sizeof(banner) - 1;
	struct kaddr_map m;
	struct rd_ctx c = { 0 };

	memset(ram, 0, sizeof(ram));
	map48(&m);
	memcpy(ram + (IMAGE_PA - RAM_BASE) + 0x1b0000, banner, len);
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KIMAGE + 0x1b0000, banner, len), 0);
	/* The Image loaded elsewhere than the map says: the bytes differ. */
	m.image_pa += 0x10000;
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KIMAGE + 0x1b0000, banner, len), -ESRCH);
	m.image_pa -= 0x10000;
	/* A banner outside the image (the x86_64 image base, the linear map,
	 * or running past the image's end) is a bad layout. */
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KADDR_START_KERNEL_MAP + 0x1b0000, banner, len),
		     -ERANGE);
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, PO48 + 0x1b0000, banner, len), -ERANGE);
	cr_assert_eq(kaddr_check_banner(&m, rd, &c, KIMAGE + IMAGE_SIZE - 8, banner, len), -ERANGE);
}

/* The x86_64 rules are untouched by the arch field: an x86_64 map never
 * applies arm64's regions, an arm64 map never x86_64's. */
Test(kaddr_arm64, architectures_do_not_mix)
{
	struct kaddr_map x = { .page_offset = PO48, .gpa_limit = RAM_END };
	struct kaddr_map a;
	uint64_t gpa;

	map48(&a);
	cr_assert_eq(kaddr_to_gpa(&a, KADDR_START_KERNEL_MAP + RAM_BASE, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_to_gpa(&x, KIMAGE, 8, &gpa), -ERANGE);
	/* An x86_64 direct map at the arm64 base: gpa = kva - base. */
	cr_assert_eq(kaddr_to_gpa(&x, PO48 + RAM_BASE, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE);
	x.arch = 7; /* unknown */
	cr_assert_eq(kaddr_to_gpa(&x, PO48 + RAM_BASE, 8, &gpa), -ERANGE);
}

/* kmalloc'd objects (the watchdog's scx_sched) are followed only into the
 * direct (x86_64) or linear (arm64) map: a pointer into the kernel image,
 * or anywhere else, is refused even where it would translate. */
Test(kaddr_arm64, linear_only_translation)
{
	struct kaddr_map a, x = { .page_offset = PO48, .gpa_limit = RAM_END };
	uint64_t gpa = 0x5a5a;

	map48(&a);
	cr_assert_eq(kaddr_linear_to_gpa(&a, PO48 + 0x3000, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE + 0x3000);
	gpa = 0x5a5a;
	cr_assert_eq(kaddr_linear_to_gpa(&a, KIMAGE + 0x3000, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_linear_to_gpa(&a, KIMAGE + IMAGE_SIZE - 4, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_linear_to_gpa(&a, PAGE_END, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_linear_to_gpa(&a, PO48 + RAM - 4, 8, &gpa), -EFAULT);
	cr_assert_eq(kaddr_linear_to_gpa(&a, PO48, 0, &gpa), -EINVAL);
	a.memstart = KADDR_MEMSTART_UNSET;
	cr_assert_eq(kaddr_linear_to_gpa(&a, PO48 + 0x3000, 8, &gpa), -ERANGE);
	cr_assert_eq(gpa, 0x5a5a);
	/* x86_64: the direct map only, not the kernel image. */
	cr_assert_eq(kaddr_linear_to_gpa(&x, PO48 + RAM_BASE, 8, &gpa), 0);
	cr_assert_eq(gpa, RAM_BASE);
	cr_assert_eq(kaddr_linear_to_gpa(&x, KADDR_START_KERNEL_MAP + 0x1000, 8, &gpa), -ERANGE);
	cr_assert_eq(kaddr_linear_to_gpa(&x, PO48 - 8, 8, &gpa), -ERANGE);
	x.page_offset = 0;
	cr_assert_eq(kaddr_linear_to_gpa(&x, PO48 + RAM_BASE, 8, &gpa), -ERANGE);
}
