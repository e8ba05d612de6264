/* The arm64 KVM engine through the whole worker protocol, on any host: the
 * real ktstr-vmm-worker as an aarch64 host links it, with the fake KVM door
 * (tests/arm64/kvm_fake.c in place of a64_sys.c), run under
 * qemu-aarch64-static (natively on an aarch64 host) and driven by the
 * orchestrator's own worker client over its control socket: WorkerReady,
 * RunVm with the kernel and initrd fds, VmStarted, GuestOutput, RingMessage,
 * VmResult, StopVm. Each case hands the fake a script of KVM_RUN exits per
 * vCPU (kvm_fake.h: UART MMIO writes, the device tree's command line echoed
 * on a UART, a ring message, PSCI SYSTEM_OFF / RESET / a crash, or nothing:
 * blocked until kicked) and checks what the worker reports from them. docs/aarch64.md, "The arm64 KVM engine through
 * the worker (fake KVM)", says what this proves and what it cannot.
 *
 * scripts/arm64-kvm-worker-lane builds the worker and runs this with
 * $KTSTR_ARM64_FAKE_KVM_WORKER naming it; unset, the cases skip.
 *
 * Every spec sets insecure_no_sandbox: the worker's seccomp filters and
 * namespaces would confine qemu-user's translator, not an aarch64 process
 * (its syscalls are the host's, numbered as x86_64's), so confinement under
 * qemu-user proves nothing; and the fd inventory at start sees qemu-user's
 * own fds. The arm64 policies are checked by kvm-cases and arm64-host-build. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "arm64-guest/arm64_layout.h"
#include "lib/arm64_guest.h"
#include "lib/vmtest.h"
#include "qemu/qemu.h"
#include "worker_client.h"

#define WORKER_ENV "KTSTR_ARM64_FAKE_KVM_WORKER"
#define MEM_MB 256u
#define SHM_BYTES (1u << 20)
#define IMAGE_LEN (64u << 10)
/* A scripted VM needs no guest time: what a case waits for is qemu-user
 * starting the worker (about a second here). */
#define RUN_TIMEOUT_MS 30000u
#define HANG_TIMEOUT_MS 3000u
/* The worker's start under qemu-user and its teardown, on a loaded 2-CPU
 * host: well past what they take, well inside the fake's 10 s bound on a
 * blocked vCPU (kvm_fake.h). */
#define END_SLACK_MS 9000u
#define EXIT_CODE 42

struct fixture {
	char worker[PATH_MAX], qemu[PATH_MAX];
	char dir[256], script[512], wrapper[512], kernel[512], initrd[512];
};

static void put(const char *path, const void *data, size_t len, mode_t mode)
{
	cr_assert_eq(write_file_create(path, data, len, mode), 0, "write %s", path);
}

/* The worker, qemu-user, a fresh directory with the fake Image, an initrd,
 * the script and the wrapper worker_client execs (it passes the control
 * socket as fd 3 and a clean environment: the wrapper adds the script's
 * name; qemu-user hands both to the aarch64 worker unchanged). */
static void setup(struct fixture *f, const char *script)
{
	const char *w = getenv(WORKER_ENV);
	static uint8_t image[IMAGE_LEN];
	static const uint8_t initrd[4096];
	struct utsname u;
	char text[PATH_MAX * 3];

	if (!w || !*w)
		test_missing("%s is unset: scripts/arm64-kvm-worker-lane builds the aarch64 worker "
			     "with fake KVM and runs these cases with it",
			     WORKER_ENV);
	cr_assert_eq(access(w, X_OK), 0, "%s=%s: %s", WORKER_ENV, w, strerror(errno));
	snprintf(f->worker, sizeof(f->worker), "%s", w);
	cr_assert_eq(uname(&u), 0);
	f->qemu[0] = '\0';
	if (strcmp(u.machine, "aarch64") &&
	    qemu_find_binary("qemu-aarch64-static", f->qemu, sizeof(f->qemu)) < 0)
		test_missing("needs qemu-aarch64-static on PATH (qemu-user-static)");
	cr_assert_eq(vmtest_tmpdir(f->dir, sizeof(f->dir)), 0);
	snprintf(f->kernel, sizeof(f->kernel), "%s/Image", f->dir);
	arm64_fake_image(image, sizeof(image), sizeof(image));
	put(f->kernel, image, sizeof(image), 0644);
	snprintf(f->initrd, sizeof(f->initrd), "%s/initrd", f->dir);
	put(f->initrd, initrd, sizeof(initrd), 0644);
	snprintf(f->script, sizeof(f->script), "%s/script", f->dir);
	put(f->script, script, strlen(script), 0644);
	snprintf(f->wrapper, sizeof(f->wrapper), "%s/worker", f->dir);
	snprintf(text, sizeof(text), "#!/bin/sh\nexport KTSTR_FAKE_KVM_SCRIPT='%s'\nexec %s%s%s'%s'\n",
		 f->script, f->qemu[0] ? "'" : "", f->qemu, f->qemu[0] ? "' " : "", f->worker);
	put(f->wrapper, text, strlen(text), 0755);
}

static void spec_init(Ktstr__VmSpec *spec, Ktstr__Topology *topo, uint32_t nodes, uint32_t llcs,
		      uint32_t cores, uint32_t threads, uint32_t timeout_ms)
{
	ktstr__vm_spec__init(spec);
	ktstr__topology__init(topo);
	topo->numa_nodes = nodes;
	topo->llcs = llcs;
	topo->cores_per_llc = cores;
	topo->threads_per_core = threads;
	spec->has_arch = true;
	spec->arch = KTSTR__ARCH__ARCH_ARM64;
	spec->engine = KTSTR__ENGINE__ENGINE_KVM;
	spec->topology = topo;
	spec->memory_mb = MEM_MB;
	spec->timeout_ms = timeout_ms;
	spec->has_shm_size = true;
	spec->shm_size = SHM_BYTES;
	spec->has_stream_output = true;
	spec->stream_output = true;
	/* See the top of this file: no confinement under qemu-user. */
	spec->has_insecure_no_sandbox = true;
	spec->insecure_no_sandbox = true;
	spec->label = "arm64_kvm_worker";
}

/* The live events. */
struct seen {
	struct strbuf port[3];
	bool started;
	Ktstr__Engine engine;
	unsigned nring;
	uint32_t ring_type;
	int32_t ring_code;
	bool ring_crc_ok;
	const char *stop_on; /* send StopVm once COM2 holds this; NULL = never */
	volatile int stop;
};

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct seen *s = ctx;

	switch (ev->ev_case) {
	case KTSTR__WORKER_EVENT__EV_STARTED:
		s->started = true;
		s->engine = ev->started->engine;
		break;
	case KTSTR__WORKER_EVENT__EV_OUTPUT:
		if (ev->output->port < 1 || ev->output->port > 2)
			break;
		/* sb_append keeps the text NUL-terminated. */
		sb_append(&s->port[ev->output->port], ev->output->data.data, ev->output->data.len);
		if (s->stop_on && ev->output->port == 2 && strstr(s->port[2].buf, s->stop_on))
			s->stop = 1;
		break;
	case KTSTR__WORKER_EVENT__EV_RING:
		s->nring++;
		s->ring_type = ev->ring->type;
		s->ring_crc_ok = ev->ring->crc_ok;
		if (ev->ring->payload.len == 4)
			s->ring_code = (int32_t)((uint32_t)ev->ring->payload.data[0] |
						 (uint32_t)ev->ring->payload.data[1] << 8 |
						 (uint32_t)ev->ring->payload.data[2] << 16 |
						 (uint32_t)ev->ring->payload.data[3] << 24);
		break;
	default:
		break;
	}
}

static void run(struct fixture *f, Ktstr__VmSpec *spec, struct seen *seen,
		struct worker_outcome *out)
{
	int kfd = open(f->kernel, O_RDONLY | O_CLOEXEC), ifd = open(f->initrd, O_RDONLY | O_CLOEXEC);
	struct worker_client_opts o = { .worker_path = f->wrapper, .stderr_fd = -2,
					.on_event = on_event, .ctx = seen, .stop = &seen->stop };
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = ifd, .stdin_fd = -1,
				  .stdout_fd = -1 };

	cr_assert(kfd >= 0 && ifd >= 0, "open %s, %s: %s", f->kernel, f->initrd, strerror(errno));
	cr_assert_eq(worker_run_vm(spec, &fds, &o, out), 0);
	close(kfd);
	close(ifd);
	cr_assert_not_null(out->result);
}

static const char *outcome_name(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);
	return v ? v->name : "?";
}

static const char *why(const struct worker_outcome *out)
{
	if (out->infra_error)
		return out->error.why;
	return out->result->error && out->result->error->why ? out->result->error->why : "";
}

static void done(struct fixture *f, struct seen *seen, struct worker_outcome *out)
{
	sb_free(&seen->port[1]);
	sb_free(&seen->port[2]);
	worker_outcome_free(out);
	vmtest_rm_rf(f->dir);
}

/* The SHM ring's guest address: the top SHM_BYTES of RAM (the last node's). */
static uint64_t shm_gpa(void)
{
	return ARM64_DRAM_BASE + ((uint64_t)MEM_MB << 20) - SHM_BYTES;
}

/* The script of a guest that prints on both UARTs, echoes the command line
 * it was given (the device tree's /chosen/bootargs) on COM1, leaves its exit
 * code in the ring and ends with end ("off", "reset", "crash") on vCPU cpu. */
static void script_of(char *buf, size_t len, unsigned cpu, const char *end)
{
	snprintf(buf, len,
		 "# COM2 (UART1, the output port), COM1 (UART0, the console)\n"
		 "%u text 0x%llx KTSTR_FAKE_OUT vcpu%u\\n\n"
		 "%u text 0x%llx console: vcpu%u booted\\n\n"
		 "%u bootargs 0x%llx\n"
		 "%u ring 0x%llx 0x%x EXIT %02x000000\n"
		 "%u %s\n",
		 cpu, (unsigned long long)ARM64_UART1_BASE, cpu, cpu,
		 (unsigned long long)ARM64_UART0_BASE, cpu, cpu, (unsigned long long)ARM64_UART0_BASE,
		 cpu, (unsigned long long)shm_gpa(), SHM_BYTES, EXIT_CODE, cpu, end);
}

/* Passes today (the stub engine refuses) and with the real engine: the
 * aarch64 worker runs under qemu-user and speaks the whole protocol. */
Test(arm64_kvm_worker, protocol_under_qemu_user, .timeout = 90)
{
	struct fixture f = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	char script[1024];

	script_of(script, sizeof(script), 0, "off");
	setup(&f, script);
	spec_init(&spec, &topo, 1, 1, 2, 1, RUN_TIMEOUT_MS);
	run(&f, &spec, &seen, &out);
	cr_log_info("arm64 worker under qemu-user: pid %u, outcome %s: %s", out.worker_pid,
		    outcome_name(out.result->outcome), why(&out));
	/* WorkerReady came (its pid), RunVm was taken, one VmResult came back
	 * (no synthesized infrastructure error) and the worker exited 0. */
	cr_assert(!out.infra_error, "the worker failed the protocol: %s", why(&out));
	cr_assert_neq(out.worker_pid, 0u, "no WorkerReady");
	cr_assert(out.reaped && WIFEXITED(out.worker_status) && WEXITSTATUS(out.worker_status) == 0,
		  "the worker exits 0 after its result (status 0x%x)", out.worker_status);
	done(&f, &seen, &out);
}

/* What a scripted 1,1,2,1 guest shows: VmStarted (engine KVM), its UART1
 * bytes as port 2, its UART0 bytes as port 1, its ring EXIT message, PSCI
 * SYSTEM_OFF as OUTCOME_POWER_OFF. */
static void powers_off(uint32_t nodes, uint32_t llcs, uint32_t cores, unsigned cpu)
{
	struct fixture f = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	const Ktstr__VmResult *r;
	char script[1024], want_out[64], want_con[64], want_line[128];

	script_of(script, sizeof(script), cpu, "off");
	setup(&f, script);
	spec_init(&spec, &topo, nodes, llcs, cores, 1, RUN_TIMEOUT_MS);
	run(&f, &spec, &seen, &out);
	r = out.result;
	cr_assert(!out.infra_error, "%s", why(&out));
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF, "outcome %s: %s",
		     outcome_name(r->outcome), why(&out));
	cr_assert(seen.started && seen.engine == KTSTR__ENGINE__ENGINE_KVM,
		  "VmStarted: %s, engine %d", seen.started ? "came" : "missing", seen.engine);
	cr_assert_eq(r->engine, KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_str_eq(out.engine_detail, "kvm");
	snprintf(want_out, sizeof(want_out), "KTSTR_FAKE_OUT vcpu%u\n", cpu);
	snprintf(want_con, sizeof(want_con), "console: vcpu%u booted\n", cpu);
	/* UART1 is COM2, the output port; UART0 is COM1, the console. */
	cr_assert(seen.port[2].buf && strstr(seen.port[2].buf, want_out),
		  "no '%s' in GuestOutput port 2: '%s'", want_out,
		  seen.port[2].buf ? seen.port[2].buf : "");
	cr_assert(seen.port[1].buf && strstr(seen.port[1].buf, want_con),
		  "no '%s' in GuestOutput port 1: '%s'", want_con,
		  seen.port[1].buf ? seen.port[1].buf : "");
	cr_assert(!strstr(seen.port[1].buf, "KTSTR_FAKE_OUT"), "COM2 bytes on port 1");
	cr_assert(!strstr(seen.port[2].buf, "console:"), "COM1 bytes on port 2");
	cr_assert(r->guest_output.len >= strlen(want_out) &&
			  memmem(r->guest_output.data, r->guest_output.len, want_out, strlen(want_out)),
		  "VmResult.guest_output lacks '%s'", want_out);
	cr_assert(memmem(r->console_tail.data, r->console_tail.len, want_con, strlen(want_con)),
		  "VmResult.console_tail lacks '%s'", want_con);
	/* The command line the kernel would read from the tree: the two
	 * ns16550a as console (ttyS0 = COM1) and output port (ttyS1 = COM2),
	 * the ring where the worker put it. */
	snprintf(want_line, sizeof(want_line), KTSTR_CMDLINE_SHM_BASE "=0x%llx " KTSTR_CMDLINE_SHM_SIZE
		 "=0x%x", (unsigned long long)shm_gpa(), SHM_BYTES);
	cr_assert(strstr(seen.port[1].buf, "console=ttyS0 ") &&
			  strstr(seen.port[1].buf, KTSTR_CMDLINE_OUTPUT_PORT "=ttyS1 ") &&
			  strstr(seen.port[1].buf, want_line),
		  "the tree's bootargs lack console=ttyS0, " KTSTR_CMDLINE_OUTPUT_PORT
		  "=ttyS1 or '%s': port 1 '%s'",
		  want_line, seen.port[1].buf);
	/* The ring at the top of RAM: the message the fake guest wrote there. */
	cr_assert(seen.nring >= 1 && seen.ring_type == KTSTR_MSG_EXIT && seen.ring_crc_ok &&
			  seen.ring_code == EXIT_CODE,
		  "RingMessage: %u messages, last type 0x%x crc %s code %d", seen.nring,
		  seen.ring_type, seen.ring_crc_ok ? "ok" : "bad", seen.ring_code);
	cr_assert(r->has_guest_exit_code && r->guest_exit_code == EXIT_CODE,
		  "guest_exit_code %d (has %d)", r->guest_exit_code, r->has_guest_exit_code);
	cr_assert(out.reaped && WIFEXITED(out.worker_status) && WEXITSTATUS(out.worker_status) == 0,
		  "the worker exits 0 after its result");
	done(&f, &seen, &out);
}

Test(arm64_kvm_worker, powers_off_1121, .timeout = 90)
{
	powers_off(1, 1, 2, 0);
}

/* 8 vCPUs on 2 nodes: the last vCPU's exits reach the worker (it exists and
 * runs on its own thread) and the ring sits in the second node's RAM. */
Test(arm64_kvm_worker, powers_off_2221_from_vcpu7, .timeout = 90)
{
	powers_off(2, 2, 2, 7);
}

/* How else a guest ends: PSCI SYSTEM_RESET, a crash event. */
static void ends_as(const char *end, Ktstr__Outcome want)
{
	struct fixture f = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	char script[1024];

	script_of(script, sizeof(script), 0, end);
	setup(&f, script);
	spec_init(&spec, &topo, 1, 1, 2, 1, RUN_TIMEOUT_MS);
	run(&f, &spec, &seen, &out);
	cr_assert(!out.infra_error, "%s", why(&out));
	cr_assert_eq(out.result->outcome, want, "outcome %s, expected %s: %s",
		     outcome_name(out.result->outcome), outcome_name(want), why(&out));
	cr_assert(seen.port[2].buf && strstr(seen.port[2].buf, "KTSTR_FAKE_OUT vcpu0\n"),
		  "port 2: '%s'", seen.port[2].buf ? seen.port[2].buf : "");
	done(&f, &seen, &out);
}

Test(arm64_kvm_worker, psci_reset_is_reset, .timeout = 90)
{
	ends_as("reset", KTSTR__OUTCOME__OUTCOME_RESET);
}

Test(arm64_kvm_worker, crash_event_is_guest_panic, .timeout = 90)
{
	ends_as("crash", KTSTR__OUTCOME__OUTCOME_GUEST_PANIC);
}

/* A guest that never powers off: every vCPU blocked in KVM_RUN once its
 * output is out. The watchdog ends it as OUTCOME_TIMEOUT (kicking the
 * vCPUs out of KVM_RUN), within its bound. */
Test(arm64_kvm_worker, never_powers_off_times_out, .timeout = 90)
{
	struct fixture f = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	char script[256];
	uint64_t t0, ms;

	snprintf(script, sizeof(script), "0 text 0x%llx waiting\\n\n",
		 (unsigned long long)ARM64_UART1_BASE);
	setup(&f, script);
	spec_init(&spec, &topo, 1, 1, 2, 1, HANG_TIMEOUT_MS);
	t0 = ktstr_now_ms();
	run(&f, &spec, &seen, &out);
	ms = ktstr_now_ms() - t0;
	cr_log_info("timeout case: outcome %s after %llu ms", outcome_name(out.result->outcome),
		    (unsigned long long)ms);
	cr_assert(!out.infra_error, "%s", why(&out));
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_TIMEOUT, "outcome %s: %s",
		     outcome_name(out.result->outcome), why(&out));
	cr_assert_geq(ms, HANG_TIMEOUT_MS, "ended after %llu ms, before its timeout",
		      (unsigned long long)ms);
	cr_assert_lt(ms, HANG_TIMEOUT_MS + END_SLACK_MS, "ended after %llu ms",
		     (unsigned long long)ms);
	cr_assert(seen.port[2].buf && strstr(seen.port[2].buf, "waiting\n"), "port 2: '%s'",
		  seen.port[2].buf ? seen.port[2].buf : "");
	done(&f, &seen, &out);
}

/* StopVm while the vCPUs sit in KVM_RUN: OUTCOME_STOPPED, at once, long
 * before the VM's own timeout. */
Test(arm64_kvm_worker, stop_vm_is_stopped, .timeout = 90)
{
	struct fixture f = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { .stop_on = "ready-to-stop\n" };
	struct worker_outcome out;
	char script[256];
	uint64_t t0, ms;

	snprintf(script, sizeof(script), "0 text 0x%llx ready-to-stop\\n\n",
		 (unsigned long long)ARM64_UART1_BASE);
	setup(&f, script);
	spec_init(&spec, &topo, 1, 1, 2, 1, RUN_TIMEOUT_MS);
	t0 = ktstr_now_ms();
	run(&f, &spec, &seen, &out);
	ms = ktstr_now_ms() - t0;
	cr_log_info("StopVm case: outcome %s after %llu ms", outcome_name(out.result->outcome),
		    (unsigned long long)ms);
	cr_assert(!out.infra_error, "%s", why(&out));
	cr_assert(seen.stop, "the output that triggers StopVm never came (outcome %s: %s), port 2 '%s'",
		  outcome_name(out.result->outcome), why(&out), seen.port[2].buf ? seen.port[2].buf : "");
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_STOPPED, "outcome %s: %s",
		     outcome_name(out.result->outcome), why(&out));
	cr_assert_lt(ms, END_SLACK_MS, "ended after %llu ms", (unsigned long long)ms);
	done(&f, &seen, &out);
}

/* The host-side monitor on the arm64 KVM engine (docs/monitor.md, "arm64
 * guests"): with an arm64 kernel layout whose symbols lie in the fake Image
 * (its "ARM\x64" magic as the banner, zeros elsewhere: memstart_addr 0, one
 * vCPU; __per_cpu_offset[0] = 0x1000 when per_cpu_set, as a kernel past
 * setup_per_cpu_areas has it, so CPU 0's rq is the Image's zeros 0x1000
 * after the template: cpu 0), the monitor the engine starts reads the Image
 * where a64_boot put it, becomes ready and samples; with a banner the Image
 * does not hold, or with the offset still 0 (the template itself: not set
 * up yet), it never does. Either way the VmResult carries its report. */
static void monitor_case(const char *banner, bool per_cpu_set, bool ready)
{
	const uint64_t kimage = 0xffff800080000000ull;
	struct fixture f = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	Ktstr__GuestKernelLayout l = KTSTR__GUEST_KERNEL_LAYOUT__INIT;
	Ktstr__KernelField fnr = KTSTR__KERNEL_FIELD__INIT, fclock = KTSTR__KERNEL_FIELD__INIT,
			   fcpu = KTSTR__KERNEL_FIELD__INIT;
	struct seen seen = { 0 };
	struct worker_outcome out;
	const Ktstr__MonitorReport *r;
	char script[256];

	snprintf(script, sizeof(script), "0 text 0x%llx waiting\\n\n",
		 (unsigned long long)ARM64_UART1_BASE);
	setup(&f, script);
	if (per_cpu_set) {
		static const uint64_t off = 0x1000;
		int fd = open(f.kernel, O_WRONLY | O_CLOEXEC);

		cr_assert_geq(fd, 0, "%s", f.kernel);
		cr_assert_eq(pwrite(fd, &off, sizeof(off), 0x9000), (ssize_t)sizeof(off));
		close(fd);
	}
	spec_init(&spec, &topo, 1, 1, 1, 1, HANG_TIMEOUT_MS);
	l.has_arch = l.has_image_vaddr = l.has_image_size = l.has_va_bits = 1;
	l.has_memstart_addr = l.has_linux_banner = l.has_banner = l.has_per_cpu_offset = 1;
	l.has_runqueues = l.has_rq_size = 1;
	l.arch = KTSTR__ARCH__ARCH_ARM64;
	l.image_vaddr = kimage;
	l.image_size = IMAGE_LEN;
	l.va_bits = 48;
	l.memstart_addr = kimage + 0x8000;
	l.linux_banner = kimage + 56;
	l.banner.data = (uint8_t *)banner;
	l.banner.len = 4;
	l.per_cpu_offset = kimage + 0x9000;
	l.runqueues = kimage + 0xa000;
	l.rq_size = 64;
	fnr.offset = 0, fnr.size = 4;
	fclock.offset = 8, fclock.size = 8;
	fcpu.offset = 16, fcpu.size = 4;
	l.rq_nr_running = &fnr;
	l.rq_clock = &fclock;
	l.rq_cpu = &fcpu;
	spec.kernel_layout = &l;
	run(&f, &spec, &seen, &out);
	cr_assert(!out.infra_error, "%s", why(&out));
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_TIMEOUT, "outcome %s: %s",
		     outcome_name(out.result->outcome), why(&out));
	r = out.result->monitor;
	cr_assert_not_null(r, "no monitor report (off: %s)",
			   out.result->monitor_off ? out.result->monitor_off : "-");
	cr_log_info("arm64 monitor (banner %s): %s, %llu samples", ready ? "held" : "not held",
		    r->summary, (unsigned long long)r->samples);
	if (ready) {
		cr_assert(r->has_ready_at_ns, "never ready: %s", r->summary);
		cr_assert_eq(r->nr_cpus, 1);
		cr_assert_gt(r->samples, 0);
	} else {
		cr_assert(!r->has_ready_at_ns, "ready: %s", r->summary);
		cr_assert_eq(r->samples, 0);
		if (!per_cpu_set)
			cr_assert(strstr(r->summary, "cpu0's __per_cpu_offset is 0"), "%s", r->summary);
	}
	done(&f, &seen, &out);
}

Test(arm64_kvm_worker, monitor_reads_the_loaded_image, .timeout = 90)
{
	monitor_case("ARM\x64", true, true);
}

Test(arm64_kvm_worker, monitor_with_a_foreign_banner_never_ready, .timeout = 90)
{
	monitor_case("ARM\x65", true, false);
}

Test(arm64_kvm_worker, monitor_not_ready_before_the_per_cpu_areas, .timeout = 90)
{
	monitor_case("ARM\x64", false, false);
}
