/* The QEMU engine: runs qemu-system-x86_64 as a child in its own process
 * group and turns what it sees into a capture and a struct vm_end.
 *
 * Ownership: this file owns the worker's ends of the QMP/COM1/COM2 sockets,
 * the log and stderr pipes, the pidfd, guest RAM (struct qemu_mem) and the
 * initrd memfd; all are closed before qemu_engine_run() returns. The child
 * ends are closed right after the spawn. The kernel fd and interactive fds
 * belong to main.c.
 *
 * Every wait is bounded: the VM by spec.timeout_ms, a panicked guest by
 * PANIC_GRACE_MS, a paused QEMU by STOP_GRACE_MS, the reap by REAP_MS, and
 * reading what QEMU left in its sockets by DRAIN_MS. At any bound the whole
 * process group gets SIGKILL.
 *
 * Confinement (docs/security.md, "QEMU engine"): all setup that opens,
 * creates or execs happens first (memfds, initrd, socketpairs and pipes,
 * namespaces, the spawn, the pidfd). QEMU starts paused (-S); the worker
 * then closes what it no longer needs, loads the WORKER_CTL policy with
 * TSYNC (QEMU's pid as the one child it may signal and reap), and only then
 * lets the guest run with QMP "cont". So no guest instruction executes and
 * no guest byte is read before the worker is confined, and if confinement
 * fails the guest never runs. From then on the engine only reads/writes
 * the fds it holds, polls, signals and reaps QEMU: no open, exec, socket,
 * and no pidfd_open (reap() waits on the pidfd opened before). Worker fds
 * while the guest runs, besides main.c's (0-2, control socket, kernel,
 * initrd, stdin/stdout, /proc/self/status): the QMP, COM1 and COM2
 * socketpair ends, QEMU's log and stderr pipes, and QEMU's pidfd. The guest
 * RAM memfds are closed after the spawn (the SHM ring mapping stays). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/hostkvm.h>
#include <ktstr/log.h>
#include <ktstr/memfd.h>
#include <ktstr/ring.h>
#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "capture.h"
#include "engine.h"
#include "qemu.h"
#include "sandbox.h"
#include "worker_sandbox.h"

#define TICK_MS 100		/* ring drain cadence (facts 2.9: host drains every 100 ms) */
#define PANIC_GRACE_MS 5000	/* panic=-1 resets at once; this bounds a stuck one */
#define STOP_GRACE_MS 2000	/* a paused QEMU that does not exit on its own */
#define REAP_MS 5000
#define DRAIN_MS 2000
#define ERR_TAIL 2048
#define QEMU_SPAWN_MAX_NODES 10u

enum { Q_COM1, Q_COM2, Q_QMP, Q_LOG, Q_ERR, Q_PID, Q_CTL, Q_STDIN, Q_N };

struct qvm {
	const struct vm_inputs *in;
	struct vm_capture *cap;
	struct vm_end *end;
	int fd[Q_N];		/* worker-side fds, -1 when closed */
	pid_t pid;
	struct ktstr_ring ring;
	bool ring_ok;
	struct qemu_seen seen;
	char qmp_line[4096];
	size_t qmp_len;
	uint64_t live_asked_us;	/* liveness probe sent (0 = not yet) */
	char live_reply[32];	/* its answer, "" until it comes */
	char log_carry[32];	/* end of the previous log chunk, for split markers */
	size_t log_carry_len;
	char err_tail[ERR_TAIL];
	size_t err_len;
	uint64_t stop_event_us;
};

/* Bounded copy; truncation is fine for report text. */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void set_error(struct vm_end *end, int err, const char *what, const char *why,
		      const char *hint)
{
	end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	end->error_errno = err < 0 ? -err : err;
	copy_text(end->error_what, sizeof(end->error_what), what);
	copy_text(end->error_why, sizeof(end->error_why), why);
	copy_text(end->error_hint, sizeof(end->error_hint), hint);
}

/* ktstr_spawn's child hook: enforce the Landlock ruleset in QEMU's process
 * before exec (async-signal-safe: a prctl and a syscall). */
static int qemu_landlock_hook(void *arg)
{
	return sandbox_landlock_restrict(*(int *)arg);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int drain_cb(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len, bool crc_ok)
{
	struct qvm *q = ctx;
	return capture_ring(q->cap, type, payload, len, crc_ok, q->pid > 0);
}

static void ring_drain_now(struct qvm *q, bool live)
{
	if (!q->ring_ok)
		return;
	pid_t saved = q->pid;
	if (!live)
		q->pid = 0; /* drain_cb marks messages post-mortem */
	int rc = ring_drain(&q->ring, drain_cb, q, true);
	q->pid = saved;
	if (rc == -EPROTO) {
		kwarn("qemu: the guest corrupted the SHM ring header (pointers out of range); "
		      "ring messages after this point are lost");
		q->ring_ok = false;
	}
	capture_ring_stats(q->cap, ring_drops(&q->ring), 0);
}

static void on_qmp_line(struct qvm *q, const char *line)
{
	struct qmp_event ev;
	if (q->live_asked_us && !q->live_reply[0] &&
	    qmp_parse_status_reply(line, q->live_reply, sizeof(q->live_reply)))
		return;
	if (!qmp_parse_event(line, &ev)) {
		/* Our only commands are qmp_capabilities and cont: an error reply
		 * means the guest may never start (the timeout still ends it). */
		if (strstr(line, "\"error\""))
			kwarn("qemu: QMP command failed: %.300s", line);
		return;
	}
	kdbg("qemu: QMP event %s %s", ev.event, ev.reason);
	if (!strcmp(ev.event, "SHUTDOWN")) {
		q->seen.shutdown_event = true;
		snprintf(q->seen.shutdown_reason, sizeof(q->seen.shutdown_reason), "%s", ev.reason);
	} else if (!strcmp(ev.event, "GUEST_PANICKED")) {
		q->seen.panic = true;
	} else if (!strcmp(ev.event, "STOP") && !q->seen.shutdown_event && !q->stop_event_us) {
		q->stop_event_us = ktstr_now_us();
	} else if (!strcmp(ev.event, "RESUME")) {
		q->stop_event_us = 0;
	}
}

/* Read what is available on one worker-side fd; returns false at EOF/error
 * (the fd is then closed). */
static bool pump(struct qvm *q, int idx)
{
	uint8_t buf[16384];
	ssize_t n = read(q->fd[idx], buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		close_fd(&q->fd[idx]);
		return false;
	}
	size_t len = (size_t)n;
	switch (idx) {
	case Q_COM1:
		capture_com1(q->cap, buf, len);
		if (capture_saw_panic(q->cap))
			q->seen.panic = true;
		break;
	case Q_COM2:
		capture_com2(q->cap, buf, len);
		break;
	case Q_QMP:
		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '\n') {
				q->qmp_line[q->qmp_len] = '\0';
				on_qmp_line(q, q->qmp_line);
				q->qmp_len = 0;
			} else if (q->qmp_len < sizeof(q->qmp_line) - 1) {
				q->qmp_line[q->qmp_len++] = (char)buf[i];
			}
		}
		break;
	case Q_LOG: {
		/* Look for "Triple fault" across chunk boundaries: keep the last
		 * bytes of the previous chunk in front of this one. */
		char scan[sizeof(q->log_carry) + sizeof(buf) + 1];
		memcpy(scan, q->log_carry, q->log_carry_len);
		memcpy(scan + q->log_carry_len, buf, len);
		size_t sl = q->log_carry_len + len;
		for (size_t i = 0; i < sl; i++)
			if (scan[i] == '\0')
				scan[i] = ' ';
		scan[sl] = '\0';
		if (strstr(scan, "Triple fault"))
			q->seen.triple_fault = true;
		size_t keep = sl < 16 ? sl : 16;
		memcpy(q->log_carry, scan + sl - keep, keep);
		q->log_carry_len = keep;
		break;
	}
	case Q_ERR: {
		/* Keep the last ERR_TAIL bytes of QEMU's stderr for the error. */
		if (len >= ERR_TAIL) {
			memcpy(q->err_tail, buf + len - ERR_TAIL, ERR_TAIL);
			q->err_len = ERR_TAIL;
		} else {
			if (q->err_len + len > ERR_TAIL) {
				size_t drop = q->err_len + len - ERR_TAIL;
				memmove(q->err_tail, q->err_tail + drop, q->err_len - drop);
				q->err_len -= drop;
			}
			memcpy(q->err_tail + q->err_len, buf, len);
			q->err_len += len;
		}
		kdbg("qemu stderr: %.*s", (int)len, (const char *)buf);
		break;
	}
	case Q_STDIN:
		/* Interactive: terminal input goes to the guest's COM2. */
		if (q->fd[Q_COM2] >= 0 && write_full(q->fd[Q_COM2], buf, len) < 0)
			kwarn("qemu: forwarding terminal input to guest COM2 failed: %s",
			      strerror(errno));
		break;
	default:
		break;
	}
	return true;
}

static void kill_group(struct qvm *q)
{
	if (q->pid > 0) {
		/* The group: QEMU may not spawn (-sandbox spawn=deny), but a
		 * helper it started before the filter must not outlive it. */
		if (kill(-q->pid, SIGKILL) != 0)
			kill(q->pid, SIGKILL);
	}
}

/* Wait for QEMU with a bound, on the pidfd opened before confinement (or
 * 10 ms naps without one). Not ktstr_wait_timeout(): it opens a new pidfd,
 * which the confined worker may not. Returns 0 with the wait status,
 * -ETIMEDOUT, or -errno. */
static int wait_qemu(struct qvm *q, int *status, int timeout_ms)
{
	uint64_t deadline = ktstr_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		pid_t r = waitpid(q->pid, status, WNOHANG);
		if (r == q->pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		uint64_t now = ktstr_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (q->fd[Q_PID] >= 0) {
			struct pollfd p = { .fd = q->fd[Q_PID], .events = POLLIN };
			poll(&p, 1, (int)(deadline - now));
		} else {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

static void reap(struct qvm *q)
{
	if (q->pid <= 0)
		return;
	int status = 0;
	int rc = wait_qemu(q, &status, REAP_MS);
	if (rc == -ETIMEDOUT) {
		kill_group(q);
		rc = wait_qemu(q, &status, REAP_MS);
	}
	if (rc == 0 && !q->seen.exited) {
		q->seen.exit_status = status;
	}
	if (rc < 0)
		kerr("qemu: could not reap QEMU pid %d: %s (it got SIGKILL)", (int)q->pid,
		     strerror(-rc));
	q->pid = 0;
}

/* After QEMU is gone: read what it left in the sockets and pipes until EOF. */
static void drain_rest(struct qvm *q)
{
	uint64_t until = ktstr_now_ms() + DRAIN_MS;
	for (;;) {
		struct pollfd pfd[Q_N];
		int map[Q_N], n = 0;
		for (int i = Q_COM1; i <= Q_ERR; i++)
			if (q->fd[i] >= 0) {
				pfd[n] = (struct pollfd){ .fd = q->fd[i], .events = POLLIN };
				map[n++] = i;
			}
		uint64_t now = ktstr_now_ms();
		if (!n || now >= until)
			break;
		int r = poll(pfd, (nfds_t)n, (int)(until - now));
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++)
			if (pfd[i].revents)
				pump(q, map[i]);
	}
}

static int setup_fds(int pairs[3][2], int logp[2], int errp[2])
{
	for (int i = 0; i < 3; i++)
		pairs[i][0] = pairs[i][1] = -1;
	logp[0] = logp[1] = errp[0] = errp[1] = -1;
	for (int i = 0; i < 3; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[i]) != 0)
			return -errno;
	if (pipe2(logp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
		return -errno;
	return 0;
}

int qemu_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end)
{
	const Ktstr__VmSpec *spec = in->spec;
	const Ktstr__Topology *t = spec->topology;
	struct qvm q = { .in = in, .cap = cap, .end = end, .pid = 0 };
	for (int i = 0; i < Q_N; i++)
		q.fd[i] = -1;
	struct qemu_mem mem;
	memset(&mem, 0, sizeof(mem));
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++)
		mem.fd[i] = -1;
	int initrd_fd = -1, kernel_copy = -1, llfd = -1;
	int pairs[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int logp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct strv argv = { 0 };
	char why[512];
	int rc;

	end->engine = KTSTR__ENGINE__ENGINE_QEMU;
	end->outcome = KTSTR__OUTCOME__OUTCOME_UNKNOWN;
	/* Performance mode is a KVM-engine feature (docs/vmm-kvm.md): say so in
	 * the result instead of silently running an ordinary VM. */
	if (spec->performance_mode) {
		end->perf.requested = true;
		perf_note(&end->perf, true,
			  "QEMU engine: performance mode is not applied (no vCPU pinning, hugepages, "
			  "mbind, SCHED_FIFO, exit suppression or KVM_HINTS_REALTIME); use --engine kvm "
			  "on a hardware-KVM host for low-noise measurements");
	}

	char qemu_path[4096];
	rc = qemu_find_binary(spec->qemu_binary, qemu_path, sizeof(qemu_path));
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s not found or not executable (%s)",
			 spec->qemu_binary ? spec->qemu_binary : "qemu-system-x86_64 on PATH",
			 strerror(-rc));
		set_error(end, rc, "locate the QEMU binary", why,
			  "install qemu-system-x86 or set the spec's qemu_binary to its path");
		return rc;
	}
	bool use_kvm = false;
	if (spec->qemu_allow_kvm) {
		const char *k = kvm_engine_kind();
		use_kvm = ktstr_kvm_is_hardware(k);
		if (!use_kvm)
			kinfo("qemu: KVM acceleration allowed but /dev/kvm is %s; using TCG", k);
	}
	snprintf(end->engine_detail, sizeof(end->engine_detail), "%s",
		 use_kvm ? "qemu-kvm" : "qemu-tcg");

	uint64_t mem_bytes = (uint64_t)spec->memory_mb << 20;
	if (mem_bytes > GUEST_MMIO_GAP_START) {
		rc = -EINVAL;
		set_error(end, rc, "lay out guest RAM for QEMU",
			  "the QEMU engine keeps all guest RAM below the 3 GiB PCI hole",
			  "use memory_mb <= 3072 with the QEMU engine, or the KVM engine");
		return rc;
	}
	uint32_t nodes = t->numa_nodes;
	uint64_t node_mb[QEMU_MAX_NODES];
	/* ktstr_spawn passes at most 16 fds: 6 fixed ones + one memfd per node. */
	if (nodes == 0 || nodes > QEMU_SPAWN_MAX_NODES) {
		rc = -EINVAL;
		set_error(end, rc, "lay out guest RAM for QEMU",
			  "numa_nodes out of range for the QEMU engine (1..10: one memfd per node)",
			  "use at most 10 NUMA nodes with the QEMU engine");
		return rc;
	}
	qemu_split_memory(spec->memory_mb, nodes, node_mb);
	rc = qemu_mem_create(&mem, nodes, node_mb);
	if (rc < 0) {
		set_error(end, rc, "create guest RAM memfds", strerror(-rc),
			  "check memory limits (ulimit, cgroup memory.max) and free memory");
		goto out;
	}
	uint64_t shm_base = 0;
	if (spec->shm_size) {
		shm_base = guest_shm_base(mem_bytes - GUEST_QEMU_FW_RESERVE, spec->shm_size);
		rc = shm_base ? qemu_mem_map_shm(&mem, shm_base, spec->shm_size) : -ERANGE;
		if (rc == 0)
			rc = ring_format(mem.shm, spec->shm_size);
		if (rc == 0)
			rc = ring_attach(&q.ring, mem.shm, spec->shm_size);
		if (rc < 0) {
			snprintf(why, sizeof(why),
				 "shm_size 0x%x at 0x%llx in %u MB over %u node(s): %s",
				 spec->shm_size, (unsigned long long)shm_base, spec->memory_mb,
				 nodes, strerror(-rc));
			set_error(end, rc, "map the SHM ring region", why,
				  "the ring must fit in the last NUMA node's memory: raise "
				  "memory_mb or lower shm_size");
			goto out;
		}
		q.ring_ok = true;
	}

	rc = qemu_initrd_build(in->initrd_fd, spec->has_initrd_suffix ? spec->initrd_suffix.data : NULL,
			       spec->has_initrd_suffix ? spec->initrd_suffix.len : 0, &initrd_fd);
	if (rc < 0) {
		set_error(end, rc, "assemble the initrd (base + suffix) in a memfd", strerror(-rc),
			  "check free memory; the base initramfs fd must be readable");
		goto out;
	}

	/* QEMU opens its kernel by /proc/self/fd path; under Landlock only a
	 * file that is not reachable by path (a memfd) opens there. The
	 * orchestrator hands a sealed memfd already; anything else is copied. */
	if (fcntl(in->kernel_fd, F_GET_SEALS) < 0) {
		rc = memfd_sealed_copy("ktstr-kernel", in->kernel_fd, KTSTR_KERNEL_IMAGE_MAX);
		if (rc < 0) {
			set_error(end, rc, "copy the kernel into a memfd for QEMU", strerror(-rc),
				  "check free memory and that the kernel file is a regular file");
			goto out;
		}
		kernel_copy = rc;
	}

	char cmdline[QEMU_CMDLINE_MAX];
	rc = guest_cmdline_build(spec, shm_base, spec->shm_size != 0, NULL, cmdline,
				 sizeof(cmdline));
	if (rc < 0) {
		set_error(end, rc, "build the guest kernel command line",
			  rc == -ENOSPC ? "longer than the kernel's 2048 bytes"
					: "cmdline_extra has control characters",
			  "shorten or fix cmdline_extra");
		goto out;
	}

	rc = setup_fds(pairs, logp, errp);
	if (rc < 0) {
		set_error(end, rc, "create sockets/pipes for QEMU", strerror(-rc),
			  "check the open file limit (ulimit -n)");
		goto out;
	}

	/* Fds QEMU gets, in order: they become 3, 4, ... in the child. */
	int keep[8 + QEMU_MAX_NODES];
	size_t nkeep = 0;
	struct qemu_args_in ai = { .spec = spec, .qemu_path = qemu_path, .use_kvm = use_kvm,
				   .nodes = nodes, .cmdline = cmdline };
	ai.fd_qmp = 3 + (int)nkeep;
	keep[nkeep++] = pairs[0][1];
	ai.fd_com1 = 3 + (int)nkeep;
	keep[nkeep++] = pairs[1][1];
	ai.fd_com2 = 3 + (int)nkeep;
	keep[nkeep++] = pairs[2][1];
	ai.fd_log = 3 + (int)nkeep;
	keep[nkeep++] = logp[1];
	ai.fd_kernel = 3 + (int)nkeep;
	keep[nkeep++] = kernel_copy >= 0 ? kernel_copy : in->kernel_fd;
	ai.fd_initrd = -1;
	if (initrd_fd >= 0) {
		ai.fd_initrd = 3 + (int)nkeep;
		keep[nkeep++] = initrd_fd;
	}
	for (uint32_t i = 0; i < nodes; i++) {
		ai.fd_mem[i] = 3 + (int)nkeep;
		ai.node_mb[i] = node_mb[i];
		keep[nkeep++] = mem.fd[i];
	}
	rc = qemu_args_build(&ai, &argv);
	if (rc < 0) {
		set_error(end, rc, "build QEMU's command line",
			  rc == -EINVAL ? "a cpu_features_off name has characters QEMU would "
					  "misparse, or the topology is invalid"
					: strerror(-rc),
			  "use plain feature names such as xsave or avx");
		goto out;
	}
	if (klog_get_level() >= KLOG_DEBUG)
		for (size_t i = 0; i < argv.n; i++)
			kdbg("qemu argv[%zu] = %s", i, argv.v[i]);

	/* Namespaces, no capabilities and no_new_privs before the spawn, so
	 * QEMU starts inside them and unprivileged. */
	bool confine = !spec->insecure_no_sandbox;
	if (confine) {
		/* QEMU: pid 1 of its own pid namespace, sees no host pid. No
		 * empty root: QEMU loads firmware and libraries by path and
		 * opens its fds as /proc/self/fd/N. */
		rc = worker_sandbox_prepare(SANDBOX_NS_DEFAULT | SANDBOX_NS_PID, why, sizeof(why));
		if (rc < 0) {
			kerr("qemu: %s", why);
			set_error(end, rc, WORKER_SB_WHAT, why, WORKER_SB_HINT);
			goto out;
		}
	}

	if (confine) {
		/* Landlock for QEMU: its system paths read-only, nothing
		 * writable (TCG is no security boundary, and QEMU's -sandbox is
		 * a deny-list that allows open/write). A kernel without Landlock
		 * runs QEMU without it, and the result says so. */
		llfd = sandbox_qemu_landlock(use_kvm, why, sizeof(why));
		if (llfd == -EOPNOTSUPP) {
			kwarn("qemu: running QEMU without Landlock: %s", why);
		} else if (llfd < 0) {
			kerr("qemu: %s", why);
			set_error(end, llfd, WORKER_SB_WHAT, why, WORKER_SB_HINT);
			goto out;
		}
	}
	static char *const qemu_env[] = { "PATH=/usr/bin:/bin", NULL };
	struct spawn_opts so = { .keep = keep, .nkeep = nkeep, .env = qemu_env,
				 .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = errp[1],
				 .new_pgrp = 1, .pdeathsig = SIGKILL,
				 .child_hook = llfd >= 0 ? qemu_landlock_hook : NULL,
				 .child_hook_arg = &llfd };
	rc = ktstr_spawn(qemu_path, argv.v, &so, &q.pid);
	if (llfd >= 0) {
		close(llfd);
		llfd = -1;
		end->qemu_landlock = rc == 0;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "exec %.200s: %s", qemu_path, strerror(-rc));
		set_error(end, rc, "start QEMU", why, "check the QEMU installation");
		q.pid = 0;
		goto out;
	}

	/* Child ends now live in QEMU only: EOF on ours means QEMU is gone. */
	for (int i = 0; i < 3; i++)
		close_fd(&pairs[i][1]);
	close_fd(&logp[1]);
	close_fd(&errp[1]);
	close_fd(&initrd_fd);
	close_fd(&kernel_copy);
	/* QEMU holds guest RAM now; the worker needs only its SHM mapping,
	 * which outlives the fd. Fewer fds, less a confined worker can reach. */
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++)
		close_fd(&mem.fd[i]);
	q.fd[Q_QMP] = pairs[0][0];
	q.fd[Q_COM1] = pairs[1][0];
	q.fd[Q_COM2] = pairs[2][0];
	pairs[0][0] = pairs[1][0] = pairs[2][0] = -1;
	q.fd[Q_LOG] = logp[0];
	q.fd[Q_ERR] = errp[0];
	logp[0] = errp[0] = -1;
	fcntl(q.fd[Q_LOG], F_SETFL, O_NONBLOCK);
	fcntl(q.fd[Q_ERR], F_SETFL, O_NONBLOCK);
	/* Opened now: the confined worker may wait on it but not open one. */
	q.fd[Q_PID] = (int)syscall(SYS_pidfd_open, q.pid, 0);

	if (confine) {
		const int efds[] = { q.fd[Q_COM1], q.fd[Q_COM2], q.fd[Q_QMP],
				     q.fd[Q_LOG],  q.fd[Q_ERR],	 q.fd[Q_PID] };
		rc = worker_sandbox_confine(q.pid, efds, ARRAY_SIZE(efds), SANDBOX_POLICY_TSYNC, why,
					    sizeof(why));
		if (rc < 0) {
			/* QEMU is still paused (-S): killed below, the guest never ran. */
			kerr("qemu: %s", why);
			set_error(end, rc, WORKER_SB_WHAT, why, WORKER_SB_HINT);
			goto out;
		}
		end->sandboxed = true;
		kinfo("qemu: worker confined (seccomp %s, TSYNC, no capabilities, own "
		      "user/mount/net/ipc/uts namespaces, QEMU pid 1 of its own pid namespace)",
		      sandbox_role_name(SANDBOX_ROLE_WORKER_CTL));
	}

	/* QMP sends events only after capability negotiation; QEMU queues the
	 * commands until it has sent its greeting. "cont" starts the guest
	 * that -S held back: the first guest instruction runs only now. */
	static const char qmp_start[] = "{\"execute\":\"qmp_capabilities\"}\n"
					"{\"execute\":\"cont\"}\n";
	if (write_full(q.fd[Q_QMP], qmp_start, sizeof(qmp_start) - 1) < 0) {
		rc = -errno;
		snprintf(why, sizeof(why), "writing qmp_capabilities/cont to QEMU's monitor: %s",
			 strerror(errno));
		set_error(end, rc, "start the guest (QEMU was started paused)", why,
			  "run with KTSTR_LOG=debug to see QEMU's stderr");
		goto out;
	}
	end->engine_start_us = ktstr_now_us();
	end->setup_us = end->engine_start_us - in->worker_start_us;
	capture_vm_started(cap, KTSTR__ENGINE__ENGINE_QEMU, end->engine_detail, end->setup_us,
			   (uint32_t)q.pid);
	/* main.c's fds: set only now, so no error path above closes them. */
	q.fd[Q_CTL] = in->ctl_sock;
	q.fd[Q_STDIN] = (spec->interactive && in->stdin_fd >= 0) ? in->stdin_fd : -1;
	if (spec->interactive && in->stdout_fd >= 0)
		capture_set_com2_mirror(cap, in->stdout_fd);


	uint64_t deadline = end->engine_start_us + (uint64_t)spec->timeout_ms * 1000;
	uint64_t next_tick = ktstr_now_us() + TICK_MS * 1000;
	uint64_t panic_at = 0;
	Ktstr__Outcome forced = KTSTR__OUTCOME__OUTCOME_UNKNOWN;

	while (forced == KTSTR__OUTCOME__OUTCOME_UNKNOWN && !q.seen.exited) {
		uint64_t now = ktstr_now_us();
		if (q.live_reply[0]) {
			/* Answered: a running guest had its whole time. */
			if (!strcmp(q.live_reply, "running")) {
				forced = KTSTR__OUTCOME__OUTCOME_TIMEOUT;
			} else {
				snprintf(q.seen.live_status, sizeof(q.seen.live_status), "%s",
					 q.live_reply);
				forced = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
			}
			break;
		}
		if (now >= deadline) {
			if (q.live_asked_us) {
				q.seen.unresponsive = true;
				forced = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
				break;
			}
			/* Ask QEMU before blaming the guest; a QMP socket that is
			 * gone leaves nothing to ask. */
			if (q.fd[Q_QMP] < 0 ||
			    write_full(q.fd[Q_QMP], QMP_LIVENESS_QUERY, sizeof(QMP_LIVENESS_QUERY) - 1)) {
				forced = KTSTR__OUTCOME__OUTCOME_TIMEOUT;
				break;
			}
			q.live_asked_us = now;
			deadline = now + QMP_LIVENESS_MS * 1000ull;
			continue;
		}
		if (*in->stop_requested) {
			forced = KTSTR__OUTCOME__OUTCOME_STOPPED;
			break;
		}
		if (capture_saw_sched_exit(cap)) {
			/* facts 2.9: the host ends the VM on sight of SCHED_EXIT. */
			forced = KTSTR__OUTCOME__OUTCOME_SCHED_EXIT;
			break;
		}
		if (capture_flooded(cap)) {
			forced = KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD;
			break;
		}
		if (q.seen.panic && !panic_at)
			panic_at = now;
		if (panic_at && now - panic_at > PANIC_GRACE_MS * 1000ull) {
			forced = KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
			break;
		}
		if (q.stop_event_us && now - q.stop_event_us > STOP_GRACE_MS * 1000ull) {
			q.seen.unexpected_stop = true;
			forced = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
			break;
		}
		if (now >= next_tick) {
			ring_drain_now(&q, true);
			next_tick = now + TICK_MS * 1000;
		}

		struct pollfd pfd[Q_N];
		int map[Q_N], n = 0;
		for (int i = 0; i < Q_N; i++) {
			/* Terminal input waits in its pipe/tty until the guest
			 * shell said KTSTR_SHELL_READY: bytes sent to COM2 before
			 * the guest opened and set up the port are discarded by
			 * the guest. Bounded: the deadline above still applies. */
			if (i == Q_STDIN && !capture_shell_ready(cap))
				continue;
			if (q.fd[i] >= 0) {
				pfd[n] = (struct pollfd){ .fd = q.fd[i], .events = POLLIN };
				map[n++] = i;
			}
		}
		uint64_t wake = next_tick < deadline ? next_tick : deadline;
		int wait_ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
		int r = poll(pfd, (nfds_t)n, wait_ms);
		if (r < 0 && errno != EINTR) {
			rc = -errno;
			kerr("qemu: poll failed: %s; stopping the VM", strerror(errno));
			forced = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
			break;
		}
		for (int i = 0; r > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			int idx = map[i];
			if (idx == Q_PID) {
				int status;
				if (waitpid(q.pid, &status, WNOHANG) == q.pid) {
					q.seen.exited = true;
					q.seen.exit_status = status;
					q.pid = 0;
				}
				close_fd(&q.fd[Q_PID]);
			} else if (idx == Q_CTL) {
				if (worker_ctl_service(in) < 0)
					q.fd[Q_CTL] = -1; /* not ours to close */
			} else if (idx == Q_STDIN) {
				if (!pump(&q, idx))
					q.fd[Q_STDIN] = -1; /* main.c owns it */
			} else {
				pump(&q, idx);
			}
		}
		/* No pidfd (old kernel): notice the exit by polling. */
		if (q.fd[Q_PID] < 0 && q.pid > 0 && !q.seen.exited) {
			int status;
			if (waitpid(q.pid, &status, WNOHANG) == q.pid) {
				q.seen.exited = true;
				q.seen.exit_status = status;
				q.pid = 0;
			}
		}
	}
	/* Q_STDIN and Q_CTL belong to main.c: forget them before cleanup. */
	q.fd[Q_STDIN] = -1;
	q.fd[Q_CTL] = -1;

	if (!q.seen.exited)
		kill_group(&q);
	reap(&q);
	drain_rest(&q);
	if (capture_saw_panic(cap))
		q.seen.panic = true;
	ring_drain_now(&q, false);
	end->end_us = ktstr_now_us();

	if (forced == KTSTR__OUTCOME__OUTCOME_TIMEOUT && q.seen.panic)
		forced = KTSTR__OUTCOME__OUTCOME_GUEST_PANIC; /* the cause, not the symptom */
	end->outcome = forced != KTSTR__OUTCOME__OUTCOME_UNKNOWN ? forced : qemu_outcome(&q.seen);
	if (end->outcome == KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD) {
		/* The guest's doing, not an engine error: only the text is set. */
		capture_flood_text(cap, why, sizeof(why));
		copy_text(end->error_what, sizeof(end->error_what), "the guest flooded the SHM ring");
		copy_text(end->error_why, sizeof(end->error_why), why);
		copy_text(end->error_hint, sizeof(end->error_hint), CAPTURE_FLOOD_HINT);
	}
	if (end->outcome == KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR) {
		/* The end of QEMU's stderr says why it gave up; error_why holds
		 * 256 bytes, so keep the last 160. */
		char tailbuf[ERR_TAIL + 1];
		memcpy(tailbuf, q.err_tail, q.err_len);
		tailbuf[q.err_len] = '\0';
		const char *tail = q.err_len > 160 ? tailbuf + q.err_len - 160 : tailbuf;
		const char *what = q.seen.unresponsive
					   ? "QEMU did not answer QMP within 2 s at the watchdog "
					     "deadline (stopped or hung): the timeout is the engine's, "
					     "not the guest's"
				   : q.seen.live_status[0] ? "QEMU had the guest stopped at the watchdog deadline"
				   : q.seen.unexpected_stop ? "QEMU paused the guest and did not exit"
				   : q.seen.shutdown_event ? "QEMU shut down for a host-side reason"
							   : "QEMU exited without a guest shutdown";
		if (q.seen.unresponsive)
			snprintf(why, sizeof(why),
				 "no reply to query-status within %u ms after the %u ms timeout; QEMU "
				 "was then killed (a host that stopped or starved it, or a QEMU bug)",
				 QMP_LIVENESS_MS, spec->timeout_ms);
		else if (q.seen.live_status[0])
			snprintf(why, sizeof(why), "query-status said '%.31s' at the %u ms timeout",
				 q.seen.live_status, spec->timeout_ms);
		else if (q.seen.shutdown_event)
			snprintf(why, sizeof(why), "SHUTDOWN reason %.40s; stderr: %.160s",
				 q.seen.shutdown_reason, tail[0] ? tail : "(empty)");
		else if (WIFEXITED(q.seen.exit_status) || WIFSIGNALED(q.seen.exit_status))
			snprintf(why, sizeof(why), "%s %d; stderr: %.160s",
				 WIFEXITED(q.seen.exit_status) ? "exit status" : "signal",
				 WIFEXITED(q.seen.exit_status) ? WEXITSTATUS(q.seen.exit_status)
							       : WTERMSIG(q.seen.exit_status),
				 tail[0] ? tail : "(empty)");
		else
			snprintf(why, sizeof(why), "stderr: %.160s", tail[0] ? tail : "(empty)");
		set_error(end, 0, what, why,
			  q.seen.unresponsive
				  ? "check what on the host stopped or starved QEMU (a debugger, "
				    "SIGSTOP, a cgroup freezer, CPU overload); the run may be retried"
				  : "run with KTSTR_LOG=debug to see QEMU's argv and stderr; check the "
				    "kernel image and QEMU version");
	}
	rc = 0;

out:
	for (int i = 0; i < Q_N; i++)
		close_fd(&q.fd[i]);
	for (int i = 0; i < 3; i++) {
		close_fd(&pairs[i][0]);
		close_fd(&pairs[i][1]);
	}
	close_fd(&logp[0]);
	close_fd(&logp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&initrd_fd);
	close_fd(&kernel_copy);
	close_fd(&llfd);
	if (q.pid > 0) {
		kill_group(&q);
		reap(&q);
	}
	strv_free(&argv);
	qemu_mem_destroy(&mem);
	if (!end->end_us)
		end->end_us = ktstr_now_us();
	return rc;
}
