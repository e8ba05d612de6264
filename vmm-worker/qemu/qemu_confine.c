/* The QEMU engine's confinement steps and the start of the guest, in the
 * order docs/security.md ("QEMU engine") requires; qemu_engine_run() calls
 * them around qemu_spawn_paused():
 *   qemu_confine_prepare()  before the spawn: namespaces, no capabilities,
 *                           no_new_privs, so QEMU is exec'd inside them and
 *                           unprivileged; and QEMU's Landlock ruleset;
 *   qemu_confine_worker()   after it, QEMU still paused: the WORKER_CTL
 *                           policy for every worker thread (TSYNC);
 *   qemu_start_guest()      only then QMP "cont": the first guest instruction.
 * With VmSpec.insecure_no_sandbox the first two do nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "capture.h"
#include "qemu_priv.h"
#include "sandbox.h"
#include "worker_sandbox.h"

int qemu_confine_prepare(struct qemu_vm *q)
{
	char why[512];
	int rc;

	if (!q->confine)
		return 0;
	/* QEMU: pid 1 of its own pid namespace, sees no host pid. No empty
	 * root: QEMU loads firmware and libraries by path and opens its fds
	 * as /proc/self/fd/N. */
	rc = worker_sandbox_prepare(SANDBOX_NS_DEFAULT | SANDBOX_NS_PID, why, sizeof(why));
	if (rc < 0) {
		kerr("qemu: %s", why);
		qemu_set_error(q->end, rc, WORKER_SB_WHAT, why, WORKER_SB_HINT);
		return rc;
	}
	/* Landlock for QEMU: its system paths read-only, nothing writable (TCG
	 * is no security boundary, and QEMU's -sandbox is a deny-list that
	 * allows open/write). A kernel without Landlock runs QEMU without it,
	 * and the result says so (vm_end.qemu_landlock stays false). */
	rc = sandbox_qemu_landlock(q->l.use_kvm, why, sizeof(why));
	if (rc == -EOPNOTSUPP) {
		kwarn("qemu: running QEMU without Landlock: %s", why);
		return 0;
	}
	if (rc < 0) {
		kerr("qemu: %s", why);
		qemu_set_error(q->end, rc, WORKER_SB_WHAT, why, WORKER_SB_HINT);
		return rc;
	}
	q->l.llfd = rc;
	return 0;
}

int qemu_confine_worker(struct qemu_vm *q)
{
	const int efds[] = { q->fd[Q_COM1], q->fd[Q_COM2], q->fd[Q_QMP],
			     q->fd[Q_LOG],  q->fd[Q_ERR],  q->fd[Q_PID] };
	char why[512];
	int rc;

	if (!q->confine)
		return 0;
	rc = worker_sandbox_confine(q->pid, efds, ARRAY_SIZE(efds), SANDBOX_POLICY_TSYNC, why,
				    sizeof(why));
	if (rc < 0) {
		/* QEMU is still paused (-S): it is killed on the way out, the
		 * guest never ran. */
		kerr("qemu: %s", why);
		qemu_set_error(q->end, rc, WORKER_SB_WHAT, why, WORKER_SB_HINT);
		return rc;
	}
	q->end->sandboxed = true;
	kinfo("qemu: worker confined (seccomp %s, TSYNC, no capabilities, own "
	      "user/mount/net/ipc/uts namespaces, QEMU pid 1 of its own pid namespace)",
	      sandbox_role_name(SANDBOX_ROLE_WORKER_CTL));
	return 0;
}

int qemu_start_guest(struct qemu_vm *q)
{
	/* QMP sends events only after capability negotiation; QEMU queues the
	 * commands until it has sent its greeting. "cont" starts the guest
	 * that -S held back: the first guest instruction runs only now. */
	static const char qmp_start[] = "{\"execute\":\"qmp_capabilities\"}\n"
					"{\"execute\":\"cont\"}\n";
	const struct vm_inputs *in = q->in;
	struct vm_end *end = q->end;
	char why[512];

	if (write_full(q->fd[Q_QMP], qmp_start, sizeof(qmp_start) - 1) < 0) {
		int rc = -errno;

		snprintf(why, sizeof(why), "writing qmp_capabilities/cont to QEMU's monitor: %s",
			 strerror(errno));
		qemu_set_error(end, rc, "start the guest (QEMU was started paused)", why,
			       "run with KTSTR_LOG=debug to see QEMU's stderr");
		return rc;
	}
	end->engine_start_us = ktstr_now_us();
	end->setup_us = end->engine_start_us - in->worker_start_us;
	capture_vm_started(q->cap, KTSTR__ENGINE__ENGINE_QEMU, end->engine_detail, end->setup_us,
			   (uint32_t)q->pid);
	/* main.c's fds: set only now, so no error path before closes them;
	 * qemu_loop_run() forgets them again before the tear-down. */
	q->fd[Q_CTL] = in->ctl_sock;
	q->fd[Q_STDIN] = (in->spec->interactive && in->stdin_fd >= 0) ? in->stdin_fd : -1;
	if (in->spec->interactive && in->stdout_fd >= 0)
		capture_set_com2_mirror(q->cap, in->stdout_fd);
	return 0;
}
