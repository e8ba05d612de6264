#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "kvm_vm.h"
#include "x86_64/layout.h"

#define HALT_POLL_NS 200000u
#define CREATE_VM_TRIES 5

static int set_gsi_routing(int vm_fd);
static void disable_exits(struct kvm_vm *vm);

int kvm_err_set(struct ktstr_error *e, int err, const char *what, const char *why,
		const char *hint)
{
	return ktstr_error_set(e, err, what, NULL, hint, "%s", why);
}

void kvm_vm_init(struct kvm_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },	     { KVM_CAP_IOEVENTFD, "IOEVENTFD" },
	{ KVM_CAP_IRQFD, "IRQFD" },	     { KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" }, { KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_MP_STATE, "MP_STATE" },    { KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
};

static int enable_cap(int fd, uint32_t cap, uint64_t a0)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { a0 } };

	return ioctl(fd, KVM_ENABLE_CAP, &c) < 0 ? -errno : 0;
}

int kvm_vm_create(struct kvm_vm *vm, const struct x86_machine *m, struct ktstr_error *e)
{
	char why[256];
	int r, tries;
	long online;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		snprintf(why, sizeof(why), "open(/dev/kvm): %s", strerror(errno));
		return kvm_err_set(e, errno, "KVM engine: cannot open /dev/kvm", why,
				   "load kvm_intel/kvm_amd and give this user rw access to /dev/kvm, or use --engine qemu");
	}
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		snprintf(why, sizeof(why), "KVM_GET_API_VERSION returned %d, expected %d", r, KVM_API_VERSION);
		return kvm_err_set(e, EINVAL, "KVM engine: unsupported KVM API", why, "use a mainline KVM");
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, sizeof(why), "KVM_CAP_%s is not supported by this kernel's KVM", required_caps[i].name);
			return kvm_err_set(e, ENOTSUP, "KVM engine: missing capability", why,
					   "use a newer host kernel or --engine qemu");
		}
	r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	vm->max_vcpu_id = r > 0 ? (uint32_t)r : 255;
	if (m->max_apic_id >= vm->max_vcpu_id) {
		snprintf(why, sizeof(why), "highest APIC ID %u but KVM allows vCPU IDs below %u", m->max_apic_id, vm->max_vcpu_id);
		return kvm_err_set(e, E2BIG, "KVM engine: topology too large for this host's KVM", why,
				   "use a smaller topology");
	}
	vm->run_size = (size_t)ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	/* KVM_CREATE_VM can fail with EINTR while the host is busy tearing
	 * down another VM's mm; a short backoff makes it succeed. */
	for (tries = 0; tries < CREATE_VM_TRIES; tries++) {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
		if (vm->vm_fd >= 0 || errno != EINTR)
			break;
		usleep(1u << tries);
	}
	if (vm->vm_fd < 0) {
		snprintf(why, sizeof(why), "KVM_CREATE_VM: %s", strerror(errno));
		return kvm_err_set(e, errno, "KVM engine: cannot create a VM", why,
				   "check dmesg for KVM errors and the memlock/vm limits");
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS) < 0) {
		snprintf(why, sizeof(why), "KVM_SET_TSS_ADDR 0x%llx: %s", X86_KVM_TSS, strerror(errno));
		return kvm_err_set(e, errno, "KVM engine: VM setup failed", why, NULL);
	}
	{
		uint64_t ident = X86_KVM_IDENTITY_MAP;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
			snprintf(why, sizeof(why), "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
			return kvm_err_set(e, errno, "KVM engine: VM setup failed", why, NULL);
		}
	}
	vm->split_irqchip = m->x2apic;
	if (!vm->split_irqchip) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
		    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
			snprintf(why, sizeof(why), "KVM_CREATE_IRQCHIP/PIT2: %s", strerror(errno));
			return kvm_err_set(e, errno, "KVM engine: in-kernel irqchip setup failed", why, NULL);
		}
		if ((r = set_gsi_routing(vm->vm_fd))) {
			snprintf(why, sizeof(why), "KVM_SET_GSI_ROUTING: %s", strerror(-r));
			return kvm_err_set(e, -r, "KVM engine: interrupt routing setup failed", why, NULL);
		}
	} else {
		/* APIC IDs above 254 need 32-bit x2APIC IDs, which the in-kernel
		 * IOAPIC cannot address: split irqchip, LAPICs stay in KVM, the
		 * IOAPIC is ours (ioapic.c) and speaks MSIs (KVM_SIGNAL_MSI) and
		 * MSI routes (for level-triggered EOI exits). */
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) <= 0 ||
		    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0) {
			snprintf(why, sizeof(why), "APIC IDs above 254 need split irqchip, whose user-space "
				 "IOAPIC needs KVM_CAP_SIGNAL_MSI and KVM_CAP_IRQ_ROUTING; this KVM lacks one");
			return kvm_err_set(e, ENOTSUP, "KVM engine: x2APIC setup failed (topology has APIC IDs > 254)",
					   why, "use a topology with at most 254 APIC IDs or a newer host kernel");
		}
		if ((r = enable_cap(vm->vm_fd, KVM_CAP_SPLIT_IRQCHIP, X86_IOAPIC_PINS)) ||
		    (r = enable_cap(vm->vm_fd, KVM_CAP_X2APIC_API,
				    KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK))) {
			snprintf(why, sizeof(why), "KVM_ENABLE_CAP(SPLIT_IRQCHIP/X2APIC_API): %s", strerror(-r));
			return kvm_err_set(e, -r, "KVM engine: x2APIC setup failed (topology has APIC IDs > 254)",
					   why, "use a topology with at most 254 APIC IDs");
		}
	}
	if (vm->perf) {
		/* Performance mode leaves halt polling at the host default: the
		 * guest polls itself (KVM_HINTS_REALTIME enables its haltpoll
		 * cpuidle) and HLT may not exit at all (below). */
		vm->perf->halt_poll_unset = true;
		disable_exits(vm);
		return 0;
	}
	/* Halt polling burns host CPU to cut wake-up latency; when vCPUs
	 * outnumber host CPUs the spinning would steal from other vCPUs. */
	online = sysconf(_SC_NPROCESSORS_ONLN);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) > 0)
		(void)enable_cap(vm->vm_fd, KVM_CAP_HALT_POLL,
				 online > 0 && m->ncpus > (uint32_t)online ? 0 : HALT_POLL_NS);
	return 0;
}

/* Performance mode: a pinned vCPU owns its host CPU, so PAUSE (spin-loop)
 * and HLT exits only add latency. KVM accepts this only before the first
 * vCPU exists and only for the bits KVM_CHECK_EXTENSION returns; each bit is
 * its own KVM_ENABLE_CAP so a refusal of one keeps the other. Not a setup
 * error when missing (kvm_pvm has none): the report says so. */
static void disable_exits(struct kvm_vm *vm)
{
	int supported = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
	uint32_t plan[2];
	unsigned n = perf_exit_plan(supported, plan);

	if (!n) {
		perf_note(vm->perf, true,
			  "this KVM cannot disable PAUSE/HLT exits (KVM_CAP_X86_DISABLE_EXITS mask 0x%x): "
			  "vCPUs keep exiting on PAUSE and HLT; use hardware KVM (kvm_intel/kvm_amd) "
			  "for exit suppression", supported < 0 ? 0u : (unsigned)supported);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		int r = enable_cap(vm->vm_fd, KVM_CAP_X86_DISABLE_EXITS, plan[i]);

		if (r)
			perf_note(vm->perf, true, "KVM_ENABLE_CAP(X86_DISABLE_EXITS, %s) failed: %s; "
				  "that exit stays enabled", plan[i] == PERF_EXIT_PAUSE ? "PAUSE" : "HLT",
				  strerror(-r));
		else
			vm->perf->exits_disabled |= plan[i];
	}
	if (!(supported & PERF_EXIT_HLT) || !(supported & PERF_EXIT_PAUSE))
		perf_note(vm->perf, true, "KVM supports only exit-disable mask 0x%x: %s exits stay",
			  (unsigned)supported, supported & PERF_EXIT_HLT ? "PAUSE" : "HLT");
}

/* PC wiring, as the MADT states it: ISA IRQ0 (the PIT) reaches IOAPIC pin 2
 * (interrupt source override), other ISA IRQs their own pin and the PIC,
 * pins 16-23 IOAPIC only. KVM's default routing sends GSI 0 to pin 0, which
 * would contradict the override. */
static int set_gsi_routing(int vm_fd)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[40];
	} rt;
	uint32_t n = 0;

	memset(&rt, 0, sizeof(rt));
	for (uint32_t gsi = 0; gsi < X86_IOAPIC_PINS; gsi++) {
		struct kvm_irq_routing_entry *io = &rt.e[n++];

		io->gsi = gsi;
		io->type = KVM_IRQ_ROUTING_IRQCHIP;
		io->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		io->u.irqchip.pin = gsi == 0 ? 2 : gsi;
		if (gsi < 16 && gsi != 2) {
			struct kvm_irq_routing_entry *pic = &rt.e[n++];

			pic->gsi = gsi;
			pic->type = KVM_IRQ_ROUTING_IRQCHIP;
			pic->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			pic->u.irqchip.pin = gsi % 8;
		}
	}
	rt.hdr.nr = n;
	return ioctl(vm_fd, KVM_SET_GSI_ROUTING, &rt) < 0 ? -errno : 0;
}

int kvm_vm_map_ram(struct kvm_vm *vm, const struct x86_machine *m, struct ktstr_error *e)
{
	bool want_huge = vm->perf != NULL, huge_low = false, huge_high = true;
	char why[256];

	/* Private anonymous memory; in performance mode 2 MiB hugepages when
	 * the pool has them (perf_map_ram falls back and says how to reserve). */
	vm->ram.low_size = m->low_end;
	vm->ram.low = perf_map_ram(m->low_end, want_huge, &huge_low, &vm->low_map, vm->perf);
	if (vm->ram.low && m->high_end) {
		vm->ram.high_size = m->high_end - X86_MMIO_GAP_END;
		/* Only try hugepages for the high part if the low part got them:
		 * a second warning about the same empty pool says nothing new. */
		vm->ram.high = perf_map_ram(vm->ram.high_size, want_huge && huge_low, &huge_high,
					    &vm->high_map, NULL);
		if (vm->ram.high && want_huge && huge_low && !huge_high)
			perf_note(vm->perf, true, "only the RAM below 3 GiB got hugepages; reserve "
				  "`echo %llu > /proc/sys/vm/nr_hugepages` for all of it",
				  (unsigned long long)perf_hugepages_needed(m->ram_bytes));
	}
	if (!vm->ram.low || (m->high_end && !vm->ram.high)) {
		snprintf(why, sizeof(why), "mmap of %llu bytes of guest RAM: %s",
			 (unsigned long long)m->ram_bytes, strerror(errno));
		return kvm_err_set(e, ENOMEM, "KVM engine: cannot allocate guest memory", why,
				   "lower memory_mb or free host memory");
	}
	vm->huge = huge_low && (!m->high_end || huge_high);
	if (vm->perf)
		vm->perf->hugepages = vm->huge;
	return 0;
}

int kvm_vm_register_ram(struct kvm_vm *vm, struct ktstr_error *e)
{
	struct kvm_userspace_memory_region r[2] = {
		{ .slot = 0, .guest_phys_addr = 0, .memory_size = vm->ram.low_size,
		  .userspace_addr = (uintptr_t)vm->ram.low },
		{ .slot = 1, .guest_phys_addr = X86_MMIO_GAP_END, .memory_size = vm->ram.high_size,
		  .userspace_addr = (uintptr_t)vm->ram.high },
	};
	char why[256];

	for (int i = 0; i < (vm->ram.high ? 2 : 1); i++)
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r[i]) < 0) {
			snprintf(why, sizeof(why), "KVM_SET_USER_MEMORY_REGION slot %d: %s", i, strerror(errno));
			return kvm_err_set(e, errno, "KVM engine: cannot register guest memory", why, NULL);
		}
	return 0;
}

int kvm_vm_irq_line(struct kvm_vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	if (vm->split_irqchip)
		return -EINVAL; /* no in-kernel PIC/IOAPIC: kvm_io.c's IOAPIC owns the lines */
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_vm_signal_msi(struct kvm_vm *vm, uint32_t address_lo, uint32_t address_hi, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = address_lo, .address_hi = address_hi, .data = data };
	int r = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);

	return r < 0 ? -errno : r;
}

int kvm_vm_set_msi_routes(struct kvm_vm *vm, const uint32_t *gsis, const uint32_t *address_lo,
			  const uint32_t *address_hi, const uint32_t *data, unsigned n)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[X86_IOAPIC_PINS];
	} rt;

	if (n > X86_IOAPIC_PINS)
		return -E2BIG;
	memset(&rt, 0, sizeof(rt));
	for (unsigned i = 0; i < n; i++) {
		rt.e[i].gsi = gsis[i];
		rt.e[i].type = KVM_IRQ_ROUTING_MSI;
		rt.e[i].u.msi.address_lo = address_lo[i];
		rt.e[i].u.msi.address_hi = address_hi[i];
		rt.e[i].u.msi.data = data[i];
	}
	rt.hdr.nr = n;
	return ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &rt) < 0 ? -errno : 0;
}

void kvm_vm_close(struct kvm_vm *vm)
{
	if (vm->ram.low)
		munmap(vm->ram.low, vm->low_map ? vm->low_map : vm->ram.low_size);
	if (vm->ram.high)
		munmap(vm->ram.high, vm->high_map ? vm->high_map : vm->ram.high_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	kvm_vm_init(vm);
}
