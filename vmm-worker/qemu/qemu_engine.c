/* The QEMU engine: runs qemu-system-x86_64 (qemu-system-aarch64 for an arm64
 * guest, qemu_launch_arm64.c) as a child in its own process
 * group and turns what it sees into a capture and a struct vm_end. This
 * file runs the phases (qemu_priv.h names the file of each) and owns the
 * tear-down.
 *
 * Ownership: struct qemu_vm owns the worker's ends of the QMP/COM1/COM2
 * sockets, the log and stderr pipes, the pidfd, guest RAM (struct qemu_mem)
 * and, until the spawn, everything QEMU is handed (struct qemu_launch); all
 * are closed before qemu_engine_run() returns. The child ends are closed
 * right after the spawn. The kernel fd and interactive fds belong to main.c.
 *
 * Every wait is bounded: the VM by spec.timeout_ms, a panicked guest, a
 * paused QEMU, the reap and reading what QEMU left in its sockets each by
 * their own grace (qemu_loop.c, qemu_collect.c). At any bound the whole
 * process group gets SIGKILL.
 *
 * Confinement (docs/security.md, "QEMU engine"), in this order:
 *   1. qemu_launch_setup(): all setup that opens or creates (memfds,
 *      initrd, socketpairs and pipes, argv);
 *   2. qemu_confine_prepare(): namespaces, no capabilities, no_new_privs,
 *      QEMU's Landlock ruleset;
 *   3. qemu_spawn_paused(): QEMU starts paused (-S); the worker closes what
 *      it no longer needs and opens QEMU's pidfd;
 *   4. qemu_confine_worker(): the WORKER_CTL policy with TSYNC (QEMU's pid as
 *      the one child it may signal and reap);
 *   5. qemu_start_guest(): only then QMP "cont" lets the guest run.
 * So no guest instruction executes and no guest byte is read before the
 * worker is confined, and if confinement fails the guest never runs. From
 * then on the engine only reads/writes the fds it holds, polls, signals and
 * reaps QEMU: no open, exec, socket, and no pidfd_open (the reap waits on
 * the pidfd opened before). Worker fds while the guest runs, besides
 * main.c's (0-2, control socket, kernel, initrd, stdin/stdout,
 * /proc/self/status): the QMP, COM1 and COM2 socketpair ends, QEMU's log
 * and stderr pipes, and QEMU's pidfd. The guest RAM memfds are closed after
 * the spawn (the SHM ring mapping stays). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "engine.h"
#include "qemu_priv.h"

/* Bounded copy; truncation is fine for report text. */
void qemu_copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void qemu_set_error(struct vm_end *end, int err, const char *what, const char *why,
		    const char *hint)
{
	end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	if (err)
		ktstr_error_set(&end->error, err, what, NULL, hint, "%s", why);
	else
		ktstr_error_note(&end->error, what, NULL, hint, "%s", why);
}

void qemu_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void vm_init(struct qemu_vm *q, const struct vm_inputs *in, struct vm_capture *cap,
		    struct vm_end *end)
{
	memset(q, 0, sizeof(*q));
	q->in = in;
	q->cap = cap;
	q->end = end;
	q->confine = !in->spec->insecure_no_sandbox;
	q->forced = KTSTR__OUTCOME__OUTCOME_UNKNOWN;
	for (int i = 0; i < Q_N; i++)
		q->fd[i] = -1;
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++)
		q->mem.fd[i] = -1;
	qemu_launch_init(&q->l);
}

/* Whatever is still open or running, on every path. The pidfd goes with the
 * other fds first, so a QEMU still here is reaped by polling waitpid. */
static void vm_release(struct qemu_vm *q)
{
	for (int i = 0; i < Q_N; i++)
		qemu_close_fd(&q->fd[i]);
	qemu_launch_release(&q->l);
	if (q->pid > 0) {
		qemu_kill_group(q);
		qemu_reap(q);
	}
	qemu_mem_destroy(&q->mem);
	if (!q->end->end_us)
		q->end->end_us = ktstr_now_us();
}

int qemu_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end)
{
	struct qemu_vm q;
	int rc;

	vm_init(&q, in, cap, end);
	vm_monitor_init(&end->monitor);
	end->engine = KTSTR__ENGINE__ENGINE_QEMU;
	end->outcome = KTSTR__OUTCOME__OUTCOME_UNKNOWN;
	/* Performance mode is a KVM-engine feature (docs/vmm-kvm.md): say so in
	 * the result instead of silently running an ordinary VM. */
	if (in->spec->performance_mode) {
		end->perf.requested = true;
		perf_note(&end->perf, true,
			  "QEMU engine: performance mode is not applied (no vCPU pinning, hugepages, "
			  "mbind, SCHED_FIFO, exit suppression or KVM_HINTS_REALTIME); use --engine kvm "
			  "on a hardware-KVM host for low-noise measurements");
	}
	/* Nothing exists yet: a spec or host this engine cannot serve returns
	 * before anything is created. */
	rc = qemu_launch_check(&q);
	if (rc < 0)
		return rc;

	rc = qemu_launch_setup(&q);
	if (rc == 0)
		rc = qemu_confine_prepare(&q);
	if (rc == 0)
		rc = qemu_spawn_paused(&q);
	if (rc == 0)
		rc = qemu_confine_worker(&q);
	if (rc == 0)
		rc = qemu_start_guest(&q);
	if (rc == 0) {
		qemu_loop_run(&q);
		qemu_collect(&q);
	}
	vm_release(&q);
	return rc;
}
