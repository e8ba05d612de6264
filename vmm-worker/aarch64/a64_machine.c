/* The arm64 KVM machine set up in KVM's order (a64_machine.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a64_machine.h"
#include "arm64-guest/arm64_fdt.h"

int a64_machine_setup(struct a64_vm *vm, const struct a64_machine_spec *s, struct a64_boot *b,
		      char *err, size_t errlen)
{
	struct arm64_image_info ii;
	if (s->kernel_len < ARM64_IMAGE_HDR_SIZE) {
		snprintf(err, errlen, "arm64 KVM: the kernel is %zu bytes, shorter than an Image header",
			 s->kernel_len);
		return -ENOEXEC;
	}
	int rc = arm64_image_parse(s->kernel, s->kernel_len, s->kernel_len, &ii, err, errlen);
	if (rc < 0)
		return rc;
	/* 1. The VM and its RAM. */
	rc = a64_vm_create(vm, &s->topo, s->mem_bytes, err, errlen);
	if (!rc)
		rc = a64_vm_map_ram(vm, err, errlen);
	/* 2. Every vCPU, initialised (PSCI 0.2; secondaries off). */
	if (!rc)
		rc = a64_vcpus_create(vm, err, errlen);
	/* 3. The GIC after the vCPUs, then its init (a64_vm.h: the order). */
	if (!rc)
		rc = a64_gic_create(vm, err, errlen);
	if (!rc)
		rc = a64_gic_init(vm, err, errlen);
	if (rc)
		return rc;
	/* The SHM ring: formatted in guest RAM (the top of the last node, as
	 * the tree's /reserved-memory says) before the guest can look. */
	if (s->shm_size) {
		void *shm = a64_gpa(vm, s->shm_base, s->shm_size);
		if (!shm) {
			snprintf(err, errlen,
				 "arm64 KVM: the SHM ring [0x%llx, +%llu) is not inside one node's RAM",
				 (unsigned long long)s->shm_base, (unsigned long long)s->shm_size);
			return -EINVAL;
		}
		rc = ring_format(shm, s->shm_size);
		if (!rc)
			rc = ring_attach(&vm->ring, shm, s->shm_size);
		if (rc) {
			snprintf(err, errlen, "arm64 KVM: ring_format/attach of %llu bytes at 0x%llx: %s",
				 (unsigned long long)s->shm_size, (unsigned long long)s->shm_base,
				 strerror(-rc));
			return rc;
		}
	}
	/* 4. The placement (the tree's slot sized for the largest tree, so
	 * the tree can name the initrd before its own size is known), the
	 * tree with the KVM engine's two ns16550a UARTs, and the copies. */
	rc = a64_boot_place(vm, &ii, (uint64_t)s->initrd_len + s->initrd_tail_len, ARM64_FDT_MAX,
			    s->shm_base, b, err, errlen);
	if (rc)
		return rc;
	if (s->kernel_len > ii.image_size) {
		snprintf(err, errlen, "arm64 KVM: the Image file (%zu bytes) is larger than its image_size",
			 s->kernel_len);
		return -ENOEXEC;
	}
	struct arm64_fdt_spec fs = {
		.topo = s->topo,
		.mem_bytes = s->mem_bytes,
		.shm_base = s->shm_base,
		.shm_size = s->shm_size,
		.initrd_start = b->initrd_start,
		.initrd_end = b->initrd_end,
		.bootargs = s->bootargs,
		.uart = ARM64_UART_NS16550A,
		.psci = ARM64_PSCI_HVC,
		.pcie = false,
	};
	void *blob = NULL;
	size_t len = 0;
	rc = arm64_fdt_build(&fs, &blob, &len, err, errlen);
	if (rc)
		return rc;
	rc = a64_copy_in(vm, b->fdt_addr, blob, len, err, errlen);
	free(blob);
	if (!rc)
		rc = a64_copy_in(vm, b->load, s->kernel, s->kernel_len, err, errlen);
	if (!rc && s->initrd_len)
		rc = a64_copy_in(vm, b->initrd_start, s->initrd, s->initrd_len, err, errlen);
	if (!rc && s->initrd_tail_len)
		rc = a64_copy_in(vm, b->initrd_start + s->initrd_len, s->initrd_tail,
				 s->initrd_tail_len, err, errlen);
	/* 5. vCPU 0 enters the Image with the tree in X0. */
	if (!rc)
		rc = a64_vcpu_boot_regs(vm, b->load, b->fdt_addr, err, errlen);
	return rc;
}
