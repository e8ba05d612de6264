/* ENGINE_KVM on an aarch64 host: the worker's entry to the arm64 KVM engine
 * (engine.h; docs/aarch64.md, "The arm64 KVM engine"). What kvm/kvm_engine.c
 * does for x86, around the arm64 machine (a64_machine.c): the VmSpec read
 * into a64_machine_spec, one thread per vCPU (vcpu_pool.h, a64_threads.c),
 * and the calling thread watching every 100 ms (vm_watch.h): serial output
 * to the capture, the SHM ring, the console's panic marker, SCHED_EXIT,
 * StopVm, interactive input and the watchdog. Whatever ends the VM first is
 * its outcome: PSCI SYSTEM_OFF = POWER_OFF, SYSTEM_RESET = RESET, a crash
 * event = GUEST_PANIC, an exit no device answers = KVM_ERROR.
 *
 * Guest contract: COM1 = UART0 (ttyS0, the console), COM2 = UART1 (ttyS1,
 * KTSTR_OUTPUT_PORT), both ns16550a on MMIO; the ring in the top shm_size
 * bytes of RAM (arm64_shm_base), reserved by the tree and announced by
 * KTSTR_SHM_BASE/KTSTR_SHM_SIZE (guest_cmdline_build_arm64_kvm).
 *
 * Confinement, as the x86 engine's (docs/security.md, "KVM engine"), before
 * the first guest instruction and in this order: setup opens everything
 * (then /dev/kvm and the RAM memfds are closed); the fd inventory; the
 * namespaces, no capabilities, no_new_privs while single-threaded; each
 * vCPU thread loads WORKER_VCPU (sandbox/policy_worker_vcpu.c, its aarch64
 * rules) for itself; this thread loads WORKER_CTL; then the gate opens.
 * VmSpec.insecure_no_sandbox skips the last four (vm_end.sandboxed stays
 * false). The host-side monitor (docs/monitor.md, "arm64 guests") reads
 * guest RAM through a64_gpa, with the Image where a64_boot put it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/error.h>
#include <ktstr/log.h>
#include <ktstr/util.h>

#include "a64_machine.h"
#include "capture.h"
#include "engine.h"
#include "perf.h"
#include "serial_out.h"
#include "vcpu_pool.h"
#include "kvm_confine.h"
#include "vm_watch.h"

#define WHO "arm64 KVM engine"
#define KVM_ERROR_HINT "see the console tail and the guest PC in the reason"

struct a64_engine {
	const struct vm_inputs *in;
	struct vm_capture *cap;
	struct vm_end *end;
	struct a64_vm vm; /* vm.lock guards the UARTs, the queues, the ends */
	struct a64_boot boot;
	pthread_cond_t cond;
	atomic_bool stop;
	struct a64_end vend; /* how a vCPU ended the VM (under vm.lock) */
	struct a64_runner runner;
	struct vcpu_pool pool;
	struct perf_thread *vperf; /* performance mode: ncpus entries, owned */
	struct serial_out com_out[2];
	struct vm_ram_view ram_view; /* the monitor's reads and writes of guest RAM */
	bool ended; /* end->outcome is final (under vm.lock) */
	bool have_ring, confine;
	uint32_t ring_crc_errors;
	uint64_t *vcpu_ns; /* vm.ncpus entries, owned: the monitor's vCPU times */
};

/* Record how the VM ended (first call wins) and stop every vCPU. Under
 * vm.lock. */
static void engine_end(struct a64_engine *e, Ktstr__Outcome o, const char *why)
{
	if (!e->ended) {
		e->ended = true;
		e->end->outcome = o;
		e->end->end_us = ktstr_now_us();
		vm_watch_note_end(e->end, o, why, KVM_ERROR_HINT);
	}
	a64_runner_stop(&e->runner);
}

/* The UARTs' bytes (a64_out_fn), on a vCPU thread under vm.lock: room is
 * waited for (bounded, see serial_out.h) so nothing the guest writes while
 * the VM runs is lost. Waiting inside the UART model's transmit is safe:
 * the byte is its last use of the model's state for this write. */
static void uart_out(void *ctx, unsigned port, uint8_t byte)
{
	struct a64_engine *e = ctx;
	unsigned i = port == 2 ? 1 : 0;

	if (!e->ended)
		serial_out_wait_room(e->com_out, 1, &e->vm.lock, &e->cond, &e->stop);
	serial_out_put(&e->com_out[i], i, byte, e->in->stdout_fd >= 0, &e->cond);
}

/* The monitor's view of guest RAM (vm_ram_view): mapped in this process
 * (a64_vm_map_ram); anything outside one node's RAM is a hole. */
static void *ram_lookup(const void *vm, uint64_t gpa, uint64_t len)
{
	return a64_gpa(vm, gpa, len);
}

/* Under vm.lock. */
static void drain_ring(struct a64_engine *e)
{
	vm_watch_drain_ring(&e->vm.ring, &e->have_ring, &e->ring_crc_errors, &e->end->monitor,
			    e->cap, !e->ended, WHO);
}

/* Shell mode: terminal bytes into UART1's RX FIFO (vm_watch_read_stdin). */
static void feed_stdin(struct a64_engine *e)
{
	uint8_t buf[UART_FIFO_LEN];
	size_t room, n;

	pthread_mutex_lock(&e->vm.lock);
	room = uart_rx_room(&e->vm.uart[1]);
	pthread_mutex_unlock(&e->vm.lock);
	n = vm_watch_read_stdin(e->in, e->cap, room, buf);
	if (n)
		a64_uart_input(&e->vm, 2, buf, n);
}

/* A vCPU's end, as the worker's outcome (under vm.lock). */
static void end_from_vcpu(struct a64_engine *e)
{
	char why[320];
	Ktstr__Outcome o = (Ktstr__Outcome)a64_exit_outcome(e->vend.res);

	switch (e->vend.res) {
	case A64_EXIT_POWER_OFF:
		snprintf(why, sizeof(why), "vCPU %u: PSCI SYSTEM_OFF", e->vend.cpu);
		break;
	case A64_EXIT_RESET:
		snprintf(why, sizeof(why), "vCPU %u: PSCI SYSTEM_RESET", e->vend.cpu);
		break;
	case A64_EXIT_PANIC:
		snprintf(why, sizeof(why), "vCPU %u: KVM crash system event", e->vend.cpu);
		break;
	default:
		snprintf(why, sizeof(why), "%s", e->vend.err[0] ? e->vend.err : "vCPU error");
		o = KTSTR__OUTCOME__OUTCOME_KVM_ERROR;
		break;
	}
	engine_end(e, o, why);
}

/* vm_watch_run's callbacks (vm_watch.h), under vm.lock but feed_stdin. */
static void watch_drain(void *ctx)
{
	struct a64_engine *e = ctx;

	serial_out_drain(e->com_out, e->cap, &e->cond);
	drain_ring(e);
}

static bool watch_vcpu_end(void *ctx)
{
	struct a64_engine *e = ctx;

	if (!e->vend.ended)
		return false;
	end_from_vcpu(e);
	return true;
}

static void watch_end(void *ctx, Ktstr__Outcome o, const char *why)
{
	engine_end(ctx, o, why);
}

static void watch_feed_stdin(void *ctx)
{
	feed_stdin(ctx);
}

/* The watchdog loop; returns when the VM has ended. */
static void watch(struct a64_engine *e)
{
	const struct vm_watch_loop l = {
		.in = e->in, .cap = e->cap, .mon = &e->end->monitor, .pool = &e->pool,
		.vcpu_ns = e->vcpu_ns, .lock = &e->vm.lock, .cond = &e->cond, .ended = &e->ended,
		.ring = &e->vm.ring, .have_ring = &e->have_ring, .ctx = e, .drain = watch_drain,
		.vcpu_end = watch_vcpu_end, .end = watch_end, .feed_stdin = watch_feed_stdin,
	};

	vm_watch_run(&l);
}

/* Map fd whole, read-only (0 bytes: *p = NULL). The mapping is the
 * caller's; the fd stays main.c's. */
static int map_fd(int fd, void **p, size_t *len)
{
	struct stat st;

	*p = NULL;
	*len = 0;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!st.st_size)
		return 0;
	*p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*p == MAP_FAILED) {
		*p = NULL;
		return -errno;
	}
	*len = (size_t)st.st_size;
	return 0;
}

/* The machine from the VmSpec: everything that opens an fd or touches KVM
 * happens here, before any confinement. */
static int setup(struct a64_engine *e, struct ktstr_error *err)
{
	const Ktstr__VmSpec *spec = e->in->spec;
	uint64_t mem = (uint64_t)spec->memory_mb << 20;
	struct a64_machine_spec ms = {
		.topo = vm_spec_topo(spec),
		.mem_bytes = mem,
		.shm_size = spec->shm_size,
		.shm_base = arm64_shm_base(mem, spec->shm_size),
		.initrd_tail = spec->has_initrd_suffix ? spec->initrd_suffix.data : NULL,
		.initrd_tail_len = spec->has_initrd_suffix ? spec->initrd_suffix.len : 0,
	};
	char cmdline[ARM64_CMDLINE_MAX], why[512];
	void *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	int r;

	r = guest_cmdline_build_arm64_kvm(spec, ms.shm_base, NULL, cmdline, sizeof(cmdline));
	if (r)
		return ktstr_error_set(err, -r, WHO ": build the kernel command line", NULL,
				       "shorten cmdline_extra",
				       "it must fit arm64's %u bytes (COMMAND_LINE_SIZE) with the NUL",
				       ARM64_CMDLINE_MAX);
	ms.bootargs = cmdline;
	if ((r = map_fd(e->in->kernel_fd, &kernel, &klen)) ||
	    (r = map_fd(e->in->initrd_fd, &initrd, &ilen))) {
		ktstr_error_set(err, -r, WHO ": map the kernel and initrd", NULL, NULL,
				"mmap of FD_KERNEL/FD_INITRD: %s", strerror(-r));
		goto out;
	}
	ms.kernel = kernel;
	ms.kernel_len = klen;
	ms.initrd = initrd;
	ms.initrd_len = ilen;
	a64_uarts_init(&e->vm, uart_out, e);
	r = a64_machine_setup(&e->vm, &ms, &e->boot, why, sizeof(why));
	if (r) {
		ktstr_error_set(err, -r, WHO ": set up the VM", NULL,
				"fix the topology, memory_mb, shm_size or the kernel as the reason says",
				"%s", why);
		goto out;
	}
	e->have_ring = ms.shm_size != 0;
	if (spec->performance_mode && !(e->vperf = calloc(e->vm.ncpus, sizeof(*e->vperf)))) {
		r = ktstr_error_set(err, ENOMEM, WHO ": out of memory", NULL, NULL, "vCPU records");
		goto out;
	}
	if (!(e->vcpu_ns = calloc(e->vm.ncpus, sizeof(*e->vcpu_ns)))) {
		r = ktstr_error_set(err, ENOMEM, WHO ": out of memory", NULL, NULL, "vCPU times");
		goto out;
	}
	/* Guest RAM exists and holds the Image at boot.load: the monitor
	 * reads it from here on (its mappings outlive the memfds closed
	 * below). */
	e->ram_view = (struct vm_ram_view){ .lookup = ram_lookup, .ram = &e->vm };
	vm_monitor_start_arm64(&e->end->monitor, spec, e->vm.ncpus, vm_ram_view_read,
			       vm_ram_view_write, &e->ram_view, ARM64_DRAM_BASE, ARM64_DRAM_BASE + mem,
			       e->boot.load);
	/* What a running VM does not need, a confined worker must not hold. */
	a64_vm_drop_setup_fds(&e->vm);
	r = a64_kick_handler_install();
	if (r)
		ktstr_error_set(err, -r, WHO ": install the vCPU kick handler", NULL, NULL, "%s",
				strerror(-r));
out:
	/* The guest has its copies; the files stay main.c's. */
	if (kernel)
		munmap(kernel, klen);
	if (initrd)
		munmap(initrd, ilen);
	return r;
}

/* The fd inventory and the namespaces: before any thread exists. */
static int confine_prepare(struct a64_engine *e, struct ktstr_error *err)
{
	int *fds = calloc(e->vm.ncpus + 2, sizeof(*fds));
	size_t n = 0;
	int r;

	if (!fds)
		return ktstr_error_set(err, ENOMEM, WHO ": out of memory", NULL, NULL, "fd inventory");
	fds[n++] = e->vm.vm_fd;
	fds[n++] = e->vm.gic_fd;
	for (uint32_t i = 0; i < e->vm.ncpus; i++)
		fds[n++] = e->vm.vcpu_fd[i];
	r = kvm_confine_prepare(WHO, fds, n, err);
	free(fds);
	return r;
}

/* The pool's prepare, on vCPU thread index before its first KVM_RUN:
 * performance mode, then its own WORKER_VCPU policy. */
static int vcpu_prepare(void *ctx, uint32_t index, char *err, size_t len)
{
	struct a64_engine *e = ctx;

	return kvm_confine_vcpu(e->in->spec, e->vm.ncpus, index, e->vperf, e->confine, err, len);
}

static void vcpu_run(void *ctx, uint32_t index)
{
	struct a64_engine *e = ctx;

	a64_runner_vcpu(&e->runner, index);
}

static int start_vcpus(struct a64_engine *e, struct ktstr_error *err)
{
	static const struct vcpu_pool_ops ops = { .prepare = vcpu_prepare, .run = vcpu_run };
	char why[160];
	int r;

	r = vcpu_pool_init(&e->pool, e->vm.ncpus, &e->vm.lock, &e->cond, &e->stop,
			   A64_KICK_SIGNAL, WHO, &ops, e);
	if (r)
		return ktstr_error_set(err, -r, WHO ": out of memory", NULL, NULL, "vCPU threads");
	r = vcpu_pool_start(&e->pool, why, sizeof(why));
	if (r)
		ktstr_error_set(err, -r, WHO ": cannot start vCPU threads", NULL,
				"raise the thread limit (ulimit -u)", "%s", why);
	return r;
}

/* After the join: whatever the guest wrote after the last tick. */
static void post_mortem(struct a64_engine *e)
{
	pthread_mutex_lock(&e->vm.lock);
	serial_out_drain(e->com_out, e->cap, &e->cond);
	serial_out_report(e->com_out, WHO);
	drain_ring(e);
	if (e->have_ring)
		capture_ring_stats(e->cap, ring_drops(&e->vm.ring), e->ring_crc_errors);
	/* A panic printed just before a reset is the real story. */
	if (capture_saw_panic(e->cap) && e->end->outcome != KTSTR__OUTCOME__OUTCOME_TIMEOUT &&
	    e->end->outcome != KTSTR__OUTCOME__OUTCOME_STOPPED)
		e->end->outcome = KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	pthread_mutex_unlock(&e->vm.lock);
}

int kvm_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end)
{
	struct a64_engine *e = calloc(1, sizeof(*e));
	struct ktstr_error err = { 0 };
	int r;

	memset(end, 0, sizeof(*end));
	vm_monitor_init(&end->monitor);
	end->engine = KTSTR__ENGINE__ENGINE_KVM;
	snprintf(end->engine_detail, sizeof(end->engine_detail), "kvm");
	end->perf.requested = in->spec->performance_mode;
	if (!e) {
		end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
		return ktstr_error_set(&end->error, ENOMEM, WHO ": allocate the engine", NULL,
				       "free host memory", "out of memory");
	}
	e->in = in;
	e->cap = cap;
	e->end = end;
	e->confine = !in->spec->insecure_no_sandbox;
	atomic_init(&e->stop, false);
	a64_vm_init(&e->vm);
	pthread_cond_init(&e->cond, NULL);
	e->runner = (struct a64_runner){ .vm = &e->vm, .stop = &e->stop, .end = &e->vend,
					 .pool = &e->pool, .cond = &e->cond };

	r = setup(e, &err);
	if (!r && in->spec->performance_mode)
		perf_service_apply(in->spec, &end->perf);
	if (!r && e->confine)
		r = confine_prepare(e, &err);
	if (!r)
		r = start_vcpus(e, &err);
	/* Every vCPU thread confined itself (vcpu_prepare): now this one. */
	if (!r && e->confine && !(r = kvm_confine_ctl(WHO, &e->pool, &err)))
		end->sandboxed = true;
	if (r) {
		a64_runner_stop(&e->runner); /* threads at the gate leave */
		vcpu_pool_open_gate(&e->pool);
		vcpu_pool_join(&e->pool);
		end->sandboxed = false; /* the guest never ran */
		end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
		end->error = err;
		end->end_us = ktstr_now_us();
		end->engine_start_us = end->end_us;
		goto out;
	}
	/* Shell mode: COM2 is the terminal (the capture writes it). */
	if (in->stdout_fd >= 0)
		capture_set_com2_mirror(cap, in->stdout_fd);
	end->setup_us = ktstr_now_us() - in->worker_start_us;
	end->engine_start_us = ktstr_now_us();
	vcpu_pool_open_gate(&e->pool); /* the first guest instruction */
	capture_vm_started(cap, KTSTR__ENGINE__ENGINE_KVM, end->engine_detail, end->setup_us, 0);
	watch(e);
	vcpu_pool_join(&e->pool);
	post_mortem(e);
out:
	if (e->vperf)
		perf_fold_vcpus(in->spec, e->vm.ncpus, e->vperf, &end->perf);
	/* A vCPU thread that never left KVM_RUN still uses its fd, its
	 * kvm_run, the pool's slot, the lock and the condition variable:
	 * leave all of it to the process's exit (the worker exits once the
	 * result is sent). */
	for (uint32_t i = 0; e->pool.slot && i < e->pool.n; i++)
		if (e->pool.slot[i].leaked)
			return r;
	a64_vm_close(&e->vm);
	vcpu_pool_free(&e->pool);
	free(e->vperf);
	free(e->vcpu_ns);
	pthread_cond_destroy(&e->cond);
	free(e);
	return r;
}
