/* Guest kernel virtual address -> guest physical address, for the worker's
 * host-side monitor (docs/monitor.md, "Address translation"). Pure
 * functions: no kernel image, no page-table walk, no I/O except through the
 * caller's read callback.
 *
 * What holds (x86_64, the engines boot with `nokaslr`):
 *  - kernel-image addresses, [__START_KERNEL_map, +1 GiB): the kernel is
 *    mapped linearly at its link address, gpa = kva - __START_KERNEL_map +
 *    phys_base (phys_base 0 when it runs where it was linked, the usual case);
 *  - direct-map addresses, [page_offset, page_offset + gpa_limit): all RAM is
 *    mapped linearly, gpa = kva - page_offset. page_offset is the value of the
 *    kernel's page_offset_base (0xffff888000000000 with 4-level paging,
 *    0xff11000000000000 with 5-level), read from guest memory because the
 *    guest picks the paging depth at boot;
 *  - anything else (vmalloc, vmemmap, modules, fixmap) is translated by
 *    walking the kernel's own page tables from init_top_pgt (pgd_gpa, 4- or
 *    5-level as the guest booted), when the caller knows where they are;
 *    without that it is refused (-ERANGE). Each table and each page the walk
 *    lands on must lie in guest RAM; the walk is at most 5 reads deep.
 * The worker proves the first assumption by reading linux_banner through it
 * (kaddr_check_banner) before it trusts any other address.
 *
 * Every value read from the guest is hostile: a result is only ever a gpa
 * inside [0, gpa_limit) with the whole object [gpa, gpa + len) inside. */
#ifndef KTSTR_KADDR_H
#define KTSTR_KADDR_H

#include <stddef.h>
#include <stdint.h>

#define KADDR_START_KERNEL_MAP 0xffffffff80000000ull
/* KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE (every distro kernel): the
 * kernel-image mapping's span. Without it the kernel uses 512 MiB, a subset. */
#define KADDR_KERNEL_IMAGE_SIZE (1ull << 30)
/* Longest read kaddr_read accepts: the monitor reads fields and small
 * structs, never bulk memory. */
#define KADDR_READ_MAX (64u << 10)

/* How this guest maps its kernel, learnt at run time (owned by the caller). */
struct kaddr_map {
	uint64_t phys_base;   /* value of the guest's phys_base */
	uint64_t page_offset; /* value of the guest's page_offset_base; 0 = unknown */
	uint64_t gpa_limit;   /* one past the highest guest-physical RAM byte */
	uint64_t pgd_gpa;     /* the kernel's top page table (init_top_pgt); 0 = no walk */
	uint32_t levels;      /* paging depth for the walk: 4 or 5 */
};

/* The paging depth a guest booted with, from its page_offset_base value:
 * 5-level kernels put the direct map below the 4-level half. */
static inline uint32_t kaddr_levels_for(uint64_t page_offset)
{
	return page_offset < 0xffff800000000000ull ? 5 : 4;
}

/* Reads len bytes of guest-physical memory at gpa into buf. Returns 0 or
 * -errno (-EFAULT for a hole: the callback knows the memory map). */
typedef int (*kaddr_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

/* Translate [kva, kva + len) (len >= 1). Returns 0 and *gpa, -ERANGE when
 * kva lies in no linearly mapped region (or in the direct map while
 * page_offset is unknown), -EFAULT when the object does not lie wholly in
 * [0, gpa_limit). Never returns an address outside that range. */
int kaddr_to_gpa(const struct kaddr_map *m, uint64_t kva, uint64_t len, uint64_t *gpa);

/* The page-table walk alone: the gpa of kva (a canonical kernel address)
 * and *room, the bytes from it to the end of its page (4 KiB, 2 MiB or
 * 1 GiB). 0, -ERANGE (no walk configured, or a non-canonical or user
 * address), -EFAULT (not mapped, or a table or page outside RAM) or the
 * read's -errno. */
int kaddr_walk(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t kva,
	       uint64_t *gpa, uint64_t *room);

/* Translate and read (len <= KADDR_READ_MAX, else -EINVAL); linear regions
 * first, then the walk, page by page. */
int kaddr_read(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t kva, void *buf,
	       size_t len);

/* Address of CPU cpu's copy of the per-CPU variable at var_kva, an object of
 * var_size bytes: var_kva + __per_cpu_offset[cpu], with __per_cpu_offset
 * (the array at per_cpu_offset_kva) read from guest memory. cpu must be
 * below nr_cpus (the VM's vCPU count: -EINVAL otherwise). The value read is
 * validated: the resulting object must translate wholly into guest RAM
 * (-EFAULT otherwise, whatever the guest wrote there). */
int kaddr_percpu(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t per_cpu_offset_kva,
		 uint32_t cpu, uint32_t nr_cpus, uint64_t var_kva, uint64_t var_size,
		 uint64_t *out_kva);

/* The self check: read the guest's linux_banner at banner_kva through the
 * kernel-image mapping and compare it with the len bytes the host found in
 * the image (GuestKernelLayout.banner). 0 when equal, -ESRCH when the
 * bytes differ (wrong vmlinux, KASLR on, or phys_base wrong), or the read's
 * -errno. */
int kaddr_check_banner(const struct kaddr_map *m, kaddr_read_fn rd, void *ctx, uint64_t banner_kva,
		       const void *expect, size_t len);

#endif
