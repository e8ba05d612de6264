/* The KVM engine: our own VMM. kvm_engine_run sets the VM up, runs one
 * thread per vCPU and watches from the calling thread (100 ms ticks): live
 * SHM ring drain, serial output to the capture, console panic marker,
 * SCHED_EXIT, stop requests, interactive input and the watchdog. Whatever
 * ends the VM first is its outcome.
 *
 * Confinement (docs/security.md, "KVM engine"), before the first guest
 * instruction and in this order:
 *   1. setup(): everything that opens a file or creates an fd: /dev/kvm
 *      (closed again once the VM and vCPUs exist), the VM fd, guest RAM,
 *      the kernel/initrd loaded from main.c's fds, vCPU fds + kvm_run
 *      mappings, every vCPU setup ioctl, the kick signal handler;
 *   2. fd inventory (main.c's fds + the VM and vCPU fds), while /proc is
 *      still reachable;
 *   3. namespaces (SANDBOX_NS_DEFAULT | SANDBOX_NS_EMPTY_ROOT), no
 *      capabilities, no_new_privs -- while the process is single-threaded
 *      (a user namespace needs it); threads inherit all three;
 *   4. vCPU threads: each loads WORKER_VCPU for itself, reports, and waits
 *      at the start gate;
 *   5. this (control) thread loads WORKER_CTL for itself only (no TSYNC:
 *      a vCPU thread must keep its own, smaller filter), then opens the
 *      gate: the first KVM_RUN.
 * Any failure ends the VM as ENGINE_ERROR before the guest ran, unless
 * VmSpec.insecure_no_sandbox skips 2-5 (vm_end.sandboxed stays false). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "capture.h"
#include "kvm_priv.h"
#include "sandbox.h"
#include "kvm_confine.h"
#include "vm_watch.h"
#include "ktstr/log.h"
#include "ktstr/topology.h"
#include "ktstr/util.h"
#include "x86_64/pagetables.h"


static void kick_handler(int sig)
{
	(void)sig; /* its only job is to make KVM_RUN return EINTR */
}

void kvm_engine_kick_all(struct kvm_engine *e)
{
	atomic_store(&e->stop, true);
	for (uint32_t i = 0; e->vcpus && i < e->m.ncpus; i++)
		if (e->vcpus[i].run)
			e->vcpus[i].run->immediate_exit = 1;
	vcpu_pool_kick(&e->pool);
}

void kvm_engine_end(struct kvm_engine *e, Ktstr__Outcome outcome, bool locked, const char *fmt, ...)
{
	va_list ap;

	if (!locked)
		pthread_mutex_lock(&e->lock);
	if (!e->ended) {
		e->ended = true;
		e->end->outcome = outcome;
		e->end->end_us = ktstr_now_us();
		char why[512] = "";

		if (fmt) {
			va_start(ap, fmt);
			vsnprintf(why, sizeof(why), fmt, ap);
			va_end(ap);
		}
		vm_watch_note_end(e->end, outcome, why,
				  "see the console tail; on kvm_pvm a stock kernel cannot run "
				  "(use --engine qemu)");
		pthread_cond_broadcast(&e->cond);
	}
	if (!locked)
		pthread_mutex_unlock(&e->lock);
	kvm_engine_kick_all(e);
}

struct phys_ctx {
	struct kvm_engine *e;
};

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct kvm_engine *e = ((struct phys_ctx *)ctx)->e;
	void *p = guest_ptr(&e->vm.ram, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

size_t kvm_read_linear(struct kvm_engine *e, const struct kvm_sregs *s, uint64_t linear,
		       uint8_t *buf, size_t len)
{
	struct phys_ctx pc = { e };
	size_t n = 0;

	for (; n < len; n++) {
		uint64_t gpa;

		if (x86_translate(s->cr0, s->cr3, s->cr4, s->efer, linear + n, read_phys, &pc, &gpa) ||
		    read_phys(&pc, gpa, buf + n, 1))
			break;
	}
	return n;
}

/* Under lock. */
static void drain_ring(struct kvm_engine *e)
{
	vm_watch_drain_ring(&e->ring, &e->have_ring, &e->ring_crc_errors, &e->end->monitor, e->cap,
			    !e->ended, "KVM engine");
}

/* Shell mode: terminal bytes into COM2's RX FIFO (vm_watch_read_stdin). */
static void feed_stdin(struct kvm_engine *e)
{
	uint8_t buf[UART_FIFO_LEN];
	size_t room, n;

	pthread_mutex_lock(&e->lock);
	room = uart_rx_room(&e->com2);
	pthread_mutex_unlock(&e->lock);
	n = vm_watch_read_stdin(e->in, e->cap, room, buf);
	if (!n)
		return;
	pthread_mutex_lock(&e->lock);
	uart_receive(&e->com2, buf, n);
	pthread_mutex_unlock(&e->lock);
}

/* The monitor's view of guest RAM (vm_ram_view). */
static void *ram_lookup(const void *ram, uint64_t gpa, uint64_t len)
{
	return guest_ptr(ram, gpa, len);
}

/* vm_watch_run's callbacks (vm_watch.h), under e->lock but feed_stdin. */
static void watch_drain(void *ctx)
{
	kvm_io_drain_serial(ctx);
	drain_ring(ctx);
}

static void watch_end(void *ctx, Ktstr__Outcome o, const char *why)
{
	kvm_engine_end(ctx, o, true, "%s", why);
}

static void watch_feed_stdin(void *ctx)
{
	feed_stdin(ctx);
}

/* The watchdog loop; returns when the VM has ended. */
static void watch(struct kvm_engine *e)
{
	const struct vm_watch_loop l = {
		.in = e->in, .cap = e->cap, .mon = &e->end->monitor, .pool = &e->pool,
		.vcpu_ns = e->vcpu_ns, .lock = &e->lock, .cond = &e->cond, .ended = &e->ended,
		.ring = &e->ring, .have_ring = &e->have_ring, .ctx = e, .drain = watch_drain,
		.end = watch_end, .feed_stdin = watch_feed_stdin,
	};

	vm_watch_run(&l);
}

static int parse_features(const Ktstr__VmSpec *spec, struct x86_feature_bit *off, size_t *noff,
			  struct ktstr_error *err)
{
	*noff = 0;
	for (size_t i = 0; i < spec->n_cpu_features_off; i++) {
		char why[160];

		if (*noff == 64)
			return kvm_err_set(err, E2BIG, "KVM engine: too many cpu_features_off", "at most 64", NULL);
		if (x86_feature_lookup(spec->cpu_features_off[i], &off[*noff])) {
			snprintf(why, sizeof(why), "unknown CPU feature \"%s\"", spec->cpu_features_off[i]);
			return kvm_err_set(err, EINVAL, "KVM engine: bad cpu_features_off", why,
					   "use /proc/cpuinfo names such as xsave, avx, avx2, bmi2");
		}
		(*noff)++;
	}
	return 0;
}

static int get_supported_cpuid(struct kvm_engine *e, struct x86_cpuid *c, struct ktstr_error *err)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 ent[X86_CPUID_MAX_ENTRIES];
	} b;

	memset(&b.hdr, 0, sizeof(b.hdr));
	b.hdr.nent = X86_CPUID_MAX_ENTRIES;
	if (ioctl(e->vm.kvm_fd, KVM_GET_SUPPORTED_CPUID, &b) < 0)
		return kvm_err_set(err, errno, "KVM engine: KVM_GET_SUPPORTED_CPUID failed", strerror(errno), NULL);
	/* Keep room for the leaves the patcher may add. */
	c->n = b.hdr.nent < X86_CPUID_MAX_ENTRIES - 16 ? b.hdr.nent : X86_CPUID_MAX_ENTRIES - 16;
	memcpy(c->e, b.ent, c->n * sizeof(c->e[0]));
	/* KVM emulates the TSC-deadline LAPIC timer but reports it only as a
	 * capability, not in the supported CPUID table (QEMU adds it the same
	 * way). Without it Linux calibrates the LAPIC timer against the PIT;
	 * on a slow or nested host that fails ("APIC timer disabled due to
	 * verification failure") and every CPU then depends on the PIT
	 * broadcast. cpu_features_off can still remove it. */
	if (ioctl(e->vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0) {
		struct kvm_cpuid_entry2 *l1 = x86_cpuid_find(c, 1, 0);

		if (l1)
			l1->ecx |= 1u << 24;
	}
	return 0;
}

/* Performance mode: bind each guest node's RAM to the host node of the
 * CPUs its vCPUs are pinned to (MPOL_BIND before the first touch, so pages
 * are allocated there). A single-node host has nothing to bind. */
static void perf_bind_memory(struct kvm_engine *e)
{
	const Ktstr__VmSpec *spec = e->in->spec;
	struct perf_report *p = &e->end->perf;
	uint64_t align = e->vm.huge ? PERF_HUGEPAGE_SIZE : 4096;
	uint32_t *vnode = NULL, nodes = e->m.topo.numa_nodes, per_llc;
	int hosts = perf_sysfs_host_nodes(), *map = NULL;
	bool ok = true;

	if (hosts <= 1) {
		perf_note(p, false, "the host has one NUMA node: guest RAM needs no mbind");
		return;
	}
	if (spec->n_pin_cpus != e->m.ncpus) {
		perf_note(p, true, "no pin_cpus: guest RAM is not bound to a host node (%d nodes); "
			  "pass pin_cpus (ktstr-orch does) so the node of each vCPU's CPU is known",
			  hosts);
		return;
	}
	vnode = calloc(e->m.ncpus, sizeof(*vnode));
	map = calloc(nodes, sizeof(*map));
	if (!vnode || !map) {
		perf_note(p, true, "out of memory planning mbind; guest RAM is not bound");
		goto out;
	}
	per_llc = topo_cpus_per_llc(&e->m.topo);
	for (uint32_t i = 0; i < e->m.ncpus; i++)
		vnode[i] = topo_llc_node(&e->m.topo, i / per_llc);
	perf_node_map(vnode, e->m.ncpus, spec->pin_cpus, spec->n_pin_cpus, perf_sysfs_cpu_node, nodes,
		      map);
	for (size_t i = 0; i < e->m.n_node_ram; i++) {
		const struct x86_ram_range *rr = &e->m.node_ram[i];
		uint8_t *host = guest_ptr(&e->vm.ram, rr->base, rr->size);
		uintptr_t a, b;
		int r;

		if (!host || rr->node >= nodes || map[rr->node] < 0) {
			perf_note(p, true, "guest node %u: the host node of its pinned CPUs is unknown "
				  "(sysfs cpuN/nodeM); its RAM is not bound", rr->node);
			ok = false;
			continue;
		}
		/* mbind needs page-aligned ranges (2 MiB on hugetlb); a node
		 * border inside a page leaves that one page with the next node. */
		a = (uintptr_t)host & ~(uintptr_t)(align - 1);
		b = ((uintptr_t)host + rr->size) & ~(uintptr_t)(align - 1);
		if (b <= a)
			continue;
		r = perf_mbind((void *)a, b - a, map[rr->node]);
		if (r) {
			perf_note(p, true, "mbind of guest node %u (%llu MiB) to host node %d: %s; "
				  "its RAM follows the default policy", rr->node,
				  (unsigned long long)(rr->size >> 20), map[rr->node], strerror(-r));
			ok = false;
		}
	}
	p->mbind = ok;
out:
	free(vnode);
	free(map);
}

static int setup(struct kvm_engine *e, struct ktstr_error *err)
{
	const Ktstr__VmSpec *spec = e->in->spec;
	struct ktstr_topo t = vm_spec_topo(spec);
	struct x86_feature_bit off[64];
	struct x86_cpuid *sup = NULL;
	struct sigaction sa;
	size_t noff;
	char why[256];
	int r;

	r = x86_machine_init(&e->m, &t, (uint64_t)spec->memory_mb << 20,
			     spec->shm_size, why, sizeof(why));
	if (r)
		return kvm_err_set(err, -r, "KVM engine: invalid VM spec", why, "fix the topology or memory_mb");
	if ((r = parse_features(spec, off, &noff, err)))
		return r;
	if (spec->performance_mode) {
		e->m.realtime_hint = true;
		e->vm.perf = &e->end->perf;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must return */
	sigemptyset(&sa.sa_mask);
	if (sigaction(e->kick_signal, &sa, NULL) < 0)
		return kvm_err_set(err, errno, "KVM engine: cannot install the vCPU kick handler", strerror(errno), NULL);
	if ((r = kvm_vm_create(&e->vm, &e->m, err)) || (r = kvm_vm_map_ram(&e->vm, &e->m, err)))
		return r;
	if (spec->performance_mode)
		perf_bind_memory(e); /* before the loaders fault any page in */
	if ((r = kvm_boot_setup(e, err)) || (r = kvm_vm_register_ram(&e->vm, err)))
		return r;
	/* Guest RAM is ours, mapped in this process: the monitor reads it
	 * (and writes the watchdog timeout) without a syscall. */
	e->vcpu_ns = calloc(e->m.ncpus, sizeof(*e->vcpu_ns));
	if (!e->vcpu_ns)
		return kvm_err_set(err, ENOMEM, "KVM engine: out of memory", "vCPU times", NULL);
	e->ram_view = (struct vm_ram_view){ .lookup = ram_lookup, .ram = &e->vm.ram };
	vm_monitor_start(&e->end->monitor, spec, e->m.ncpus, vm_ram_view_read, vm_ram_view_write,
			 &e->ram_view, e->m.high_end ? e->m.high_end : e->m.low_end);
	if (!(sup = malloc(sizeof(*sup))))
		return kvm_err_set(err, ENOMEM, "KVM engine: out of memory", "CPUID table", NULL);
	r = get_supported_cpuid(e, sup, err);
	if (!r)
		r = kvm_vcpus_create(e, sup, off, noff, err);
	free(sup);
	if (!r && e->m.realtime_hint)
		e->end->perf.realtime_hint = true; /* every vCPU's CPUID carries it */
	/* /dev/kvm is only for system ioctls (capabilities, CPUID, new VMs):
	 * none is needed from here on, and a confined worker holding it could
	 * only be tempted to create VMs. */
	if (e->vm.kvm_fd >= 0) {
		close(e->vm.kvm_fd);
		e->vm.kvm_fd = -1;
	}
	return r;
}

/* Steps 2-3 (see the top of this file): before any thread exists. */
static int confine_prepare(struct kvm_engine *e, struct ktstr_error *err)
{
	int *fds = calloc(e->m.ncpus + 1, sizeof(*fds));
	size_t n = 0;
	int r;

	if (!fds)
		return kvm_err_set(err, ENOMEM, "KVM engine: out of memory", "fd inventory", NULL);
	fds[n++] = e->vm.vm_fd;
	for (uint32_t i = 0; i < e->m.ncpus; i++)
		fds[n++] = e->vcpus[i].fd;
	r = kvm_confine_prepare("KVM engine", fds, n, err);
	free(fds);
	return r;
}

int kvm_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end)
{
	struct kvm_engine *e = calloc(1, sizeof(*e));
	struct ktstr_error err = { 0 };
	int r;

	memset(end, 0, sizeof(*end));
	vm_monitor_init(&end->monitor);
	end->engine = KTSTR__ENGINE__ENGINE_KVM;
	snprintf(end->engine_detail, sizeof(end->engine_detail), "kvm");
	if (!e) {
		end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
		ktstr_error_set(&end->error, ENOMEM, "KVM engine: allocate the engine", NULL,
				"free host memory", "out of memory");
		return -ENOMEM;
	}
	e->in = in;
	e->cap = cap;
	e->end = end;
	e->kick_signal = SIGRTMIN;
	kvm_vm_init(&e->vm);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	kvm_io_init(e);

	e->confine = !in->spec->insecure_no_sandbox;
	end->perf.requested = in->spec->performance_mode;

	r = setup(e, &err);
	if (!r && in->spec->performance_mode)
		perf_service_apply(in->spec, &end->perf);
	if (!r && e->confine)
		r = confine_prepare(e, &err);
	if (!r)
		r = kvm_vcpus_start(e, &err);
	/* Steps 4-5: every vCPU thread confined itself, now this thread. */
	if (!r && e->confine && !(r = kvm_confine_ctl("KVM engine", &e->pool, &err)))
		end->sandboxed = true;
	if (!r) {
		/* Shell mode: COM2 is the terminal. The capture writes it (on
		 * this thread, from kvm_io_drain_serial); a closed terminal is
		 * logged once, not an error of the VM. */
		if (in->stdout_fd >= 0)
			capture_set_com2_mirror(cap, in->stdout_fd);
		end->setup_us = ktstr_now_us() - in->worker_start_us;
		end->engine_start_us = ktstr_now_us();
		vcpu_pool_open_gate(&e->pool); /* the first guest instruction */
		capture_vm_started(cap, KTSTR__ENGINE__ENGINE_KVM, end->engine_detail,
				   end->setup_us, 0);
	}
	if (r) {
		kvm_engine_kick_all(e); /* sets stop: threads at the gate leave */
		vcpu_pool_open_gate(&e->pool);
		kvm_vcpus_join(e);
		if (in->spec->performance_mode)
			perf_fold_vcpus(in->spec, e->m.ncpus, e->vperf, &end->perf);
		end->sandboxed = false; /* the guest never ran */
		end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
		end->error = err;
		end->end_us = ktstr_now_us();
		if (!end->engine_start_us)
			end->engine_start_us = end->end_us;
		goto out;
	}
	watch(e);
	kvm_vcpus_join(e);
	if (in->spec->performance_mode)
		perf_fold_vcpus(in->spec, e->m.ncpus, e->vperf, &end->perf);
	/* Post-mortem: whatever the guest wrote after the last tick. */
	pthread_mutex_lock(&e->lock);
	kvm_io_drain_serial(e);
	serial_out_report(e->com_out, "KVM engine");
	kvm_io_report(e);
	drain_ring(e);
	if (e->have_ring)
		capture_ring_stats(cap, ring_drops(&e->ring), e->ring_crc_errors);
	/* A panic printed just before a reset/triple fault is the real story. */
	if (capture_saw_panic(cap) && end->outcome != KTSTR__OUTCOME__OUTCOME_TIMEOUT &&
	    end->outcome != KTSTR__OUTCOME__OUTCOME_STOPPED)
		end->outcome = KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	pthread_mutex_unlock(&e->lock);
	r = 0;
out:
	kvm_vcpus_destroy(e);
	kvm_vm_close(&e->vm);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
	return r;
}
