/* Guest kernel address translation for the host-side monitor; the model and
 * what it assumes are in include/ktstr/kaddr.h and docs/monitor.md. */
#include <ktstr/kaddr.h>

#include <errno.h>
#include <string.h>

/* [gpa, gpa + len) inside [base, limit), without overflowing. */
static int in_ram_from(uint64_t gpa, uint64_t len, uint64_t base, uint64_t limit)
{
	return len && gpa >= base && gpa < limit && len <= limit - gpa;
}

static int in_ram(const struct kaddr_map *m, uint64_t gpa, uint64_t len)
{
	return in_ram_from(gpa, len, m->gpa_base, m->gpa_limit);
}

void kaddr_map_arm64(struct kaddr_map *m, uint64_t image_vaddr, uint64_t image_size,
		     uint64_t image_pa, uint32_t va_bits, uint64_t gpa_base, uint64_t gpa_limit)
{
	memset(m, 0, sizeof(*m));
	m->arch = KADDR_ARM64;
	m->image_vaddr = image_vaddr;
	m->image_size = image_size;
	m->image_pa = image_pa;
	m->va_bits = va_bits;
	m->gpa_base = gpa_base;
	m->gpa_limit = gpa_limit;
	m->memstart = KADDR_MEMSTART_UNSET;
}

int kaddr_arm64_linear(uint32_t va_bits, uint64_t *start, uint64_t *end)
{
	uint32_t min = va_bits > 48 ? 48 : va_bits;

	if (va_bits < KADDR_ARM64_VA_BITS_MIN || va_bits > KADDR_ARM64_VA_BITS_MAX)
		return -EINVAL;
	/* memory.h: PAGE_OFFSET = _PAGE_OFFSET(VA_BITS) = -(1 << VA_BITS),
	 * PAGE_END = _PAGE_END(VA_BITS_MIN) = -(1 << (VA_BITS_MIN - 1)). */
	*start = 0 - (1ull << va_bits);
	*end = 0 - (1ull << (min - 1));
	return 0;
}

/* [kva, kva + len) in [start, start + span): 1 inside, 0 outside, -EFAULT
 * when it begins inside and runs past the end. */
static int in_region(uint64_t kva, uint64_t len, uint64_t start, uint64_t span)
{
	if (kva < start || kva - start >= span)
		return 0;
	return len <= span - (kva - start) ? 1 : -EFAULT;
}

static int arm64_to_gpa(const struct kaddr_map *m, uint64_t kva, uint64_t len, uint64_t *gpa)
{
	uint64_t g, lin, end;
	int in;

	in = in_region(kva, len, m->image_vaddr, m->image_size);
	if (in < 0)
		return in;
	if (in) {
		/* image_pa is the engine's; the sum cannot wrap for any load
		 * address below 2^63, and the range check keeps it honest. */
		g = kva - m->image_vaddr + m->image_pa;
		if (g < m->image_pa)
			return -EFAULT;
	} else {
		if (m->memstart == KADDR_MEMSTART_UNSET || kaddr_arm64_linear(m->va_bits, &lin, &end))
			return -ERANGE;
		in = in_region(kva, len, lin, end - lin);
		if (in <= 0)
			return in ? in : -ERANGE;
		/* Wrapping on purpose: memstart may be "negative" (a 52-bit
		 * kernel on a 48-bit CPU); RAM bounds the result. */
		g = kva - lin + m->memstart;
		if (len - 1 > UINT64_MAX - g)
			return -EFAULT;
	}
	if (!in_ram(m, g, len))
		return -EFAULT;
	*gpa = g;
	return 0;
}

int kaddr_to_gpa(const struct kaddr_map *m, uint64_t kva, uint64_t len, uint64_t *gpa)
{
	uint64_t g;

	if (!len)
		return -EINVAL;
	/* The object must not wrap the address space either: a kernel-image
	 * address near the top plus a large len would. */
	if (len - 1 > UINT64_MAX - kva)
		return -EFAULT;
	if (m->arch == KADDR_ARM64)
		return arm64_to_gpa(m, kva, len, gpa);
	if (m->arch != KADDR_X86_64)
		return -ERANGE;
	if (kva >= KADDR_START_KERNEL_MAP &&
	    kva - KADDR_START_KERNEL_MAP < KADDR_KERNEL_IMAGE_SIZE) {
		if (len > KADDR_KERNEL_IMAGE_SIZE - (kva - KADDR_START_KERNEL_MAP))
			return -EFAULT;
		/* phys_base came from the guest: the sum may wrap, and the
		 * range check below is what keeps it honest. */
		g = kva - KADDR_START_KERNEL_MAP + m->phys_base;
		if (g < m->phys_base)
			return -EFAULT;
	} else if (m->page_offset && kva >= m->page_offset &&
		   kva - m->page_offset < m->gpa_limit) {
		g = kva - m->page_offset;
	} else {
		return -ERANGE;
	}
	if (!in_ram(m, g, len))
		return -EFAULT;
	*gpa = g;
	return 0;
}

int kaddr_linear_to_gpa(const struct kaddr_map *m, uint64_t kva, uint64_t len, uint64_t *gpa)
{
	if (!len)
		return -EINVAL;
	if (m->arch == KADDR_ARM64) {
		if (in_region(kva, len, m->image_vaddr, m->image_size))
			return -ERANGE;
	} else if (m->arch != KADDR_X86_64 || !m->page_offset || kva < m->page_offset ||
		   kva - m->page_offset >= m->gpa_limit) {
		return -ERANGE;
	}
	return kaddr_to_gpa(m, kva, len, gpa);
}

/* x86_64 page-table entries: present, page size (a 2 MiB or 1 GiB page at
 * the PMD or PUD level), and the physical address bits 12..51. */
#define PTE_PRESENT 0x1ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

int kaddr_walk(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t kva,
	       uint64_t *gpa, uint64_t *room)
{
	uint32_t levels = m->levels == 5 ? 5 : 4;
	uint32_t top = levels == 5 ? 56 : 47; /* bits from here up equal */
	uint64_t table = m->pgd_gpa, hi = kva >> top;
	int ret;

	/* No walk configured, an arm64 map (no walk there yet), or not a
	 * canonical kernel address. */
	if (m->arch != KADDR_X86_64 || !m->pgd_gpa || hi != (UINT64_MAX >> top))
		return -ERANGE;
	for (int lvl = (int)levels - 1; lvl >= 0; lvl--) {
		uint32_t shift = 12 + 9 * (uint32_t)lvl;
		uint64_t slot = table + ((kva >> shift) & 511) * 8, e, size, base;

		if (!in_ram(m, slot, 8))
			return -EFAULT;
		ret = rd(ctx, slot, &e, sizeof(e));
		if (ret)
			return ret;
		if (!(e & PTE_PRESENT))
			return -EFAULT;
		if (lvl == 0 || ((lvl == 1 || lvl == 2) && (e & PTE_PS))) {
			size = 1ull << shift;
			base = e & PTE_ADDR & ~(size - 1);
			*gpa = base + (kva & (size - 1));
			*room = size - (kva & (size - 1));
			return in_ram(m, *gpa, 1) ? 0 : -EFAULT;
		}
		table = e & PTE_ADDR;
	}
	return -EFAULT; /* not reached: level 0 always ends the walk */
}

int kaddr_read(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t kva, void *buf,
	       size_t len)
{
	uint8_t *out = buf;
	uint64_t gpa, room;
	int ret;

	if (!len || len > KADDR_READ_MAX)
		return -EINVAL;
	ret = kaddr_to_gpa(m, kva, len, &gpa);
	if (ret != -ERANGE)
		return ret ? ret : rd(ctx, gpa, buf, len);
	if (len - 1 > UINT64_MAX - kva)
		return -EFAULT;
	/* Not linearly mapped: walk each page the object touches. */
	while (len) {
		size_t n;

		ret = kaddr_walk(m, rd, ctx, kva, &gpa, &room);
		if (ret)
			return ret;
		n = room < len ? (size_t)room : len;
		if (!in_ram(m, gpa, n))
			return -EFAULT;
		ret = rd(ctx, gpa, out, n);
		if (ret)
			return ret;
		out += n;
		kva += n;
		len -= n;
	}
	return 0;
}

/* [kva, kva + len) is readable: linearly mapped, or walked at both ends
 * (an object spans at most a few pages; kaddr_read walks each anyway). */
static int translatable(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t kva,
			uint64_t len)
{
	uint64_t gpa, room;
	int ret = kaddr_to_gpa(m, kva, len, &gpa);

	if (ret != -ERANGE)
		return ret;
	if (len - 1 > UINT64_MAX - kva)
		return -EFAULT;
	ret = kaddr_walk(m, rd, ctx, kva, &gpa, &room);
	if (!ret && room < len)
		ret = kaddr_walk(m, rd, ctx, kva + len - 1, &gpa, &room);
	return ret;
}

int kaddr_percpu(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t per_cpu_offset_kva,
		 uint32_t cpu, uint32_t nr_cpus, uint64_t var_kva, uint64_t var_size,
		 uint64_t *out_kva)
{
	uint64_t off, kva;
	int ret;

	if (cpu >= nr_cpus || !var_size)
		return -EINVAL;
	/* __per_cpu_offset[cpu]: an 8-byte slot of a kernel array; cpu is
	 * bounded by the caller's vCPU count, far below the array's NR_CPUS. */
	if ((uint64_t)cpu * 8 > UINT64_MAX - per_cpu_offset_kva)
		return -EFAULT;
	ret = kaddr_read(m, rd, ctx, per_cpu_offset_kva + (uint64_t)cpu * 8, &off, sizeof(off));
	if (ret)
		return ret;
	/* Unsigned wrap is the kernel's own arithmetic here: with a per-CPU
	 * section linked in the kernel image (x86_64 6.15+, arm64) the offset is
	 * "area - __per_cpu_start" and the sum wraps back into the direct
	 * map. Whatever the guest wrote, the object must translate. */
	kva = var_kva + off;
	if (translatable(m, rd, ctx, kva, var_size))
		return -EFAULT;
	*out_kva = kva;
	return 0;
}

int kaddr_check_banner(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t banner_kva,
		       const void *expect, size_t len)
{
	char buf[256];
	int ret;

	if (!len || len > sizeof(buf))
		return -EINVAL;
	/* Only the kernel-image mapping is under test: a banner address
	 * outside it is a bad layout, not something to translate. */
	if (m->arch == KADDR_ARM64 ? in_region(banner_kva, len, m->image_vaddr, m->image_size) != 1
				   : banner_kva < KADDR_START_KERNEL_MAP)
		return -ERANGE;
	ret = kaddr_read(m, rd, ctx, banner_kva, buf, len);
	if (ret)
		return ret;
	return memcmp(buf, expect, len) ? -ESRCH : 0;
}
