/* Orchestrator side of the worker protocol (proto/worker.proto). See
 * worker_client.h.
 *
 * Ownership: the control socket's two ends are created here; the worker's
 * end is closed right after the spawn, ours before returning. The worker
 * process is always reaped before returning (SIGKILL at the deadline). The
 * VmResult, taken out of its final WorkerEvent (or synthesized), is owned
 * by struct worker_outcome until worker_outcome_take_result(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/frame.h>
#include <ktstr/log.h>
#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "helper_path.h"
#include "worker_client.h"

#define READY_WAIT_MS 10000	/* worker start -> WorkerReady */
#define DEFAULT_GRACE_MS 45000	/* setup + reap + drain on top of the VM timeout */
#define EXIT_WAIT_MS 5000	/* VmResult sent -> worker exits */
#define POLL_SLICE_MS 200	/* cadence for the stop flag and the deadline */

/* The worker failed: record why (the structured error travels in the
 * synthesized VmResult to the verdict and the reports). */
static void synth(struct worker_outcome *out, Ktstr__Engine engine, int err, const char *what,
		  const char *why, const char *hint)
{
	Ktstr__VmResult *r;

	ktstr_error_set(&out->error, err ? err : EIO, what, "ktstr-orch: worker client", hint,
			"%s", why);
	out->infra_error = true;
	if (out->result) {
		ktstr__vm_result__free_unpacked(out->result, NULL);
		out->result = NULL;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return;
	ktstr__vm_result__init(r);
	r->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	r->engine = engine;
	r->error = ktstr_error_pb_new(&out->error);
	out->result = r;
}

/* An explicit worker_path (a caller's own binary, tests) is taken as is;
 * otherwise the one helper lookup (helper_path.h). */
static int resolve_worker(const struct worker_client_opts *o, char *buf, size_t len, char *err,
			  size_t errlen)
{
	if (o && o->worker_path) {
		if ((size_t)snprintf(buf, len, "%s", o->worker_path) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	return helper_path(HELPER_VMM_WORKER, buf, len, err, errlen);
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with wait status 0x%x", status);
}

/* Kill (if asked) and reap the worker, bounded. */
static void finish_worker(struct worker_outcome *out, pid_t pid, bool kill_it, int wait_ms)
{
	int status = 0;
	if (kill_it)
		kill(pid, SIGKILL);
	int rc = ktstr_wait_timeout(pid, &status, wait_ms);
	if (rc == -ETIMEDOUT) {
		kwarn("worker client: worker %d did not exit within %d ms after its result; "
		      "killing it", (int)pid, wait_ms);
		kill(pid, SIGKILL);
		rc = ktstr_wait_timeout(pid, &status, 5000);
	}
	if (rc == 0) {
		out->reaped = true;
		out->worker_status = status;
	} else {
		kerr("worker client: could not reap worker %d: %s", (int)pid, strerror(-rc));
	}
}

/* One worker's run, phase by phase (spawn, ready, RunVm, events). Each
 * phase returns 0 to go on; on failure it has synthesized the result and
 * says whether the worker must still be killed. */
struct wc_run {
	const Ktstr__VmSpec *spec;
	const struct worker_client_opts *o;
	struct worker_outcome *out;
	Ktstr__Engine engine;
	pid_t pid;
	int ctl;		/* our end of the control socket; owned */
	bool kill_worker;	/* still running: kill it on the way out */
	char why[512];
};

/* spawn's child_hook: runs between fork and exec (async-signal-safe: one
 * syscall). The threads the worker and QEMU start inherit the mask. */
static int pin_child(void *arg)
{
	return sched_setaffinity(0, sizeof(cpu_set_t), arg) ? -errno : 0;
}

static int wc_spawn(struct wc_run *w)
{
	char path[4096], logenv[64], err[4096 + 512] = "";
	const char *lvl = getenv("KTSTR_LOG");
	char *env[2] = { NULL, NULL };
	char *argv[] = { "ktstr-vmm-worker", NULL };
	int sv[2] = { -1, -1 };
	int rc = resolve_worker(w->o, path, sizeof(path), err, sizeof(err));

	if (rc < 0) {
		synth(w->out, w->engine, rc, "locate ktstr-vmm-worker", err[0] ? err : strerror(-rc),
		      "build (make) or install (make install) ktstr, or set KTSTR_VMM_WORKER");
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = -errno;
		synth(w->out, w->engine, rc, "create the worker control socket", strerror(-rc),
		      "check the open file limit (ulimit -n)");
		return rc;
	}
	/* The worker gets a clean environment: only the log level travels. */
	if (lvl && strlen(lvl) < 32) {
		snprintf(logenv, sizeof(logenv), "KTSTR_LOG=%s", lvl);
		env[0] = logenv;
	}
	struct spawn_opts so = { .keep = &sv[1], .nkeep = 1, .env = env, .stdin_fd = -1,
				 .stdout_fd = -1,
				 .stderr_fd = (w->o->stderr_fd == 0 || w->o->stderr_fd == -2)
						      ? -2
						      : w->o->stderr_fd,
				 .new_pgrp = 0, .pdeathsig = SIGKILL,
				 .child_hook = w->o->affinity ? pin_child : NULL,
				 .child_hook_arg = (void *)w->o->affinity };
	rc = ktstr_spawn(path, argv, &so, &w->pid);
	close(sv[1]);
	if (rc < 0) {
		snprintf(w->why, sizeof(w->why), "exec %.400s%s: %s", path,
			 w->o->affinity ? " (pinned to the reserved CPUs first)" : "", strerror(-rc));
		synth(w->out, w->engine, rc, "start ktstr-vmm-worker", w->why,
		      "build it (make) or point KTSTR_VMM_WORKER at it");
		close(sv[0]);
		return rc;
	}
	w->ctl = sv[0];
	w->kill_worker = true;
	return 0;
}

static int wc_ready(struct wc_run *w)
{
	ProtobufCMessage *msg = NULL;
	int rfds[KTSTR_FRAME_MAX_FDS];
	size_t nrfds = 0;
	int rc = frame_recv_msg(w->ctl, &ktstr__worker_event__descriptor, KTSTR_FRAME_CAP_RESULT,
				&msg, rfds, KTSTR_FRAME_MAX_FDS, &nrfds, READY_WAIT_MS);

	for (size_t i = 0; i < nrfds; i++)
		close(rfds[i]);
	if (rc < 0 || ((Ktstr__WorkerEvent *)msg)->ev_case != KTSTR__WORKER_EVENT__EV_READY) {
		snprintf(w->why, sizeof(w->why), "%s",
			 rc == -ETIMEDOUT ? "no WorkerReady within 10 s"
			 : rc == -EPIPE	  ? "the worker closed its control socket at start"
			 : rc < 0	  ? strerror(-rc)
					  : "the first event was not WorkerReady");
		if (msg)
			protobuf_c_message_free_unpacked(msg, NULL);
		synth(w->out, w->engine, rc < 0 ? rc : -EPROTO, "start ktstr-vmm-worker", w->why,
		      "run the worker with KTSTR_LOG=debug and read its stderr");
		return rc < 0 ? rc : -EPROTO;
	}
	Ktstr__WorkerReady *ready = ((Ktstr__WorkerEvent *)msg)->ready;
	w->out->worker_pid = ready->pid;
	snprintf(w->out->kvm_kind, sizeof(w->out->kvm_kind), "%s",
		 ready->kvm_kind ? ready->kvm_kind : "");
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}

/* RunVm with the fds, roles in the same order. */
static int wc_send_run(struct wc_run *w, const struct worker_fds *fds)
{
	const struct {
		int fd;
		Ktstr__FdRole role;
	} cand[] = { { fds->kernel_fd, KTSTR__FD_ROLE__FD_KERNEL },
		     { fds->initrd_fd, KTSTR__FD_ROLE__FD_INITRD },
		     { fds->stdin_fd, KTSTR__FD_ROLE__FD_STDIN },
		     { fds->stdout_fd, KTSTR__FD_ROLE__FD_STDOUT } };
	Ktstr__RunVm run = KTSTR__RUN_VM__INIT;
	Ktstr__WorkerRequest req = KTSTR__WORKER_REQUEST__INIT;
	Ktstr__FdRole roles[ARRAY_SIZE(cand)];
	int sfds[ARRAY_SIZE(cand)], rc;
	size_t nsfds = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cand); i++)
		if (cand[i].fd >= 0) {
			sfds[nsfds] = cand[i].fd;
			roles[nsfds++] = cand[i].role;
		}
	run.spec = (Ktstr__VmSpec *)w->spec;
	run.n_fd_roles = nsfds;
	run.fd_roles = roles;
	req.req_case = KTSTR__WORKER_REQUEST__REQ_RUN;
	req.run = &run;
	rc = frame_send(w->ctl, &req.base, sfds, nsfds);
	if (rc < 0)
		synth(w->out, w->engine, rc, "send RunVm to the worker", strerror(-rc),
		      "the worker died right after starting: run with KTSTR_LOG=debug");
	return rc;
}

static void wc_send_stop(struct wc_run *w)
{
	Ktstr__StopVm stop = KTSTR__STOP_VM__INIT;
	Ktstr__WorkerRequest sreq = KTSTR__WORKER_REQUEST__INIT;

	stop.reason = "orchestrator stop";
	sreq.req_case = KTSTR__WORKER_REQUEST__REQ_STOP;
	sreq.stop = &stop;
	if (frame_send(w->ctl, &sreq.base, NULL, 0) < 0)
		kwarn("worker client: sending StopVm failed; the deadline still bounds the worker");
}

/* The worker died mid-run: reap it and say how. */
static void wc_died(struct wc_run *w)
{
	char w2[600];

	finish_worker(w->out, w->pid, false, 2000);
	w->kill_worker = false;
	if (w->out->reaped)
		describe_status(w->out->worker_status, w->why, sizeof(w->why));
	else
		snprintf(w->why, sizeof(w->why), "closed its control socket");
	snprintf(w2, sizeof(w2), "the worker %s before sending a VmResult", w->why);
	synth(w->out, w->engine, -EPIPE, "run the VM in ktstr-vmm-worker (worker died)", w2,
	      "run with KTSTR_LOG=debug and read the worker's stderr");
}

/* Events until the VmResult, under a hard deadline. Returns when the
 * outcome is settled (a result, or a synthesized failure). */
static void wc_events(struct wc_run *w)
{
	uint64_t grace = w->o->grace_ms ? w->o->grace_ms : DEFAULT_GRACE_MS;
	uint64_t deadline = ktstr_now_ms() + w->spec->timeout_ms + grace;
	bool stop_sent = false;

	for (;;) {
		ProtobufCMessage *msg = NULL;
		int rfds[KTSTR_FRAME_MAX_FDS];
		size_t nrfds = 0;
		uint64_t now = ktstr_now_ms();

		if (now >= deadline) {
			snprintf(w->why, sizeof(w->why),
				 "no VmResult within the VM timeout (%u ms) plus %llu ms grace",
				 w->spec->timeout_ms, (unsigned long long)grace);
			synth(w->out, w->engine, -ETIMEDOUT,
			      "wait for the worker's VmResult (worker hung)", w->why,
			      "the worker was killed; run with KTSTR_LOG=debug to see where it "
			      "stopped");
			return;
		}
		if (w->o->stop && *w->o->stop && !stop_sent) {
			wc_send_stop(w);
			stop_sent = true;
		}
		uint64_t left = deadline - now;
		int rc = frame_recv_msg(w->ctl, &ktstr__worker_event__descriptor,
					KTSTR_FRAME_CAP_RESULT, &msg, rfds, KTSTR_FRAME_MAX_FDS,
					&nrfds, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);

		for (size_t i = 0; i < nrfds; i++)
			close(rfds[i]); /* workers never send fds */
		if (rc == -ETIMEDOUT)
			continue;
		/* ECONNRESET: the worker died with our RunVm/StopVm unread. */
		if (rc == -EPIPE || rc == -ECONNRESET) {
			wc_died(w);
			return;
		}
		if (rc < 0) {
			snprintf(w->why, sizeof(w->why), "undecodable event from the worker: %s",
				 strerror(-rc));
			synth(w->out, w->engine, rc, "read the worker's events (protocol error)",
			      w->why, "the worker was killed; this is a bug in ktstr-vmm-worker");
			return;
		}
		Ktstr__WorkerEvent *ev = (Ktstr__WorkerEvent *)msg;
		switch (ev->ev_case) {
		case KTSTR__WORKER_EVENT__EV_RESULT:
			/* Take the result out of its event: no copy. */
			w->out->result = ev->result;
			ev->result = NULL;
			protobuf_c_message_free_unpacked(msg, NULL);
			w->kill_worker = false;
			finish_worker(w->out, w->pid, false, EXIT_WAIT_MS);
			return;
		case KTSTR__WORKER_EVENT__EV_STARTED:
			w->out->started = true;
			snprintf(w->out->engine_detail, sizeof(w->out->engine_detail), "%s",
				 ev->started->engine_detail ? ev->started->engine_detail : "");
			w->out->engine_pid =
				ev->started->has_engine_pid ? ev->started->engine_pid : 0;
			break;
		case KTSTR__WORKER_EVENT__EV_OUTPUT:
		case KTSTR__WORKER_EVENT__EV_RING:
			break;
		default:
			protobuf_c_message_free_unpacked(msg, NULL);
			synth(w->out, w->engine, -EPROTO, "read the worker's events (protocol error)",
			      "unexpected event (second WorkerReady or empty event)",
			      "the worker was killed; this is a bug in ktstr-vmm-worker");
			return;
		}
		if (w->o->on_event)
			w->o->on_event(w->o->ctx, ev);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
}

int worker_run_vm(const Ktstr__VmSpec *spec, const struct worker_fds *fds,
		  const struct worker_client_opts *opts, struct worker_outcome *out)
{
	static const struct worker_client_opts no_opts = { 0 };
	struct wc_run w = { .spec = spec, .o = opts ? opts : &no_opts, .out = out, .pid = -1,
			    .ctl = -1 };

	memset(out, 0, sizeof(*out));
	if (!spec || !fds || fds->kernel_fd < 0)
		return -EINVAL;
	w.engine = spec->engine;
	if (wc_spawn(&w))
		return 0;
	if (!wc_ready(&w) && !wc_send_run(&w, fds))
		wc_events(&w);
	if (w.kill_worker)
		finish_worker(out, w.pid, true, 5000);
	close(w.ctl);
	return 0;
}

Ktstr__VmResult *worker_outcome_take_result(struct worker_outcome *out)
{
	Ktstr__VmResult *r = out->result;

	out->result = NULL;
	return r;
}

void worker_outcome_free(struct worker_outcome *out)
{
	if (out->result)
		ktstr__vm_result__free_unpacked(out->result, NULL);
	out->result = NULL;
}
