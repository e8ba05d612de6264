/* The in-kernel GICv3 (a64_vm.h has the order). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "a64_sys.h"
#include "a64_vm.h"

static int gic_attr(struct a64_vm *vm, uint32_t group, uint64_t attr, void *val, const char *what,
		    char *err, size_t errlen)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)val };
	int rc = a64_ioctl(vm->gic_fd, KVM_SET_DEVICE_ATTR, &a);
	if (rc < 0)
		snprintf(err, errlen, "arm64 KVM: GICv3 %s (KVM_SET_DEVICE_ATTR group %u attr %llu): %s",
			 what, group, (unsigned long long)attr, strerror(-rc));
	return rc;
}

int a64_gic_create(struct a64_vm *vm, char *err, size_t errlen)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	int rc = a64_ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd);
	if (rc < 0) {
		snprintf(err, errlen,
			 "arm64 KVM: KVM_CREATE_DEVICE GICv3: %s; ktstr's arm64 guests need a host "
			 "with a GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3)",
			 strerror(-rc));
		return rc;
	}
	vm->gic_fd = (int)cd.fd;
	/* The addresses the device tree's /intc node names (arm64_layout.h). */
	uint64_t dist = ARM64_GIC_DIST_BASE, redist = ARM64_GIC_REDIST_BASE;
	uint32_t nr = A64_GIC_NR_IRQS;
	rc = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist,
		      "distributor address", err, errlen);
	if (!rc)
		rc = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
			      "redistributor address", err, errlen);
	if (!rc)
		rc = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr, "number of IRQs", err,
			      errlen);
	return rc;
}

int a64_gic_init(struct a64_vm *vm, char *err, size_t errlen)
{
	return gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "init",
			err, errlen);
}

int a64_irq_line(struct a64_vm *vm, uint32_t spi, int level)
{
	struct kvm_irq_level l = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32u + spi),
		.level = level ? 1 : 0,
	};
	int rc = a64_ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
	if (rc < 0)
		vm->irq_err = rc;
	return rc < 0 ? rc : 0;
}
