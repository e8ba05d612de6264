/* Guest kernel address translation for the host-side monitor; the model and
 * what it assumes are in include/ktstr/kaddr.h and docs/monitor.md. */
#include <ktstr/kaddr.h>

#include <errno.h>
#include <string.h>

/* [gpa, gpa + len) inside [0, limit), without overflowing. */
static int in_ram(uint64_t gpa, uint64_t len, uint64_t limit)
{
	return len && gpa < limit && len <= limit - gpa;
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
	if (!in_ram(g, len, m->gpa_limit))
		return -EFAULT;
	*gpa = g;
	return 0;
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

	if (!m->pgd_gpa || hi != (UINT64_MAX >> top))
		return -ERANGE; /* no walk, or not a canonical kernel address */
	for (int lvl = (int)levels - 1; lvl >= 0; lvl--) {
		uint32_t shift = 12 + 9 * (uint32_t)lvl;
		uint64_t slot = table + ((kva >> shift) & 511) * 8, e, size, base;

		if (!in_ram(slot, 8, m->gpa_limit))
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
			return in_ram(*gpa, 1, m->gpa_limit) ? 0 : -EFAULT;
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
		if (!in_ram(gpa, n, m->gpa_limit))
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
	 * section linked in the kernel image (x86_64 6.15+) the offset is
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
	if (banner_kva < KADDR_START_KERNEL_MAP)
		return -ERANGE;
	ret = kaddr_read(m, rd, ctx, banner_kva, buf, len);
	if (ret)
		return ret;
	return memcmp(buf, expect, len) ? -ESRCH : 0;
}
