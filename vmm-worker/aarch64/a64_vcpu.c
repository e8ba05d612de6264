/* The arm64 vCPUs: creation, KVM_ARM_VCPU_INIT and the boot registers
 * (a64_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a64_sys.h"
#include "a64_vm.h"

uint64_t a64_core_reg_id(size_t off)
{
	/* arm64 KVM names a core register by its offset in struct kvm_regs in
	 * 32-bit words (Documentation/virt/kvm/api.rst, "ARM64 core
	 * registers"). */
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (off / sizeof(uint32_t));
}

int a64_vcpus_create(struct a64_vm *vm, char *err, size_t errlen)
{
	vm->vcpu_fd = malloc(vm->ncpus * sizeof(*vm->vcpu_fd));
	vm->run = calloc(vm->ncpus, sizeof(*vm->run));
	if (!vm->vcpu_fd || !vm->run) {
		snprintf(err, errlen, "arm64 KVM: out of memory for %u vCPUs", vm->ncpus);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < vm->ncpus; i++)
		vm->vcpu_fd[i] = -1;

	/* The host's CPU type KVM emulates best: every vCPU gets it. */
	struct kvm_vcpu_init pref;
	memset(&pref, 0, sizeof(pref));
	int rc = a64_ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &pref);
	if (rc < 0) {
		snprintf(err, errlen, "arm64 KVM: KVM_ARM_PREFERRED_TARGET: %s", strerror(-rc));
		return rc;
	}
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		/* vCPU id i: KVM's default MPIDR for it is arm64_mpidr(i), the
		 * tree's cpu@N reg (arm64_layout.h). */
		int fd = a64_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)i);
		if (fd < 0) {
			snprintf(err, errlen, "arm64 KVM: KVM_CREATE_VCPU %u: %s", i, strerror(-fd));
			return fd;
		}
		vm->vcpu_fd[i] = fd;
		struct kvm_vcpu_init init;
		memset(&init, 0, sizeof(init));
		init.target = pref.target;
		/* PSCI 0.2+ (SYSTEM_OFF/RESET as system events, CPU_ON); the
		 * secondaries start powered off until CPU_ON, as the tree's
		 * enable-method = "psci" tells Linux. */
		init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2;
		if (i > 0)
			init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
		rc = a64_ioctl(fd, KVM_ARM_VCPU_INIT, &init);
		if (rc < 0) {
			snprintf(err, errlen,
				 "arm64 KVM: KVM_ARM_VCPU_INIT vCPU %u (target %u, features 0x%x): %s",
				 i, init.target, init.features[0], strerror(-rc));
			return rc;
		}
		vm->run[i] = a64_map_run(fd, vm->run_size);
		if (!vm->run[i]) {
			rc = -errno;
			snprintf(err, errlen, "arm64 KVM: mmap kvm_run of vCPU %u: %s", i,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int a64_vcpu_boot_regs(struct a64_vm *vm, uint64_t pc, uint64_t fdt, char *err, size_t errlen)
{
	const struct {
		const char *name;
		size_t off;
		uint64_t val;
	} regs[] = {
		{ "x0", offsetof(struct kvm_regs, regs.regs[0]), fdt },
		{ "x1", offsetof(struct kvm_regs, regs.regs[1]), 0 },
		{ "x2", offsetof(struct kvm_regs, regs.regs[2]), 0 },
		{ "x3", offsetof(struct kvm_regs, regs.regs[3]), 0 },
		{ "pstate", offsetof(struct kvm_regs, regs.pstate), A64_BOOT_PSTATE },
		{ "pc", offsetof(struct kvm_regs, regs.pc), pc },
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint64_t v = regs[i].val;
		struct kvm_one_reg r = { .id = a64_core_reg_id(regs[i].off), .addr = (uintptr_t)&v };
		int rc = a64_ioctl(vm->vcpu_fd[0], KVM_SET_ONE_REG, &r);
		if (rc < 0) {
			snprintf(err, errlen, "arm64 KVM: KVM_SET_ONE_REG %s = 0x%llx on vCPU 0: %s",
				 regs[i].name, (unsigned long long)v, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int a64_vcpu_pc(struct a64_vm *vm, uint32_t cpu, uint64_t *pc)
{
	struct kvm_one_reg r = { .id = a64_core_reg_id(offsetof(struct kvm_regs, regs.pc)),
				 .addr = (uintptr_t)pc };
	return a64_ioctl(vm->vcpu_fd[cpu], KVM_GET_ONE_REG, &r);
}
