/* The arm64 KVM machine from a spec, in the order KVM needs (docs/aarch64.md,
 * "The arm64 KVM engine"): VM, RAM slots per node, vCPUs (PSCI 0.2, vCPU 0 on),
 * GICv3 created then initialised, the SHM ring formatted (vm->ring), the Image / initrd / device tree placed and
 * copied, vCPU 0's boot registers. After it returns 0 the vCPUs may run. */
#ifndef KTSTR_A64_MACHINE_H
#define KTSTR_A64_MACHINE_H

#include "a64_vm.h"

struct a64_machine_spec {
	struct ktstr_topo topo;
	uint64_t mem_bytes;
	uint64_t shm_base, shm_size; /* the ring at the top of RAM; size 0 = none */
	const void *kernel;	     /* the arm64 Image, borrowed */
	size_t kernel_len;
	const void *initrd; /* borrowed; initrd_len 0 = none */
	size_t initrd_len;
	/* Bytes that follow the initrd in guest RAM (the worker's
	 * VmSpec.initrd_suffix: a second cpio the kernel unpacks after the
	 * first), borrowed; 0 = none. */
	const void *initrd_tail;
	size_t initrd_tail_len;
	const char *bootargs;
};

/* vm from a64_vm_init; on failure the caller still a64_vm_close()s it. */
int a64_machine_setup(struct a64_vm *vm, const struct a64_machine_spec *s, struct a64_boot *b,
		      char *err, size_t errlen);

#endif
