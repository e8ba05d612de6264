/* Where the KVM engine puts the kernel, the initrd and the device tree
 * (a64_vm.h). From the top of RAM below the SHM ring down: the tree on a
 * 2 MiB boundary (booting.rst: 8-byte aligned, at most 2 MiB, anywhere in
 * RAM), the initrd page-aligned right below it, and the Image at DRAM's
 * 2 MiB-aligned start + text_offset (arm64_image_place), which must end at or
 * below the initrd. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "a64_vm.h"

#define A64_PAGE 4096ull

int a64_boot_place(const struct a64_vm *vm, const struct arm64_image_info *ii,
		   uint64_t initrd_len, uint64_t fdt_len, uint64_t shm_base, struct a64_boot *b,
		   char *err, size_t errlen)
{
	uint64_t top = shm_base ? shm_base : ARM64_DRAM_BASE + vm->mem_bytes;
	memset(b, 0, sizeof(*b));
	if (fdt_len == 0 || fdt_len > ARM64_FDT_MAX || top < ARM64_DRAM_BASE + fdt_len) {
		snprintf(err, errlen, "arm64 KVM: a device tree of %llu bytes does not fit below 0x%llx",
			 (unsigned long long)fdt_len, (unsigned long long)top);
		return -ENOSPC;
	}
	b->fdt_addr = (top - fdt_len) & ~(ARM64_IMAGE_ALIGN - 1);
	uint64_t limit = b->fdt_addr;
	if (initrd_len) {
		if (initrd_len > b->fdt_addr - ARM64_DRAM_BASE) {
			snprintf(err, errlen,
				 "arm64 KVM: an initrd of %llu bytes does not fit below the device tree "
				 "at 0x%llx; give the VM more memory",
				 (unsigned long long)initrd_len, (unsigned long long)b->fdt_addr);
			return -ENOSPC;
		}
		b->initrd_start = (b->fdt_addr - initrd_len) & ~(A64_PAGE - 1);
		b->initrd_end = b->initrd_start + initrd_len;
		limit = b->initrd_start;
	}
	int rc = arm64_image_place(ii, vm->mem_bytes, limit, &b->load, err, errlen);
	if (rc < 0)
		return rc;
	b->image_end = b->load + ii->image_size;
	return 0;
}

int a64_copy_in(struct a64_vm *vm, uint64_t gpa, const void *src, size_t len, char *err,
		size_t errlen)
{
	const uint8_t *s = src;
	/* A range may cross from one node's slot into the next: copy per node. */
	while (len) {
		const struct a64_node_ram *r = NULL;
		for (uint32_t n = 0; n < vm->nnodes; n++)
			if (gpa >= vm->node[n].gpa && gpa - vm->node[n].gpa < vm->node[n].size)
				r = &vm->node[n];
		if (!r || !r->host) {
			snprintf(err, errlen, "arm64 KVM: guest address 0x%llx is not RAM",
				 (unsigned long long)gpa);
			return -EFAULT;
		}
		size_t n = r->size - (gpa - r->gpa);
		if (n > len)
			n = len;
		memcpy(r->host + (gpa - r->gpa), s, n);
		gpa += n;
		s += n;
		len -= n;
	}
	return 0;
}
