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
 * What holds on arm64 (both engines boot it with `nokaslr`; Linux's
 * arch/arm64/include/asm/memory.h):
 *  - kernel-image addresses, [image_vaddr, image_vaddr + image_size): the
 *    Image runs at its link address (KIMAGE_VADDR), gpa = kva - image_vaddr +
 *    image_pa, image_pa being where the engine loaded the Image;
 *  - linear-map addresses, [PAGE_OFFSET, PAGE_END) with PAGE_OFFSET =
 *    -(1 << va_bits) and PAGE_END = -(1 << (min(va_bits, 48) - 1)) (a 52-bit
 *    kernel keeps its other mappings where a 48-bit one has them): gpa =
 *    kva - PAGE_OFFSET + memstart, memstart being the value of the kernel's
 *    s64 memstart_addr (PHYS_OFFSET), read from guest memory because the
 *    kernel sets it at boot (and lowers it, below zero even, when a 52-bit
 *    kernel runs on a CPU with 48 VA bits: the sum wraps, as the kernel's
 *    own __phys_to_virt does);
 *  - anything else (vmalloc, modules, vmemmap, fixmap): -ERANGE; there is no
 *    arm64 page-table walk.
 * The worker proves the first assumption by reading linux_banner through it
 * (kaddr_check_banner) before it trusts any other address.
 *
 * Every value read from the guest is hostile: a result is only ever a gpa
 * inside [gpa_base, gpa_limit) with the whole object [gpa, gpa + len) inside. */
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

/* The guest architectures a map describes; x86_64 is 0, so a map written
 * before arm64 existed (zero-initialised) keeps meaning x86_64. */
enum kaddr_arch { KADDR_X86_64 = 0, KADDR_ARM64 = 1 };

/* arm64: memstart_addr's static value, before the kernel sets it. */
#define KADDR_MEMSTART_UNSET UINT64_MAX
/* arm64: the configured VA sizes Linux supports; PAGE_END is at the
 * 48-bit one's place for every VA_BITS above 48. */
#define KADDR_ARM64_VA_BITS_MIN 36u
#define KADDR_ARM64_VA_BITS_MAX 52u

/* How this guest maps its kernel, learnt at run time (owned by the caller). */
struct kaddr_map {
	uint32_t arch;	      /* enum kaddr_arch */
	uint64_t gpa_base;    /* lowest guest-physical RAM byte (0 on x86_64) */
	uint64_t gpa_limit;   /* one past the highest guest-physical RAM byte */
	/* x86_64 */
	uint64_t phys_base;   /* value of the guest's phys_base */
	uint64_t page_offset; /* value of the guest's page_offset_base; 0 = unknown */
	uint64_t pgd_gpa;     /* the kernel's top page table (init_top_pgt); 0 = no walk */
	uint32_t levels;      /* paging depth for the walk: 4 or 5 */
	/* arm64 (kaddr_map_arm64 fills them) */
	uint64_t image_vaddr; /* link address of _text (KIMAGE_VADDR) */
	uint64_t image_size;  /* the Image header's image_size */
	uint64_t image_pa;    /* where the engine loaded the Image */
	uint32_t va_bits;     /* CONFIG_ARM64_VA_BITS */
	uint64_t memstart;    /* memstart_addr's value (s64 bits); KADDR_MEMSTART_UNSET = unknown */
};

/* An arm64 map with the linear map not known yet (memstart unset): only
 * the kernel image translates until the caller stores memstart. */
void kaddr_map_arm64(struct kaddr_map *m, uint64_t image_vaddr, uint64_t image_size,
		     uint64_t image_pa, uint32_t va_bits, uint64_t gpa_base, uint64_t gpa_limit);

/* arm64's linear map, [*start, *end), for va_bits (KADDR_ARM64_VA_BITS_MIN
 * .. _MAX; -EINVAL otherwise). */
int kaddr_arm64_linear(uint32_t va_bits, uint64_t *start, uint64_t *end);

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
 * kva lies in no linearly mapped region (or in the direct/linear map while
 * page_offset/memstart is unknown), -EFAULT when the object does not lie
 * wholly in [gpa_base, gpa_limit) or straddles a region's end. Never
 * returns an address outside that range. */
int kaddr_to_gpa(const struct kaddr_map *m, uint64_t kva, uint64_t len, uint64_t *gpa);

/* kaddr_to_gpa for the direct (x86_64) or linear (arm64) map only, where
 * kmalloc'd objects live: -ERANGE for a kernel-image address or any other
 * region, whatever it would translate to. */
int kaddr_linear_to_gpa(const struct kaddr_map *m, uint64_t kva, uint64_t len, uint64_t *gpa);

/* The page-table walk alone: the gpa of kva (a canonical kernel address)
 * and *room, the bytes from it to the end of its page (4 KiB, 2 MiB or
 * 1 GiB). 0, -ERANGE (no walk configured, an arm64 map, or a
 * non-canonical or user address), -EFAULT (not mapped, or a table or page outside RAM) or the
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
