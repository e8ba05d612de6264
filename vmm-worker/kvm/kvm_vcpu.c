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
#include "sandbox.h"
#include "x86_64/layout.h"
#include "x86_64/pagetables.h"
#include "x86_64/regs.h"

#define JOIN_BOUND_S 5
/* vCPU threads report their policy and wait for the gate at most this
 * long: both take milliseconds; only a stalled host comes near it. */
#define KVM_GATE_WAIT_MS 10000

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

/* A bounded wait on e->cond (under e->lock) until deadline_ms. */
static void cond_wait_until(struct kvm_engine *e, uint64_t deadline_ms)
{
	struct timespec ts;
	uint64_t now = ktstr_now_ms(), left = deadline_ms > now ? deadline_ms - now : 0;

	if (left > 100)
		left = 100; /* re-check the state at least every 100 ms */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&e->cond, &e->lock, &ts);
}

/* Confine this vCPU thread (WORKER_VCPU, this thread only) and wait at the
 * start gate until the control thread is confined too. Returns true when
 * the thread may run the guest. The filter is loaded here, in the thread
 * that runs guest code, after every setup ioctl (kvm_vcpus_create) and
 * before the first KVM_RUN: nothing the guest does can reach a syscall the
 * policy does not name. */
static bool vcpu_confine_and_wait(struct kvm_engine *e, struct kvm_vcpu *v)
{
	uint64_t deadline = ktstr_now_ms() + KVM_GATE_WAIT_MS;
	char err[sizeof(v->sb_err)] = "";
	int r = 0;
	bool go;

	char name[16];

	/* Named for ps/top and /proc/PID/task/TID/comm ("ktstr-vcpu3"); on
	 * the calling thread glibc uses prctl(PR_SET_NAME), done before the
	 * filter, which does not allow prctl. */
	snprintf(name, sizeof(name), "ktstr-vcpu%u", v->index % 100000u);
	pthread_setname_np(pthread_self(), name);
	/* Performance mode: onto its own host CPU at SCHED_FIFO 1, before
	 * the filter (which allows neither call). Inherited FIFO 2 from the
	 * control thread is lowered, which needs no privilege. */
	if (e->in->spec->performance_mode) {
		const Ktstr__VmSpec *spec = e->in->spec;
		bool pin = spec->n_pin_cpus == e->m.ncpus;

		perf_thread_apply(pin, pin ? spec->pin_cpus[v->index] : 0, PERF_RT_VCPU, &v->pin_err,
				  &v->rt_err);
		v->perf_done = true;
	}
	if (e->confine)
		r = sandbox_load_policy(SANDBOX_ROLE_WORKER_VCPU, 0, NULL, err, sizeof(err));
	pthread_mutex_lock(&e->lock);
	v->sb_state = r < 0 ? r : 1;
	if (r < 0)
		snprintf(v->sb_err, sizeof(v->sb_err), "%s", err);
	pthread_cond_broadcast(&e->cond);
	while (r == 0 && !e->gate_open && !atomic_load(&e->stop) && ktstr_now_ms() < deadline)
		cond_wait_until(e, deadline);
	go = r == 0 && e->gate_open && !atomic_load(&e->stop);
	pthread_mutex_unlock(&e->lock);
	if (r == 0 && !go && !atomic_load(&e->stop))
		kerr("KVM engine: vCPU %u: the start gate did not open within %d ms; the vCPU "
		     "leaves without running the guest", v->index, KVM_GATE_WAIT_MS);
	return go;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *v = arg;
	struct kvm_engine *e = v->eng;
	sigset_t set;

	if (!vcpu_confine_and_wait(e, v))
		goto out;
	sigemptyset(&set);
	sigaddset(&set, e->kick_signal);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
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
out:
	atomic_store(&v->done, true);
	pthread_mutex_lock(&e->lock);
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

int kvm_vcpus_wait_confined(struct kvm_engine *e, char *why, size_t len)
{
	uint64_t deadline = ktstr_now_ms() + KVM_GATE_WAIT_MS;
	int r = 0;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		uint32_t pending = 0;

		for (uint32_t i = 0; i < e->m.ncpus && !r; i++) {
			struct kvm_vcpu *v = &e->vcpus[i];

			if (!v->started)
				continue;
			if (v->sb_state < 0) {
				snprintf(why, len, "vCPU %u: %s", i, v->sb_err);
				r = v->sb_state;
			} else if (v->sb_state == 0) {
				pending++;
			}
		}
		if (r || !pending)
			break;
		if (ktstr_now_ms() >= deadline) {
			snprintf(why, len, "%u vCPU thread(s) did not report their WORKER_VCPU seccomp "
				 "policy within %d ms (host overloaded?)", pending, KVM_GATE_WAIT_MS);
			r = -ETIMEDOUT;
			break;
		}
		cond_wait_until(e, deadline);
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

void kvm_vcpus_open_gate(struct kvm_engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->gate_open = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

int kvm_vcpus_start(struct kvm_engine *e, struct ktstr_error *err)
{
	sigset_t set, old;
	int r = 0;

	/* Threads start with the kick signal blocked and unblock it only in
	 * their loop, so a kick never lands on a thread outside KVM_RUN's
	 * reach; the main thread keeps it blocked. */
	sigemptyset(&set);
	sigaddset(&set, e->kick_signal);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (uint32_t i = 0; i < e->m.ncpus; i++) {
		r = pthread_create(&e->vcpus[i].thread, NULL, vcpu_thread, &e->vcpus[i]);
		if (r) {
			char why[128];

			snprintf(why, sizeof(why), "pthread_create for vCPU %u: %s", i, strerror(r));
			kvm_err_set(err, r, "KVM engine: cannot start vCPU threads", why,
				    "raise the thread limit (ulimit -u)");
			r = -r;
			break;
		}
		e->vcpus[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

void kvm_vcpus_join(struct kvm_engine *e)
{
	for (uint32_t i = 0; i < e->m.ncpus; i++) {
		struct kvm_vcpu *v = &e->vcpus[i];
		struct timespec ts;

		if (!v->started)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += JOIN_BOUND_S;
		if (pthread_timedjoin_np(v->thread, NULL, &ts) == ETIMEDOUT) {
			/* A vCPU that ignores kicks would hang the worker:
			 * report it and leave the thread and its fd alone
			 * (the process exits after the result is sent). */
			kerr("KVM engine: vCPU %u did not stop within %d s after the VM ended; leaving it",
			     i, JOIN_BOUND_S);
			v->fd = -1;
			v->run = NULL;
		}
		v->started = false;
	}
}

void kvm_vcpus_destroy(struct kvm_engine *e)
{
	if (!e->vcpus)
		return;
	for (uint32_t i = 0; i < e->m.ncpus; i++) {
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
}
