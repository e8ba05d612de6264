/* The recording fake of a64_sys.h (kvm_fake.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aarch64/a64_sys.h"
#include "kvm_fake.h"

struct fake_call fake_calls[FAKE_MAX_CALLS];
unsigned fake_ncalls;

void fake_reset(void)
{
	fake_ncalls = 0;
	memset(fake_calls, 0, sizeof(fake_calls));
}

int a64_open_kvm(void)
{
	return FAKE_KVM_FD;
}

int a64_ioctl(int fd, unsigned long req, void *arg)
{
	if (fake_ncalls >= FAKE_MAX_CALLS)
		return -E2BIG;
	struct fake_call *c = &fake_calls[fake_ncalls++];
	c->fd = fd;
	c->req = req;
	c->arg = (uintptr_t)arg;
	switch (req) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CREATE_VM:
		return FAKE_VM_FD;
	case KVM_GET_VCPU_MMAP_SIZE:
		return 3 * 4096;
	case KVM_SET_USER_MEMORY_REGION:
		c->u.mem = *(struct kvm_userspace_memory_region *)arg;
		return 0;
	case KVM_ARM_PREFERRED_TARGET: {
		struct kvm_vcpu_init *i = arg;
		memset(i, 0, sizeof(*i));
		i->target = FAKE_TARGET;
		return 0;
	}
	case KVM_CREATE_VCPU:
		return FAKE_VCPU_FD0 + (int)(uintptr_t)arg;
	case KVM_ARM_VCPU_INIT:
		c->u.init = *(struct kvm_vcpu_init *)arg;
		return 0;
	case KVM_CREATE_DEVICE: {
		struct kvm_create_device *d = arg;
		c->u.dev = *d;
		d->fd = FAKE_GIC_FD;
		return 0;
	}
	case KVM_SET_DEVICE_ATTR: {
		struct kvm_device_attr *a = arg;
		c->u.attr.group = a->group;
		c->u.attr.attr = a->attr;
		c->u.attr.has_val = a->addr != 0;
		if (a->addr)
			/* NR_IRQS is a u32, the addresses u64. */
			c->u.attr.val = a->group == KVM_DEV_ARM_VGIC_GRP_NR_IRQS
						? *(uint32_t *)(uintptr_t)a->addr
						: *(uint64_t *)(uintptr_t)a->addr;
		return 0;
	}
	case KVM_SET_ONE_REG: {
		struct kvm_one_reg *r = arg;
		c->u.reg.id = r->id;
		c->u.reg.val = *(uint64_t *)(uintptr_t)r->addr;
		return 0;
	}
	case KVM_GET_ONE_REG: {
		struct kvm_one_reg *r = arg;
		c->u.reg.id = r->id;
		*(uint64_t *)(uintptr_t)r->addr = FAKE_PC;
		return 0;
	}
	case KVM_IRQ_LINE:
		c->u.irq = *(struct kvm_irq_level *)arg;
		return 0;
	default:
		return -ENOTTY;
	}
}

void *a64_map_run(int vcpu_fd, size_t size)
{
	(void)vcpu_fd;
	return calloc(1, size);
}

void a64_unmap_run(void *run, size_t size)
{
	(void)size;
	free(run);
}
