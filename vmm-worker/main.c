/* ktstr-vmm-worker: one process per VM. Protocol (proto/worker.proto):
 *
 *   worker -> WorkerReady
 *   orch   -> WorkerRequest.run (RunVm + fds)      within RUNVM_WAIT_MS
 *   worker -> VmStarted, GuestOutput*, RingMessage*, exactly one VmResult
 *   exit 0
 *
 * States: WAIT_RUN (only RunVm or StopVm legal) -> RUNNING (only StopVm
 * legal, see worker_ctl.c) -> DONE. A spec that fails validation still gets
 * a VmResult (OUTCOME_ENGINE_ERROR with a precise Error), so the orchestrator
 * always learns why.
 *
 * Fds: 3 = control socket (SOCK_STREAM socketpair, owned by this process for
 * its whole life), 0/1 = /dev/null, 2 = log. Fds received with RunVm are
 * owned here and closed before exit. At start nothing else may be open
 * (checked, and every fd >= 3 is made close-on-exec so only what an engine
 * hands QEMU explicitly reaches it).
 *
 * Confinement (docs/security.md): after RunVm is validated the host is
 * checked for what the sandbox needs (seccomp filters with KILL_PROCESS and
 * TSYNC, user namespaces); a missing feature refuses the VM with an
 * ENGINE_ERROR naming it, unless VmSpec.insecure_no_sandbox. Everything this
 * file still needs from the filesystem afterwards (/proc/self/status for
 * worker_rss_kb) is opened here before the engine runs; the engine confines
 * the process once its own setup is done, and from then on nothing opens a
 * file, execs or creates a socket. VmResult.sandboxed says which happened. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/frame.h>
#include <ktstr/log.h>
#include <ktstr/ring.h>
#include <ktstr/topology.h>
#include <ktstr/util.h>

#include "capture.h"
#include "engine.h"
#include "memfloor.h"
#include "sandbox.h"
#include "worker_ctl.h"
#include "worker_sandbox.h"

#define CTL_FD 3
#define RUNVM_WAIT_MS 30000
#define MIN_MEMORY_MB 128u
#define MAX_TAIL_BYTES (16u << 20)
#define MAX_OUTPUT_BYTES (32u << 20)

#if defined(__SANITIZE_ADDRESS__)
/* SAN=1 builds: LeakSanitizer's exit-time scan needs ptrace and clone, which
 * the WORKER_CTL policy kills (docs/security.md, "Known limits"), and the
 * worker gets a clean environment from its spawner, so ASAN_OPTIONS cannot
 * reach it. Only this binary opts out; the unit tests link the same code
 * without main.o and keep leak checking. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static volatile int stop_flag;
/* Why the fd inventory at start failed ("" = it passed). Reported with the
 * VmResult, where the orchestrator can see it, not only in the log. */
static char start_fd_err[640];

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct run_fds {
	int kernel, initrd, in, out;
};

static void close_run_fds(struct run_fds *f)
{
	int *all[] = { &f->kernel, &f->initrd, &f->in, &f->out };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (*all[i] >= 0)
			close(*all[i]);
		*all[i] = -1;
	}
}

/* Send a VmResult that only carries an error (no VM ran). */
static int send_error_result(int ctl, Ktstr__Outcome outcome, Ktstr__Engine engine,
			     const char *what, const char *why, const char *hint, int err,
			     uint64_t start_us)
{
	Ktstr__Error e = KTSTR__ERROR__INIT;
	e.what = (char *)what;
	e.where = "ktstr-vmm-worker";
	e.why = (char *)why;
	e.hint = (char *)hint;
	if (err) {
		e.has_errno_value = true;
		e.errno_value = err;
	}
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	r.outcome = outcome;
	r.engine = engine;
	if (outcome == KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR)
		r.error = &e;
	r.has_total_us = true;
	r.total_us = ktstr_now_us() - start_us;
	r.has_sandboxed = true;
	r.sandboxed = false; /* no VM ran, nothing was confined */
	Ktstr__WorkerEvent ev = KTSTR__WORKER_EVENT__INIT;
	ev.ev_case = KTSTR__WORKER_EVENT__EV_RESULT;
	ev.result = &r;
	return frame_send(ctl, &ev.base, NULL, 0);
}

/* Can this worker be confined on this host? Fails closed: 0, or -ENOTSUP /
 * -EBADFD with why naming what is missing. Runs before any engine work, so a
 * refused VM costs nothing. */
static int sandbox_preflight(char *why, size_t len)
{
	if (start_fd_err[0]) {
		snprintf(why, len, "%s", start_fd_err);
		return -EBADFD;
	}
	struct sandbox_host_support hs;
	sandbox_host_probe(&hs);
	if (hs.seccomp_filter && hs.seccomp_kill_process && hs.seccomp_tsync && hs.user_ns)
		return 0;
	if (!hs.missing[0] || (hs.seccomp_kill_process && !hs.seccomp_tsync))
		snprintf(why, len, "this host cannot confine ktstr-vmm-worker: %s%sseccomp TSYNC "
			 "unavailable (need Linux >= 3.17, libseccomp >= 2.2)",
			 hs.missing, hs.missing[0] ? "; " : "");
	else
		snprintf(why, len, "this host cannot confine ktstr-vmm-worker: %s", hs.missing);
	return -ENOTSUP;
}

/* Check everything an engine relies on. Returns 0 or -EINVAL with why. */
static int validate_spec(const Ktstr__VmSpec *s, const struct run_fds *f, char *why, size_t len)
{
	if (!s->topology) {
		snprintf(why, len, "the spec has no topology");
		return -EINVAL;
	}
	struct ktstr_topo t = vm_spec_topo(s);
	char terr[200];
	if (topo_validate(&t, terr, sizeof(terr)) != 0) {
		snprintf(why, len, "invalid topology: %s", terr);
		return -EINVAL;
	}
	if (s->engine != KTSTR__ENGINE__ENGINE_AUTO && s->engine != KTSTR__ENGINE__ENGINE_KVM &&
	    s->engine != KTSTR__ENGINE__ENGINE_QEMU) {
		snprintf(why, len, "unknown engine %d", (int)s->engine);
		return -EINVAL;
	}
	if (engine_arch_check(s, why, len) < 0)
		return -EINVAL;
	if (s->memory_mb < MIN_MEMORY_MB) {
		snprintf(why, len, "memory_mb %u is below the minimum %u", s->memory_mb,
			 MIN_MEMORY_MB);
		return -EINVAL;
	}
	if (s->timeout_ms == 0) {
		snprintf(why, len, "timeout_ms is 0: every VM needs a bound");
		return -EINVAL;
	}
	uint64_t mem = (uint64_t)s->memory_mb << 20;
	if (s->shm_size) {
		if (s->shm_size % 4096 || s->shm_size <= KTSTR_RING_HDR_SIZE + KTSTR_RING_MSG_HDR_SIZE ||
		    s->shm_size > KTSTR_RING_MAX_CAPACITY || (uint64_t)s->shm_size > mem / 2) {
			snprintf(why, len,
				 "shm_size %u must be a multiple of 4096, above the ring headers, "
				 "at most 1 GiB and at most half of guest memory (%llu bytes)",
				 s->shm_size, (unsigned long long)(mem / 2));
			return -EINVAL;
		}
	}
	if (s->console_tail_bytes > MAX_TAIL_BYTES || s->guest_output_max > MAX_OUTPUT_BYTES) {
		snprintf(why, len, "console_tail_bytes (max %u) or guest_output_max (max %u) too large",
			 MAX_TAIL_BYTES, MAX_OUTPUT_BYTES);
		return -EINVAL;
	}
	if (f->kernel < 0) {
		snprintf(why, len, "no FD_KERNEL fd was attached to RunVm");
		return -EINVAL;
	}
	if (s->n_pin_cpus || s->has_service_cpu) {
		char pwhy[256];

		if (perf_check_pins(s->pin_cpus, s->n_pin_cpus, topo_cpus(&t), s->has_service_cpu,
				    s->service_cpu, pwhy, sizeof(pwhy))) {
			snprintf(why, len, "%s", pwhy);
			return -EINVAL;
		}
	}
	if (s->interactive && (f->in < 0 || f->out < 0)) {
		snprintf(why, len, "interactive mode needs FD_STDIN and FD_STDOUT attached");
		return -EINVAL;
	}
	return 0;
}

/* Give the VM at least the memory its kernel needs to boot and unpack the
 * initramfs (memfloor.h); raising it is logged and visible in
 * VmResult.memory_mb. The spec belongs to this process (unpacked RunVm). */
static void raise_to_memory_floor(Ktstr__VmSpec *s, const struct run_fds *f)
{
	uint64_t init_size = 0, packed = s->initrd_suffix.len, unpacked = s->initrd_suffix.len;
	struct stat st;
	uint32_t floor;
	int rc;

	rc = memfloor_kernel_init_size(f->kernel, &init_size);
	if (rc < 0) {
		/* The engine's loader gives the precise error for a bad image. */
		kdbg("worker: memory floor: kernel size unknown (%s)", strerror(-rc));
		return;
	}
	if (f->initrd >= 0 && fstat(f->initrd, &st) == 0) {
		packed += (uint64_t)st.st_size;
		unpacked += s->initrd_uncompressed_size
				    ? s->initrd_uncompressed_size
				    : memfloor_unpacked_estimate(f->initrd, (uint64_t)st.st_size);
	}
	floor = memfloor_mb(init_size, packed, unpacked, s->shm_size);
	if (s->memory_mb >= floor)
		return;
	kinfo("worker: memory_mb raised from %u to %u MiB: the kernel (%llu MiB in memory) and "
	      "the initramfs (%llu MiB, %llu MiB unpacked) need it to boot",
	      s->memory_mb, floor, (unsigned long long)(init_size >> 20),
	      (unsigned long long)(packed >> 20), (unsigned long long)(unpacked >> 20));
	s->memory_mb = floor;
}

/* Assign received fds to roles; every role at most once, counts must match. */
static int map_fds(const Ktstr__RunVm *run, const int *fds, size_t nfds, struct run_fds *f,
		   char *why, size_t len)
{
	if (run->n_fd_roles != nfds) {
		snprintf(why, len, "RunVm names %zu fd roles but %zu fds arrived", run->n_fd_roles,
			 nfds);
		return -EINVAL;
	}
	for (size_t i = 0; i < nfds; i++) {
		int *slot = NULL;
		switch (run->fd_roles[i]) {
		case KTSTR__FD_ROLE__FD_KERNEL: slot = &f->kernel; break;
		case KTSTR__FD_ROLE__FD_INITRD: slot = &f->initrd; break;
		case KTSTR__FD_ROLE__FD_STDIN: slot = &f->in; break;
		case KTSTR__FD_ROLE__FD_STDOUT: slot = &f->out; break;
		default: break;
		}
		if (!slot || *slot >= 0) {
			snprintf(why, len, "fd %zu has an unknown or repeated role %d", i,
				 (int)run->fd_roles[i]);
			return -EINVAL;
		}
		*slot = fds[i];
	}
	return 0;
}

/* VmRSS minus shared-memory pages (guest RAM memfds) from /proc/self/status,
 * through an fd opened before confinement (the confined worker cannot open
 * files; pread at offset 0 re-reads the live figures). 0 when unavailable. */
static uint64_t worker_rss_kb(int status_fd)
{
	char s[8192];
	if (status_fd < 0)
		return 0;
	ssize_t n = pread(status_fd, s, sizeof(s) - 1, 0);
	if (n <= 0)
		return 0;
	s[n] = '\0';
	unsigned long long rss = 0, shmem = 0;
	const char *p = strstr(s, "VmRSS:");
	if (p)
		sscanf(p, "VmRSS: %llu", &rss);
	p = strstr(s, "RssShmem:");
	if (p)
		sscanf(p, "RssShmem: %llu", &shmem);
	return rss > shmem ? rss - shmem : 0;
}

/* The VmResult of a VM that ran (or failed to start): the engine's end
 * state, the capture's streams and counters, the worker's own figures. r
 * points into end, cap and the storage passed in; nothing is copied twice
 * and the frame is packed straight from it. */
struct result_storage {
	Ktstr__Error err;
	Ktstr__PerfModeReport perf;
	char *perf_notes[PERF_NOTES_MAX];
	Ktstr__MonitorReport *monitor;
};

static void result_from_end(struct vm_end *end, const Ktstr__VmSpec *spec,
			    struct vm_capture *cap, uint64_t start_us, int status_fd,
			    struct result_storage *st, Ktstr__VmResult *r)
{
	ktstr__vm_result__init(r);
	r->outcome = end->outcome;
	r->engine = end->engine;
	r->engine_detail = end->engine_detail[0] ? end->engine_detail : NULL;
	if (ktstr_error_is_set(&end->error)) {
		if (!end->error.where[0])
			snprintf(end->error.where, sizeof(end->error.where), "%s",
				 end->engine == KTSTR__ENGINE__ENGINE_KVM
					 ? "ktstr-vmm-worker: KVM engine"
					 : "ktstr-vmm-worker: QEMU engine");
		ktstr_error_to_pb(&end->error, &st->err);
		r->error = &st->err;
	}
	r->has_memory_mb = true;
	r->memory_mb = spec->memory_mb;
	r->has_setup_us = true;
	r->setup_us = end->setup_us;
	r->has_total_us = true;
	r->total_us = ktstr_now_us() - start_us;
	if (end->has_fault) {
		r->has_fault_rip = true;
		r->fault_rip = end->fault_rip;
		r->has_fault_insn = true;
		r->fault_insn.data = end->fault_insn;
		r->fault_insn.len = end->fault_insn_len <= sizeof(end->fault_insn)
					    ? end->fault_insn_len
					    : sizeof(end->fault_insn);
	}
	r->has_kvm_exit_reason = end->kvm_exit_reason != 0;
	r->kvm_exit_reason = end->kvm_exit_reason;
	r->has_kvm_suberror = end->kvm_suberror != 0;
	r->kvm_suberror = end->kvm_suberror;
	capture_fill_result(cap, end->engine_start_us, r);
	r->has_worker_rss_kb = true;
	r->worker_rss_kb = worker_rss_kb(status_fd);
	r->has_worker_cpu_us = true;
	r->worker_cpu_us = ktstr_cpu_time_us();
	/* Both the engine's claim and the process state must agree: a result
	 * never says sandboxed unless the WORKER_CTL policy really loaded. */
	r->has_sandboxed = true;
	r->sandboxed = end->sandboxed && worker_sandboxed();
	if (end->engine == KTSTR__ENGINE__ENGINE_QEMU) {
		r->has_qemu_landlock = true;
		r->qemu_landlock = end->qemu_landlock;
	}
	if (end->perf.requested) {
		perf_fill_result(&end->perf, &st->perf, st->perf_notes);
		r->perf = &st->perf;
	}
	/* Owned by st (freed after the send); NULL with monitor_off set when
	 * the monitor did not run. */
	const char *off = NULL;

	st->monitor = vm_monitor_report(&end->monitor, &off);
	r->monitor = st->monitor;
	r->monitor_off = (char *)off;
}

static int run_vm(int ctl, const Ktstr__VmSpec *spec, const struct run_fds *f, uint64_t start_us,
		  int status_fd)
{
	struct vm_inputs in = { .spec = spec, .kernel_fd = f->kernel, .initrd_fd = f->initrd,
				.stdin_fd = f->in, .stdout_fd = f->out, .ctl_sock = ctl,
				.worker_start_us = start_us, .stop_requested = &stop_flag };
	struct vm_end end;
	struct result_storage st;
	Ktstr__VmResult r;
	Ktstr__WorkerEvent ev = KTSTR__WORKER_EVENT__INIT;
	const ProtobufCEnumValue *oname;
	struct vm_capture *cap = capture_new(spec, ctl);
	int rc;

	memset(&end, 0, sizeof(end));
	if (!cap)
		return send_error_result(ctl, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR, spec->engine,
					 "allocate the capture", "out of memory",
					 "free host memory", ENOMEM, start_us);

	Ktstr__Engine engine = engine_choose_arch(spec->engine, spec->arch);
	kinfo("worker: running %s %s VM%s%s (%u MB, timeout %u ms, /dev/kvm: %s)",
	      engine == KTSTR__ENGINE__ENGINE_KVM ? "KVM" : "QEMU",
	      engine_guest_arch(spec->arch), spec->label ? " " : "",
	      spec->label ? spec->label : "", spec->memory_mb, spec->timeout_ms,
	      kvm_engine_kind());
	if (engine == KTSTR__ENGINE__ENGINE_KVM)
		kvm_engine_run(&in, cap, &end);
	else
		qemu_engine_run(&in, cap, &end);
	end.engine = engine;

	if (end.engine_start_us && !capture_started_sent(cap))
		capture_vm_started(cap, engine, end.engine_detail, end.setup_us, 0);
	if (end.outcome == KTSTR__OUTCOME__OUTCOME_STOPPED && worker_ctl_protocol_error())
		ktstr_error_note(&end.error, "control protocol violation", "ktstr-vmm-worker",
				 "the orchestrator must send exactly one RunVm, then only StopVm",
				 "%s", worker_ctl_stop_reason());
	result_from_end(&end, spec, cap, start_us, status_fd, &st, &r);
	oname = protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, r.outcome);
	kinfo("worker: VM ended: %s (%s)", oname ? oname->name : "?",
	      ktstr_error_is_set(&end.error) ? end.error.what : "no error");
	ev.ev_case = KTSTR__WORKER_EVENT__EV_RESULT;
	ev.result = &r;
	rc = frame_send(ctl, &ev.base, NULL, 0);
	if (st.monitor)
		ktstr__monitor_report__free_unpacked(st.monitor, NULL);
	vm_monitor_free(&end.monitor);
	capture_free(cap);
	return rc;
}

/* Phase 1, before anything is opened: signals, the control socket, and the
 * fds the spawner left open (recorded: the VM is refused unless the spec
 * opts out of the sandbox). 0, or the process exit status. */
static int worker_start(void)
{
	static const int start_fds[] = { 0, 1, 2, CTL_FD };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	char fderr[sizeof(start_fd_err) - 64];
	struct stat st;
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a vanished orchestrator is -EPIPE, not death */
	if (fstat(CTL_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		kerr("worker: fd 3 is not a socket; ktstr-vmm-worker is started by ktstr-orch "
		     "with its control socket as fd 3, not by hand");
		return 2;
	}
	rc = sandbox_fd_inventory_check(start_fds, ARRAY_SIZE(start_fds), fderr, sizeof(fderr));
	if (rc == 0)
		rc = sandbox_fds_cloexec(fderr, sizeof(fderr));
	if (rc < 0) {
		snprintf(start_fd_err, sizeof(start_fd_err), "at worker start: %s", fderr);
		kerr("worker: %s", start_fd_err);
	}
	return 0;
}

/* Phase 2: WorkerReady, then the one request. 0 with *msg owned by the
 * caller, or the process exit status. */
static int worker_handshake(uint64_t start_us, ProtobufCMessage **msg, int *fds, size_t *nfds)
{
	Ktstr__WorkerReady ready = KTSTR__WORKER_READY__INIT;
	Ktstr__WorkerEvent ev = KTSTR__WORKER_EVENT__INIT;
	int rc;

	ready.pid = (uint32_t)getpid();
	ready.kvm_kind = (char *)kvm_engine_kind();
	ev.ev_case = KTSTR__WORKER_EVENT__EV_READY;
	ev.ready = &ready;
	rc = frame_send(CTL_FD, &ev.base, NULL, 0);
	if (rc < 0) {
		kerr("worker: sending WorkerReady failed: %s; the orchestrator is gone",
		     strerror(-rc));
		return 1;
	}
	rc = frame_recv_msg(CTL_FD, &ktstr__worker_request__descriptor, KTSTR_FRAME_CAP_REQUEST,
			    msg, fds, KTSTR_FRAME_MAX_FDS, nfds, RUNVM_WAIT_MS);
	if (rc < 0) {
		kerr("worker: no RunVm from the orchestrator: %s (waited up to %d ms)",
		     rc == -EPIPE ? "control socket closed" : strerror(-rc), RUNVM_WAIT_MS);
		if (rc != -EPIPE)
			send_error_result(CTL_FD, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR,
					  KTSTR__ENGINE__ENGINE_AUTO, "receive RunVm",
					  rc == -ETIMEDOUT ? "no request within 30 s"
							   : "unreadable or undecodable request",
					  "the orchestrator must send RunVm right after WorkerReady",
					  -rc, start_us);
		return 1;
	}
	return 0;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* Phase 3: accept the request or answer why not. 0 when the VM may run
 * (f holds its fds), 1 when an error result was sent (*rc its status). */
static int worker_accept(const Ktstr__WorkerRequest *req, const int *fds, size_t nfds,
			 uint64_t start_us, struct run_fds *f, int *rc)
{
	char why[768];

	if (req->req_case == KTSTR__WORKER_REQUEST__REQ_STOP) {
		close_fds(fds, nfds);
		kinfo("worker: StopVm before RunVm; nothing to run");
		*rc = send_error_result(CTL_FD, KTSTR__OUTCOME__OUTCOME_STOPPED,
					KTSTR__ENGINE__ENGINE_AUTO, NULL, NULL, NULL, 0, start_us);
		return 1;
	}
	if (req->req_case != KTSTR__WORKER_REQUEST__REQ_RUN) {
		close_fds(fds, nfds);
		*rc = send_error_result(CTL_FD, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR,
					KTSTR__ENGINE__ENGINE_AUTO, "receive RunVm",
					"the first request has no known body",
					"send WorkerRequest.run", EPROTO, start_us);
		return 1;
	}
	*rc = map_fds(req->run, fds, nfds, f, why, sizeof(why));
	if (*rc < 0) {
		close_fds(fds, nfds);
		*f = (struct run_fds){ -1, -1, -1, -1 };
	} else {
		*rc = validate_spec(req->run->spec, f, why, sizeof(why));
	}
	if (*rc < 0) {
		kerr("worker: RunVm refused: %s", why);
		*rc = send_error_result(CTL_FD, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR,
					req->run->spec->engine, "validate RunVm", why,
					"fix the VmSpec the orchestrator built", EINVAL, start_us);
		return 1;
	}
	raise_to_memory_floor(req->run->spec, f);
	if (req->run->spec->insecure_no_sandbox) {
		kwarn("worker: VmSpec.insecure_no_sandbox is set: this VM runs with the worker "
		      "unconfined (no namespaces, capabilities kept, no seccomp); its VmResult "
		      "says sandboxed: false");
		return 0;
	}
	*rc = sandbox_preflight(why, sizeof(why));
	if (*rc < 0) {
		kerr("worker: RunVm refused: %s", why);
		*rc = send_error_result(CTL_FD, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR,
					req->run->spec->engine, WORKER_SB_WHAT, why,
					WORKER_SB_HINT, -*rc, start_us);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t start_us = ktstr_now_us();
	ProtobufCMessage *msg = NULL;
	struct run_fds f = { -1, -1, -1, -1 };
	int fds[KTSTR_FRAME_MAX_FDS], rc, status_fd = -1, exit_code;
	size_t nfds = 0;

	(void)argc;
	(void)argv;
	klog_init("ktstr-vmm-worker");
	exit_code = worker_start();
	if (!exit_code)
		exit_code = worker_handshake(start_us, &msg, fds, &nfds);
	if (exit_code)
		return exit_code;
	if (!worker_accept((Ktstr__WorkerRequest *)msg, fds, nfds, start_us, &f, &rc)) {
		const Ktstr__VmSpec *spec = ((Ktstr__WorkerRequest *)msg)->run->spec;

		/* The one file this file reads after confinement, opened now. */
		status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		if (status_fd < 0)
			kwarn("worker: cannot open /proc/self/status (%s); worker_rss_kb will be 0",
			      strerror(errno));
		const int keep[] = { 0, 1, 2, CTL_FD, f.kernel, f.initrd, f.in, f.out, status_fd };
		worker_sandbox_set_main_fds(keep, ARRAY_SIZE(keep));
		rc = run_vm(CTL_FD, spec, &f, start_us, status_fd);
	}
	if (rc < 0)
		kerr("worker: sending the VmResult failed: %s; the orchestrator is gone",
		     strerror(-rc));
	close_run_fds(&f);
	if (status_fd >= 0)
		close(status_fd);
	protobuf_c_message_free_unpacked(msg, NULL);
	return rc < 0 ? 1 : 0;
}
