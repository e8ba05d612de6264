/* The recording fake of a64_sys.h (kvm_fake.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aarch64/a64_sys.h"
#include "kvm_fake.h"

struct fake_call fake_calls[FAKE_MAX_CALLS];
unsigned fake_ncalls;
struct fake_exit fake_exits[FAKE_MAX_VCPUS][FAKE_MAX_EXITS];
unsigned fake_nexits[FAKE_MAX_VCPUS], fake_next_exit[FAKE_MAX_VCPUS];
atomic_uint fake_runs, fake_kick_timeouts;
unsigned long fake_fail_req;
int fake_fail_errno;
/* The kvm_run mapping of each vCPU fd (a64_map_run), for KVM_RUN to fill. */
static struct kvm_run *run_of[256];

void fake_reset(void)
{
	fake_ncalls = 0;
	memset(fake_calls, 0, sizeof(fake_calls));
	memset(fake_nexits, 0, sizeof(fake_nexits));
	memset(fake_next_exit, 0, sizeof(fake_next_exit));
	fake_runs = 0;
	fake_kick_timeouts = 0;
	fake_fail_req = 0;
	fake_fail_errno = 0;
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
	if (fake_fail_req && req == fake_fail_req)
		return -fake_fail_errno;
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

int a64_run(int vcpu_fd)
{
	unsigned i = (unsigned)(vcpu_fd - FAKE_VCPU_FD0);
	fake_runs++;
	if (i >= FAKE_MAX_VCPUS || !run_of[i])
		return -EBADF;
	struct kvm_run *r = run_of[i];
	if (fake_next_exit[i] >= fake_nexits[i]) {
		/* Blocked in the guest until kicked (bounded). */
		for (unsigned ms = 0; ms < 10000; ms++) {
			if (__atomic_load_n(&r->immediate_exit, __ATOMIC_ACQUIRE))
				return -EINTR;
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
		fake_kick_timeouts++;
		return -ETIMEDOUT;
	}
	const struct fake_exit *x = &fake_exits[i][fake_next_exit[i]++];
	if (x->rc < 0)
		return x->rc;
	r->exit_reason = x->reason;
	if (x->reason == KVM_EXIT_MMIO) {
		r->mmio.phys_addr = x->addr;
		r->mmio.len = x->len;
		r->mmio.is_write = (uint8_t)x->write;
		memset(r->mmio.data, 0, sizeof(r->mmio.data));
		r->mmio.data[0] = x->data;
	} else if (x->reason == KVM_EXIT_SYSTEM_EVENT) {
		r->system_event.type = x->event;
	}
	return 0;
}

void *a64_map_run(int vcpu_fd, size_t size)
{
	void *p = calloc(1, size);
	unsigned i = (unsigned)(vcpu_fd - FAKE_VCPU_FD0);
	if (i < 256)
		run_of[i] = p;
	return p;
}

void a64_unmap_run(void *run, size_t size)
{
	(void)size;
	for (unsigned i = 0; i < 256; i++)
		if (run_of[i] == run)
			run_of[i] = NULL;
	free(run);
}
