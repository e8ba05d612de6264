/* ktstr-vmm-worker confines itself for real (docs/security.md, "QEMU
 * engine"): the real worker boots the dev 7.2 kernel under QEMU/TCG with the
 * probe init of worker_qemu.c (tests/integration/data/worker_probe_init.c) in
 * "hang" mode, so the guest runs until the test has looked, and the test
 * reads the worker's /proc files while the guest runs:
 *   - Seccomp 2 (filter), NoNewPrivs 1, no capability in any set, in every
 *     thread; its own user namespace; QEMU is pid 1 of its own pid namespace
 *     and unprivileged;
 *   - its fds are exactly 0-2, the control socket, the kernel and initrd it
 *     was handed, its pre-opened /proc/self/status, the QMP/COM1/COM2
 *     sockets, QEMU's log and stderr pipes and QEMU's pidfd (no guest RAM
 *     memfd, nothing else);
 *   - hostile requests after confinement (a second RunVm with fds, a garbage
 *     frame) are refused and end the VM with a structured STOPPED result and
 *     a clean exit 0: had the worker tried to open or exec anything while
 *     handling them, SECCOMP_RET_KILL_PROCESS would have killed it (SIGSYS);
 *   - fail closed: a host where the worker cannot enter a user namespace
 *     gets an ENGINE_ERROR naming it and the opt-out, and no guest runs;
 *     VmSpec.insecure_no_sandbox runs the VM unconfined and says so;
 *   - an fd leaked into the worker at start is named and refuses the VM. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/frame.h>
#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "lib/vmtest.h"
#include "worker_client.h"

struct fixture {
	char kernel[PATH_MAX];
	char cpio[PATH_MAX];
	char worker[PATH_MAX];
};

/* Kernel, worker and the shared probe init cpio (vmtest_probe_cpio). */
static void prepare(struct fixture *fx)
{
	if (vmtest_kernel("vmlinux", fx->kernel, sizeof(fx->kernel)) != 0)
		test_missing("no dev kernel: set KTSTR_TEST_KERNEL or extract /var/tmp/kdev/k72");
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", fx->worker, sizeof(fx->worker)), 0,
		     "ktstr-vmm-worker is not built next to this test (make first)");
	vmtest_probe_cpio(fx->cpio, sizeof(fx->cpio));
}

static void spec_init(Ktstr__VmSpec *spec, Ktstr__Topology *topo, const char *mode)
{
	ktstr__vm_spec__init(spec);
	ktstr__topology__init(topo);
	topo->numa_nodes = topo->llcs = topo->cores_per_llc = topo->threads_per_core = 1;
	spec->engine = KTSTR__ENGINE__ENGINE_QEMU;
	spec->topology = topo;
	spec->memory_mb = 256;
	spec->timeout_ms = 60000;
	spec->has_shm_size = true;
	spec->shm_size = 1u << 20;
	spec->cmdline_extra = (char *)mode;
	/* Guest output arrives live: the first GuestOutput proves the guest
	 * runs, which is when the test looks at the worker. */
	spec->has_stream_output = true;
	spec->stream_output = true;
	spec->label = "worker_sandbox";
}

static const char *outcome_name(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);
	return v ? v->name : "?";
}

/* ---- what the test reads from /proc while the guest runs ---------------- */

struct proc_look {
	bool done;
	char status[4096];	/* the worker's /proc/PID/status */
	char tasks[2048];	/* "tid Seccomp NoNewPrivs;" per thread */
	char fds[4096];		/* "N -> target\n" per fd */
	bool own_userns;	/* /proc/PID/ns/user differs from ours */
	char qemu_status[4096];	/* QEMU's /proc/PID/status, "" if unknown */
};

static void look(struct proc_look *l, pid_t worker, pid_t qemu)
{
	char path[128], buf[4096], a[64], b[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)worker);
	vmtest_slurp(path, l->status, sizeof(l->status));

	snprintf(path, sizeof(path), "/proc/%d/task", (int)worker);
	DIR *d = opendir(path);
	size_t used = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/status", (int)worker, de->d_name);
		vmtest_slurp(path, buf, sizeof(buf));
		vmtest_status_field(buf, "Seccomp", a, sizeof(a));
		vmtest_status_field(buf, "NoNewPrivs", b, sizeof(b));
		used += (size_t)snprintf(l->tasks + used, sizeof(l->tasks) - used, "%s %s %s;",
					 de->d_name, a, b);
		if (used >= sizeof(l->tasks))
			break;
	}
	if (d)
		closedir(d);

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)worker);
	d = opendir(path);
	used = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char link[160], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/fd/%.32s", (int)worker, de->d_name);
		ssize_t t = readlink(link, target, sizeof(target) - 1);
		target[t > 0 ? t : 0] = '\0';
		used += (size_t)snprintf(l->fds + used, sizeof(l->fds) - used, "%s -> %s\n",
					 de->d_name, target);
		if (used >= sizeof(l->fds))
			break;
	}
	if (d)
		closedir(d);

	char mine[128], theirs[128];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)worker);
	ssize_t n1 = readlink("/proc/self/ns/user", mine, sizeof(mine) - 1);
	ssize_t n2 = readlink(path, theirs, sizeof(theirs) - 1);
	l->own_userns = n1 > 0 && n2 > 0 && (n1 != n2 || memcmp(mine, theirs, (size_t)n1) != 0);

	l->qemu_status[0] = '\0';
	if (qemu > 0) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)qemu);
		vmtest_slurp(path, l->qemu_status, sizeof(l->qemu_status));
	}
	l->done = true;
}

/* Confined as docs/security.md says, in every thread. */
static void expect_confined(const struct proc_look *l)
{
	char v[128];
	cr_assert(l->done, "the test never saw the guest run");
	vmtest_status_field(l->status, "Seccomp", v, sizeof(v));
	cr_expect_str_eq(v, "2", "Seccomp (2 = filter)");
	vmtest_status_field(l->status, "NoNewPrivs", v, sizeof(v));
	cr_expect_str_eq(v, "1", "NoNewPrivs");
	static const char *const caps[] = { "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb" };
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		vmtest_status_field(l->status, caps[i], v, sizeof(v));
		cr_expect_str_eq(v, "0000000000000000", "%s", caps[i]);
	}
	cr_expect(l->tasks[0], "no thread listed");
	for (const char *p = l->tasks; *p;) {
		const char *e = strchr(p, ';');
		char one[128];
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		cr_expect(strstr(one, " 2 1"), "thread not confined (tid Seccomp NoNewPrivs): %s", one);
		p += n + (e ? 1 : 0);
	}
	cr_expect(l->own_userns, "the worker is in the host's user namespace");
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Exactly the documented inventory (qemu/qemu_engine.c header, main.c). */
static void expect_fds(const struct proc_look *l, const struct fixture *fx, pid_t worker)
{
	char kernel[PATH_MAX], cpio[PATH_MAX], status[64];
	cr_assert_not_null(realpath(fx->kernel, kernel));
	cr_assert_not_null(realpath(fx->cpio, cpio));
	snprintf(status, sizeof(status), "/proc/%d/status", (int)worker);
	unsigned sockets = 0, pipes = 0, pidfds = 0, kernels = 0, initrds = 0, statuses = 0,
		 stdio = 0, total = 0;
	bool fd3_socket = false;
	const char *p = l->fds;
	while (*p) {
		char line[PATH_MAX + 32];
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] ? 1 : 0);
		char *arrow = strstr(line, " -> ");
		cr_assert_not_null(arrow, "bad fd line %s", line);
		*arrow = '\0';
		int fd = atoi(line);
		const char *t = arrow + 4;
		total++;
		if (fd <= 2)
			stdio++;
		else if (starts_with(t, "socket:")) {
			sockets++;
			fd3_socket |= fd == 3;
		} else if (starts_with(t, "pipe:"))
			pipes++;
		else if (!strcmp(t, "anon_inode:[pidfd]"))
			pidfds++;
		else if (!strcmp(t, kernel))
			kernels++;
		else if (!strcmp(t, cpio))
			initrds++;
		else if (!strcmp(t, status))
			statuses++;
		else
			cr_expect_fail("fd %d -> %s is not in the worker's documented inventory", fd,
				       t);
	}
	cr_log_info("worker fds while the guest runs:\n%s", l->fds);
	cr_expect_eq(stdio, 3, "fds 0-2");
	cr_expect(fd3_socket, "fd 3 is the control socket");
	cr_expect_eq(sockets, 4, "control socket + QMP, COM1, COM2");
	cr_expect_eq(pipes, 2, "QEMU's log and stderr pipes");
	cr_expect_eq(pidfds, 1, "QEMU's pidfd");
	cr_expect_eq(kernels, 1, "the kernel fd from RunVm");
	cr_expect_eq(initrds, 1, "the initrd fd from RunVm");
	cr_expect_eq(statuses, 1, "the pre-opened /proc/self/status");
	cr_expect_eq(total, 13, "nothing else is open:\n%s", l->fds);
	cr_expect_null(strstr(l->fds, "memfd:"), "guest RAM memfds are closed after the spawn");
}

/* ---- through the orchestrator's worker client -------------------------- */

struct seen {
	struct worker_outcome *out;
	pid_t qemu;
	int started, outputs;
	volatile int stop;
	struct proc_look look;
};

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct seen *s = ctx;
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_STARTED) {
		s->started++;
		s->qemu = ev->started->has_engine_pid ? (pid_t)ev->started->engine_pid : 0;
	}
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && !s->look.done) {
		/* The guest is running and talking: look now, then end the VM. */
		s->outputs++;
		look(&s->look, (pid_t)s->out->worker_pid, s->qemu);
		s->stop = 1;
	}
}

static void run_client(const struct fixture *fx, const Ktstr__VmSpec *spec, struct seen *seen,
		       struct worker_outcome *out)
{
	int kfd = open(fx->kernel, O_RDONLY | O_CLOEXEC);
	cr_assert(kfd >= 0, "open %s: %s", fx->kernel, strerror(errno));
	int ifd = open(fx->cpio, O_RDONLY | O_CLOEXEC);
	cr_assert(ifd >= 0, "open %s: %s", fx->cpio, strerror(errno));
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = ifd, .stdin_fd = -1,
				  .stdout_fd = -1 };
	seen->out = out;
	struct worker_client_opts o = { .worker_path = fx->worker, .stderr_fd = -2,
					.grace_ms = 20000, .on_event = on_event, .ctx = seen,
					.stop = &seen->stop };
	cr_assert_eq(worker_run_vm(spec, &fds, &o, out), 0);
	close(kfd);
	close(ifd);
	cr_assert_not_null(out->result);
	const Ktstr__VmResult *r = out->result;
	if (r->error)
		cr_log_info("error: %s / %s / %s", r->error->what, r->error->why ? r->error->why : "",
			    r->error->hint ? r->error->hint : "");
	cr_log_info("outcome %s, sandboxed %d", outcome_name(r->outcome),
		    r->has_sandboxed ? (int)r->sandboxed : -1);
}

Test(worker_sandbox, confined_with_only_its_fds_while_the_guest_runs, .timeout = 180)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, "KTSTR_TEST_MODE=hang");
	struct seen seen = { 0 };
	struct worker_outcome out;
	run_client(&fx, &spec, &seen, &out);
	const Ktstr__VmResult *r = out.result;
	cr_assert(!out.infra_error);
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_STOPPED, "outcome %s",
		     outcome_name(r->outcome));
	cr_assert(r->has_sandboxed && r->sandboxed, "VmResult.sandboxed must be true");
	expect_confined(&seen.look);
	expect_fds(&seen.look, &fx, (pid_t)out.worker_pid);

	/* QEMU: pid 1 of its own pid namespace, no privilege, its own filter. */
	char v[128];
	cr_assert(seen.look.qemu_status[0], "QEMU's status was not readable (pid %d)",
		  (int)seen.qemu);
	vmtest_status_field(seen.look.qemu_status, "NSpid", v, sizeof(v));
	cr_expect(strstr(v, "\t1") && !strcmp(strstr(v, "\t1"), "\t1"),
		  "QEMU is pid 1 of its own pid namespace (NSpid: %s)", v);
	vmtest_status_field(seen.look.qemu_status, "CapEff", v, sizeof(v));
	cr_expect_str_eq(v, "0000000000000000", "QEMU CapEff");
	vmtest_status_field(seen.look.qemu_status, "CapBnd", v, sizeof(v));
	cr_expect_str_eq(v, "0000000000000000", "QEMU CapBnd");
	vmtest_status_field(seen.look.qemu_status, "NoNewPrivs", v, sizeof(v));
	cr_expect_str_eq(v, "1", "QEMU NoNewPrivs");
	vmtest_status_field(seen.look.qemu_status, "Seccomp", v, sizeof(v));
	cr_expect_str_eq(v, "2", "QEMU runs -sandbox on");

	cr_assert(out.reaped && WIFEXITED(out.worker_status) && WEXITSTATUS(out.worker_status) == 0,
		  "the confined worker exits 0 (status 0x%x)", out.worker_status);
	worker_outcome_free(&out);
}

Test(worker_sandbox, insecure_no_sandbox_runs_unconfined_and_says_so, .timeout = 180)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, "KTSTR_TEST_MODE=hang");
	spec.has_insecure_no_sandbox = true;
	spec.insecure_no_sandbox = true;
	struct seen seen = { 0 };
	struct worker_outcome out;
	run_client(&fx, &spec, &seen, &out);
	const Ktstr__VmResult *r = out.result;
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_STOPPED, "outcome %s",
		     outcome_name(r->outcome));
	cr_assert(r->has_sandboxed && !r->sandboxed, "VmResult.sandboxed must be false");
	char v[32];
	cr_assert(seen.look.done);
	vmtest_status_field(seen.look.status, "Seccomp", v, sizeof(v));
	cr_expect_str_eq(v, "0", "no filter in insecure mode");
	cr_expect(!seen.look.own_userns, "no namespaces in insecure mode");
	worker_outcome_free(&out);
}

/* A host that refuses user namespaces, simulated for the worker only: the
 * test process (criterion runs each test in its own process) makes
 * unshare(2) fail with EPERM, and the worker inherits that filter. */
static void deny_unshare(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	cr_assert_not_null(ctx);
	cr_assert_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0), 0);
	cr_assert_eq(seccomp_load(ctx), 0, "loading the test's deny-unshare filter");
	seccomp_release(ctx);
}

Test(worker_sandbox, no_user_namespace_fails_closed_unless_opted_out, .timeout = 180)
{
	struct fixture fx;
	prepare(&fx);
	deny_unshare();
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, "KTSTR_TEST_MODE=hang");
	struct seen seen = { 0 };
	struct worker_outcome out;
	run_client(&fx, &spec, &seen, &out);
	const Ktstr__VmResult *r = out.result;
	cr_assert(!out.infra_error, "the worker itself refused");
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR, "outcome %s",
		     outcome_name(r->outcome));
	cr_assert_not_null(r->error);
	cr_expect(strstr(r->error->what, "confine"), "what: %s", r->error->what);
	cr_expect(r->error->why && strstr(r->error->why, "user namespace"), "why: %s",
		  r->error->why ? r->error->why : "");
	cr_expect(r->error->hint && strstr(r->error->hint, "insecure_no_sandbox"), "hint: %s",
		  r->error->hint ? r->error->hint : "");
	cr_expect_eq(seen.started, 0, "no guest ran");
	cr_expect(r->has_sandboxed && !r->sandboxed);
	worker_outcome_free(&out);

	/* The explicit opt-out runs the same VM, unconfined, and says so. */
	spec.has_insecure_no_sandbox = true;
	spec.insecure_no_sandbox = true;
	struct seen seen2 = { 0 };
	run_client(&fx, &spec, &seen2, &out);
	r = out.result;
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_STOPPED, "outcome %s",
		     outcome_name(r->outcome));
	cr_expect(seen2.look.done, "the guest ran");
	cr_expect(r->has_sandboxed && !r->sandboxed);
	worker_outcome_free(&out);
}

/* ---- driving the worker directly: hostile control traffic --------------- */

struct raw {
	pid_t pid;
	int ctl;
	int kfd, ifd;
};

/* Spawn the worker with its control socket as fd 3 (plus `extra` as fd 4
 * when >= 0: a leak on purpose) and read its WorkerReady. */
static void raw_start(const struct fixture *fx, struct raw *w, int extra)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int keep[2] = { sv[1], extra };
	struct spawn_opts so = { .keep = keep, .nkeep = extra >= 0 ? 2 : 1, .env = NULL,
				 .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -2,
				 .pdeathsig = SIGKILL };
	char *argv[] = { "ktstr-vmm-worker", NULL };
	cr_assert_eq(ktstr_spawn(fx->worker, argv, &so, &w->pid), 0);
	close(sv[1]);
	w->ctl = sv[0];
	ProtobufCMessage *msg = NULL;
	int fds[KTSTR_FRAME_MAX_FDS];
	size_t nfds = 0;
	cr_assert_eq(frame_recv_msg(w->ctl, &ktstr__worker_event__descriptor, KTSTR_FRAME_CAP_RESULT,
				    &msg, fds, KTSTR_FRAME_MAX_FDS, &nfds, 10000),
		     0, "WorkerReady");
	cr_assert_eq(((Ktstr__WorkerEvent *)msg)->ev_case, KTSTR__WORKER_EVENT__EV_READY);
	protobuf_c_message_free_unpacked(msg, NULL);
	w->kfd = open(fx->kernel, O_RDONLY | O_CLOEXEC);
	w->ifd = open(fx->cpio, O_RDONLY | O_CLOEXEC);
	cr_assert(w->kfd >= 0 && w->ifd >= 0);
}

static int raw_send_run(struct raw *w, const Ktstr__VmSpec *spec)
{
	int fds[2] = { w->kfd, w->ifd };
	Ktstr__FdRole roles[2] = { KTSTR__FD_ROLE__FD_KERNEL, KTSTR__FD_ROLE__FD_INITRD };
	Ktstr__RunVm run = KTSTR__RUN_VM__INIT;
	run.spec = (Ktstr__VmSpec *)spec;
	run.n_fd_roles = 2;
	run.fd_roles = roles;
	Ktstr__WorkerRequest req = KTSTR__WORKER_REQUEST__INIT;
	req.req_case = KTSTR__WORKER_REQUEST__REQ_RUN;
	req.run = &run;
	return frame_send(w->ctl, &req.base, fds, 2);
}

/* Next event within timeout_ms (NULL on timeout or a dead socket). */
static Ktstr__WorkerEvent *raw_next(struct raw *w, int timeout_ms)
{
	ProtobufCMessage *msg = NULL;
	int fds[KTSTR_FRAME_MAX_FDS];
	size_t nfds = 0;
	int rc = frame_recv_msg(w->ctl, &ktstr__worker_event__descriptor, KTSTR_FRAME_CAP_RESULT,
				&msg, fds, KTSTR_FRAME_MAX_FDS, &nfds, timeout_ms);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	return rc == 0 ? (Ktstr__WorkerEvent *)msg : NULL;
}

/* Events until the guest has talked; the worker is confined by then. */
static void raw_wait_guest(struct raw *w)
{
	uint64_t until = ktstr_now_ms() + 90000;
	bool started = false;
	while (ktstr_now_ms() < until) {
		Ktstr__WorkerEvent *ev = raw_next(w, 1000);
		if (!ev)
			continue;
		Ktstr__WorkerEvent__EvCase c = ev->ev_case;
		protobuf_c_message_free_unpacked(&ev->base, NULL);
		cr_assert_neq(c, KTSTR__WORKER_EVENT__EV_RESULT, "the VM ended before the test");
		started |= c == KTSTR__WORKER_EVENT__EV_STARTED;
		if (started && c == KTSTR__WORKER_EVENT__EV_OUTPUT)
			return;
	}
	cr_assert_fail("the guest did not talk within 90 s");
}

/* The VmResult (bounded), then the worker's exit status. */
static Ktstr__WorkerEvent *raw_result(struct raw *w, int *status)
{
	Ktstr__WorkerEvent *res = NULL;
	uint64_t until = ktstr_now_ms() + 60000;
	while (!res && ktstr_now_ms() < until) {
		Ktstr__WorkerEvent *ev = raw_next(w, 1000);
		if (!ev) {
			/* a dead worker: stop waiting */
			int st;
			if (waitpid(w->pid, &st, WNOHANG) == w->pid) {
				*status = st;
				w->pid = 0;
				return NULL;
			}
			continue;
		}
		if (ev->ev_case == KTSTR__WORKER_EVENT__EV_RESULT)
			res = ev;
		else
			protobuf_c_message_free_unpacked(&ev->base, NULL);
	}
	if (w->pid > 0) {
		int rc = ktstr_wait_timeout(w->pid, status, 10000);
		if (rc == -ETIMEDOUT) {
			kill(w->pid, SIGKILL);
			ktstr_wait_timeout(w->pid, status, 5000);
			cr_expect_fail("the worker did not exit after its result");
		}
		w->pid = 0;
	}
	return res;
}

static void raw_close(struct raw *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		int st;
		ktstr_wait_timeout(w->pid, &st, 5000);
	}
	close(w->ctl);
	close(w->kfd);
	close(w->ifd);
}

static void expect_refused(Ktstr__WorkerEvent *res, int status, const char *why_part)
{
	cr_assert(!WIFSIGNALED(status), "the worker was killed by signal %d%s", WTERMSIG(status),
		  WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS
			  ? " (SIGSYS: it made a syscall its policy forbids)"
			  : "");
	cr_assert_not_null(res, "no VmResult");
	const Ktstr__VmResult *r = res->result;
	if (r->error)
		cr_log_info("error: %s / %s", r->error->what, r->error->why ? r->error->why : "");
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_STOPPED, "outcome %s",
		     outcome_name(r->outcome));
	cr_assert_not_null(r->error, "a protocol violation is reported");
	cr_expect(r->error->why && strstr(r->error->why, why_part), "why: %s",
		  r->error->why ? r->error->why : "");
	cr_expect(r->has_sandboxed && r->sandboxed, "VmResult.sandboxed");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker status 0x%x", status);
}

Test(worker_sandbox, second_runvm_after_confinement_is_refused, .timeout = 180)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, "KTSTR_TEST_MODE=hang");
	struct raw w;
	raw_start(&fx, &w, -1);
	cr_assert_eq(raw_send_run(&w, &spec), 0);
	raw_wait_guest(&w);
	struct proc_look l = { 0 };
	look(&l, w.pid, 0);
	expect_confined(&l);
	/* Carries fds again: the worker must take them off the socket and
	 * close them, and start nothing. */
	cr_assert_eq(raw_send_run(&w, &spec), 0);
	int status = 0;
	Ktstr__WorkerEvent *res = raw_result(&w, &status);
	expect_refused(res, status, "second RunVm refused");
	if (res)
		protobuf_c_message_free_unpacked(&res->base, NULL);
	raw_close(&w);
}

Test(worker_sandbox, garbage_frame_after_confinement_is_refused, .timeout = 180)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, "KTSTR_TEST_MODE=hang");
	struct raw w;
	raw_start(&fx, &w, -1);
	cr_assert_eq(raw_send_run(&w, &spec), 0);
	raw_wait_guest(&w);
	struct proc_look l = { 0 };
	look(&l, w.pid, 0);
	expect_confined(&l);
	/* A well-framed length and bytes that are no WorkerRequest: field 15
	 * with wire type 7 (invalid), then junk. */
	static const uint8_t junk[] = { 16, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05 };
	cr_assert_eq(write(w.ctl, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	int status = 0;
	Ktstr__WorkerEvent *res = raw_result(&w, &status);
	expect_refused(res, status, "unreadable request");
	if (res)
		protobuf_c_message_free_unpacked(&res->base, NULL);
	raw_close(&w);
}

Test(worker_sandbox, fd_leaked_into_the_worker_refuses_the_vm, .timeout = 60)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, "KTSTR_TEST_MODE=hang");
	int leak = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	cr_assert(leak >= 0);
	struct raw w;
	raw_start(&fx, &w, leak);
	close(leak);
	cr_assert_eq(raw_send_run(&w, &spec), 0);
	int status = 0;
	Ktstr__WorkerEvent *res = raw_result(&w, &status);
	cr_assert_not_null(res, "no VmResult (worker status 0x%x)", status);
	const Ktstr__VmResult *r = res->result;
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR, "outcome %s",
		     outcome_name(r->outcome));
	cr_assert_not_null(r->error);
	cr_log_info("why: %s", r->error->why);
	cr_expect(strstr(r->error->why, "fd 4 -> /etc/hostname"), "why: %s", r->error->why);
	cr_expect(r->error->hint && strstr(r->error->hint, "insecure_no_sandbox"));
	cr_expect(r->has_sandboxed && !r->sandboxed);
	protobuf_c_message_free_unpacked(&res->base, NULL);
	raw_close(&w);
}
