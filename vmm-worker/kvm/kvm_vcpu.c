/* vCPUs: creation with per-vCPU CPUID, boot register state, and one thread
 * per vCPU running KVM_RUN until the VM ends. The BSP starts runnable; APs
 * wait in UNINITIALIZED for the guest's INIT/SIPI through the in-kernel
 * LAPIC. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "kvm_priv.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "kvm_confine.h"
#include "x86_64/layout.h"
#include "x86_64/pagetables.h"
#include "x86_64/regs.h"


static int vcpu_fail(struct ktstr_error *err, int e, uint32_t cpu, const char *step)
{
	char why[256];

	snprintf(why, sizeof(why), "vCPU %u: %s: %s", cpu, step, strerror(e));
	return kvm_err_set(err, e, "KVM engine: vCPU setup failed", why,
			   "check dmesg; on kvm_pvm only tiny guests run");
}

static int set_cpuid(struct kvm_vcpu *v, const struct x86_cpuid *c)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[X86_CPUID_MAX_ENTRIES];
	} b;

	memset(&b.hdr, 0, sizeof(b.hdr));
	b.hdr.nent = (uint32_t)c->n;
	memcpy(b.e, c->e, c->n * sizeof(c->e[0]));
	return ioctl(v->fd, KVM_SET_CPUID2, &b) < 0 ? -errno : 0;
}

static int setup_msrs(struct kvm_vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[X86_BOOT_MSRS];
	} b;
	int r;

	memset(&b, 0, sizeof(b));
	b.hdr.nmsrs = X86_BOOT_MSRS;
	x86_boot_msrs(b.e);
	r = ioctl(v->fd, KVM_SET_MSRS, &b);
	if (r < 0)
		return -errno;
	if (r != X86_BOOT_MSRS) /* KVM stops at the first MSR it rejects */
		kwarn("KVM engine: vCPU %u: KVM accepted %d of %u boot MSRs (first rejected: 0x%x); continuing",
		      v->index, r, X86_BOOT_MSRS, b.e[r].index);
	return 0;
}

static int setup_lapic_and_base(struct kvm_engine *e, struct kvm_vcpu *v, bool bsp)
{
	struct kvm_lapic_state lapic;
	struct kvm_sregs s;

	if (e->m.x2apic) { /* x2APIC mode must be on before 32-bit IDs work */
		if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
			return -errno;
		s.apic_base |= X86_APIC_BASE_ENABLE | X86_APIC_BASE_X2APIC;
		if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
			return -errno;
	}
	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	x86_lapic_lvt(lapic.regs, bsp);
	return ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int setup_bsp(struct kvm_engine *e, struct kvm_vcpu *v)
{
	uint64_t gdt[X86_GDT_ENTRIES];
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_fpu f;

	x86_gdt_build(gdt, e->kernel.kind == X86_KERNEL_BZIMAGE);
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	x86_bsp_sregs(&e->kernel, gdt, &s);
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	x86_bsp_regs(&e->kernel, &r);
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	x86_fpu_init(&f);
	return ioctl(v->fd, KVM_SET_FPU, &f) < 0 ? -errno : 0;
}

int kvm_vcpus_create(struct kvm_engine *e, const struct x86_cpuid *supported,
		     const struct x86_feature_bit *off, size_t noff, struct ktstr_error *err)
{
	struct x86_cpuid *c = malloc(sizeof(*c)); /* 10 KiB: keep it off the stack */
	int r = 0;

	if (!c)
		return kvm_err_set(err, ENOMEM, "KVM engine: out of memory", "CPUID table", NULL);
	e->vcpus = calloc(e->m.ncpus, sizeof(*e->vcpus));
	if (!e->vcpus) {
		free(c);
		return kvm_err_set(err, ENOMEM, "KVM engine: out of memory", "vCPU array", NULL);
	}
	for (uint32_t i = 0; i < e->m.ncpus; i++)
		e->vcpus[i].fd = -1;
	for (uint32_t i = 0; i < e->m.ncpus; i++) {
		struct kvm_vcpu *v = &e->vcpus[i];
		struct kvm_mp_state mp = { .mp_state = i == 0 ? KVM_MP_STATE_RUNNABLE
							      : KVM_MP_STATE_UNINITIALIZED };
		void *run;

		v->eng = e;
		v->index = i;
		/* The vCPU id is the APIC ID: the in-kernel LAPIC takes its
		 * initial ID from it. */
		v->fd = ioctl(e->vm.vm_fd, KVM_CREATE_VCPU, (unsigned long)e->m.apic_id[i]);
		if (v->fd < 0) {
			r = vcpu_fail(err, errno, i, "KVM_CREATE_VCPU");
			goto out;
		}
		run = mmap(NULL, e->vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (run == MAP_FAILED) {
			r = vcpu_fail(err, errno, i, "mmap(kvm_run)");
			goto out;
		}
		v->run = run;
		*c = *supported;
		if ((r = x86_cpuid_patch(c, &e->m, i, off, noff))) {
			r = vcpu_fail(err, -r, i, "CPUID table full");
			goto out;
		}
		if ((r = set_cpuid(v, c))) {
			r = vcpu_fail(err, -r, i, "KVM_SET_CPUID2");
			goto out;
		}
		if ((r = setup_msrs(v))) {
			r = vcpu_fail(err, -r, i, "KVM_SET_MSRS");
			goto out;
		}
		if ((r = setup_lapic_and_base(e, v, i == 0))) {
			r = vcpu_fail(err, -r, i, "LAPIC setup");
			goto out;
		}
		if (i == 0 && (r = setup_bsp(e, v))) {
			r = vcpu_fail(err, -r, i, "boot registers");
			goto out;
		}
		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
			r = vcpu_fail(err, errno, i, "KVM_SET_MP_STATE");
			goto out;
		}
	}
out:
	free(c);
	return r;
}

static void emulation_failure(struct kvm_engine *e, struct kvm_vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t insn[15];
	size_t n = 0;
	bool have = ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &s) == 0;

	if (have) {
		uint64_t linear = (s.efer & X86_EFER_LMA) && s.cs.l ? r.rip : s.cs.base + r.rip;

		n = kvm_read_linear(e, &s, linear, insn, sizeof(insn));
	}
	pthread_mutex_lock(&e->lock);
	if (!e->ended) {
		char hex[3 * 15 + 1] = "";

		for (size_t i = 0; i < n; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", insn[i]);
		e->end->has_fault = have;
		e->end->fault_rip = have ? r.rip : 0;
		memcpy(e->end->fault_insn, insn, n);
		e->end->fault_insn_len = (uint32_t)n;
		e->end->kvm_exit_reason = KVM_EXIT_INTERNAL_ERROR;
		e->end->kvm_suberror = KVM_INTERNAL_ERROR_EMULATION;
		kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_EMULATION_FAILURE, true,
			       "vCPU %u: KVM could not emulate the instruction at RIP 0x%llx (bytes: %s)",
			       v->index, (unsigned long long)(have ? r.rip : 0), n ? hex : "unreadable");
	}
	pthread_mutex_unlock(&e->lock);
}

static void exit_error(struct kvm_engine *e, struct kvm_vcpu *v, uint32_t reason, uint32_t sub,
		       const char *what)
{
	pthread_mutex_lock(&e->lock);
	if (!e->ended) {
		e->end->kvm_exit_reason = reason;
		e->end->kvm_suberror = sub;
		kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_KVM_ERROR, true, "vCPU %u: %s", v->index, what);
	}
	pthread_mutex_unlock(&e->lock);
}

/* One exit. Returns false when the thread must stop. */
static bool handle_exit(struct kvm_engine *e, struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[160];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		kvm_io_port(e, run);
		return true;
	case KVM_EXIT_MMIO:
		return kvm_io_mmio(e, v, run);
	case KVM_EXIT_HLT: /* only without an in-kernel LAPIC: nothing wakes us */
		kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_KVM_ERROR, false,
			       "vCPU %u halted with no in-kernel LAPIC to wake it", v->index);
		return false;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_IOAPIC_EOI: /* split irqchip: a level entry's EOI */
		kvm_io_ioapic_eoi(e, run->eoi.vector);
		return true;
	case KVM_EXIT_SHUTDOWN:
		kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_TRIPLE_FAULT, false,
			       "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", v->index);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_POWER_OFF, false, "system event: shutdown");
			break;
		case KVM_SYSTEM_EVENT_RESET:
			kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_RESET, false, "system event: reset");
			break;
		case KVM_SYSTEM_EVENT_CRASH:
			kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_GUEST_PANIC, false, "system event: crash");
			break;
		default:
			snprintf(what, sizeof(what), "unknown system event %u", run->system_event.type);
			exit_error(e, v, run->exit_reason, run->system_event.type, what);
		}
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		exit_error(e, v, run->exit_reason, 0, what);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
			emulation_failure(e, v);
		} else {
			snprintf(what, sizeof(what), "KVM internal error, suberror %u", run->internal.suberror);
			exit_error(e, v, run->exit_reason, run->internal.suberror, what);
		}
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		exit_error(e, v, run->exit_reason, 0, what);
		return false;
	}
}

/* The pool's prepare (vcpu_pool.h), on vCPU thread index before its first
 * KVM_RUN: performance mode, then this thread's own WORKER_VCPU policy,
 * loaded after every setup ioctl (kvm_vcpus_create). */
static int vcpu_prepare(void *ctx, uint32_t index, char *err, size_t len)
{
	struct kvm_engine *e = ctx;

	return kvm_confine_vcpu(e->in->spec, e->m.ncpus, index, e->vperf, e->confine, err, len);
}

/* The pool's run: KVM_RUN and the exits until the VM ends. */
static void vcpu_run(void *ctx, uint32_t index)
{
	struct kvm_engine *e = ctx;
	struct kvm_vcpu *v = &e->vcpus[index];

	while (!atomic_load(&e->stop)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* kicked: re-check stop */
			kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_KVM_ERROR, false,
				       "vCPU %u: KVM_RUN failed: %s", v->index, strerror(errno));
			break;
		}
		if (!handle_exit(e, v))
			break;
	}
}

int kvm_vcpus_start(struct kvm_engine *e, struct ktstr_error *err)
{
	static const struct vcpu_pool_ops ops = { .prepare = vcpu_prepare, .run = vcpu_run };
	char why[160];
	int r;

	r = vcpu_pool_init(&e->pool, e->m.ncpus, &e->lock, &e->cond, &e->stop, e->kick_signal,
			   "KVM engine", &ops, e);
	if (!r && e->in->spec->performance_mode &&
	    !(e->vperf = calloc(e->m.ncpus, sizeof(*e->vperf))))
		r = -ENOMEM;
	if (r)
		return kvm_err_set(err, -r, "KVM engine: out of memory", "vCPU threads", NULL);
	r = vcpu_pool_start(&e->pool, why, sizeof(why));
	if (r)
		kvm_err_set(err, -r, "KVM engine: cannot start vCPU threads", why,
			    "raise the thread limit (ulimit -u)");
	return r;
}

void kvm_vcpus_join(struct kvm_engine *e)
{
	vcpu_pool_join(&e->pool);
	for (uint32_t i = 0; e->pool.slot && i < e->pool.n; i++) {
		/* Still in KVM_RUN: its fd and kvm_run mapping must stay. */
		if (e->pool.slot[i].leaked) {
			e->vcpus[i].fd = -1;
			e->vcpus[i].run = NULL;
		}
	}
}

void kvm_vcpus_destroy(struct kvm_engine *e)
{
	for (uint32_t i = 0; e->vcpus && i < e->m.ncpus; i++) {
		struct kvm_vcpu *v = &e->vcpus[i];

		if (v->run)
			munmap(v->run, e->vm.run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(e->vcpus);
	e->vcpus = NULL;
	free(e->vcpu_ns);
	e->vcpu_ns = NULL;
	free(e->vperf);
	e->vperf = NULL;
	vcpu_pool_free(&e->pool);
}
