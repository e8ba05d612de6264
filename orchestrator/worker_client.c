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

static int resolve_worker(const struct worker_client_opts *o, char *buf, size_t len)
{
	const char *p = o && o->worker_path ? o->worker_path : getenv("KTSTR_VMM_WORKER");
	if (p && *p) {
		if ((size_t)snprintf(buf, len, "%s", p) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	char dir[4096];
	int rc = ktstr_self_dir(dir, sizeof(dir));
	if (rc < 0)
		return rc;
	if ((size_t)snprintf(buf, len, "%s/ktstr-vmm-worker", dir) >= len)
		return -ENAMETOOLONG;
	return 0;
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

int worker_run_vm(const Ktstr__VmSpec *spec, const struct worker_fds *fds,
		  const struct worker_client_opts *opts, struct worker_outcome *out)
{
	static const struct worker_client_opts no_opts = { 0 };
	const struct worker_client_opts *o = opts ? opts : &no_opts;
	memset(out, 0, sizeof(*out));
	if (!spec || !fds || fds->kernel_fd < 0)
		return -EINVAL;
	Ktstr__Engine engine = spec->engine;
	char path[4096], why[512];
	int sv[2] = { -1, -1 };
	pid_t pid = -1;

	int rc = resolve_worker(o, path, sizeof(path));
	if (rc < 0) {
		synth(out, engine, rc, "locate ktstr-vmm-worker", strerror(-rc),
		      "set KTSTR_VMM_WORKER or install ktstr-vmm-worker beside ktstr-orch");
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = -errno;
		synth(out, engine, rc, "create the worker control socket", strerror(-rc),
		      "check the open file limit (ulimit -n)");
		return 0;
	}
	/* The worker gets a clean environment: only the log level travels. */
	char logenv[64];
	const char *lvl = getenv("KTSTR_LOG");
	char *env[2] = { NULL, NULL };
	if (lvl && strlen(lvl) < 32) {
		snprintf(logenv, sizeof(logenv), "KTSTR_LOG=%s", lvl);
		env[0] = logenv;
	}
	char *argv[] = { "ktstr-vmm-worker", NULL };
	struct spawn_opts so = { .keep = &sv[1], .nkeep = 1, .env = env, .stdin_fd = -1,
				 .stdout_fd = -1,
				 .stderr_fd = (o->stderr_fd == 0 || o->stderr_fd == -2) ? -2
											: o->stderr_fd,
				 .new_pgrp = 0, .pdeathsig = SIGKILL };
	rc = ktstr_spawn(path, argv, &so, &pid);
	close(sv[1]);
	if (rc < 0) {
		snprintf(why, sizeof(why), "exec %.400s: %s", path, strerror(-rc));
		synth(out, engine, rc, "start ktstr-vmm-worker", why,
		      "build it (make) or point KTSTR_VMM_WORKER at it");
		close(sv[0]);
		return 0;
	}
	int ctl = sv[0];
	bool kill_worker = true;

	/* 1. WorkerReady. */
	ProtobufCMessage *msg = NULL;
	int rfds[KTSTR_FRAME_MAX_FDS];
	size_t nrfds = 0;
	rc = frame_recv_msg(ctl, &ktstr__worker_event__descriptor, KTSTR_FRAME_CAP_RESULT, &msg,
			    rfds, KTSTR_FRAME_MAX_FDS, &nrfds, READY_WAIT_MS);
	for (size_t i = 0; i < nrfds; i++)
		close(rfds[i]);
	if (rc < 0 || ((Ktstr__WorkerEvent *)msg)->ev_case != KTSTR__WORKER_EVENT__EV_READY) {
		snprintf(why, sizeof(why), "%s",
			 rc == -ETIMEDOUT ? "no WorkerReady within 10 s"
			 : rc == -EPIPE	  ? "the worker closed its control socket at start"
			 : rc < 0	  ? strerror(-rc)
					  : "the first event was not WorkerReady");
		if (msg)
			protobuf_c_message_free_unpacked(msg, NULL);
		synth(out, engine, rc < 0 ? rc : -EPROTO, "start ktstr-vmm-worker", why,
		      "run the worker with KTSTR_LOG=debug and read its stderr");
		goto out_kill;
	}
	Ktstr__WorkerReady *ready = ((Ktstr__WorkerEvent *)msg)->ready;
	out->worker_pid = ready->pid;
	snprintf(out->kvm_kind, sizeof(out->kvm_kind), "%s", ready->kvm_kind ? ready->kvm_kind : "");
	protobuf_c_message_free_unpacked(msg, NULL);
	msg = NULL;

	/* 2. RunVm with the fds, roles in the same order. */
	int sfds[4];
	Ktstr__FdRole roles[4];
	size_t nsfds = 0;
	const struct {
		int fd;
		Ktstr__FdRole role;
	} cand[] = { { fds->kernel_fd, KTSTR__FD_ROLE__FD_KERNEL },
		     { fds->initrd_fd, KTSTR__FD_ROLE__FD_INITRD },
		     { fds->stdin_fd, KTSTR__FD_ROLE__FD_STDIN },
		     { fds->stdout_fd, KTSTR__FD_ROLE__FD_STDOUT } };
	for (size_t i = 0; i < ARRAY_SIZE(cand); i++)
		if (cand[i].fd >= 0) {
			sfds[nsfds] = cand[i].fd;
			roles[nsfds++] = cand[i].role;
		}
	Ktstr__RunVm run = KTSTR__RUN_VM__INIT;
	run.spec = (Ktstr__VmSpec *)spec;
	run.n_fd_roles = nsfds;
	run.fd_roles = roles;
	Ktstr__WorkerRequest req = KTSTR__WORKER_REQUEST__INIT;
	req.req_case = KTSTR__WORKER_REQUEST__REQ_RUN;
	req.run = &run;
	rc = frame_send(ctl, &req.base, sfds, nsfds);
	if (rc < 0) {
		synth(out, engine, rc, "send RunVm to the worker", strerror(-rc),
		      "the worker died right after starting: run with KTSTR_LOG=debug");
		goto out_kill;
	}

	/* 3. Events until the VmResult, under a hard deadline. */
	uint64_t grace = o->grace_ms ? o->grace_ms : DEFAULT_GRACE_MS;
	uint64_t deadline = ktstr_now_ms() + spec->timeout_ms + grace;
	bool stop_sent = false;
	for (;;) {
		uint64_t now = ktstr_now_ms();
		if (now >= deadline) {
			snprintf(why, sizeof(why),
				 "no VmResult within the VM timeout (%u ms) plus %llu ms grace",
				 spec->timeout_ms, (unsigned long long)grace);
			synth(out, engine, -ETIMEDOUT, "wait for the worker's VmResult (worker hung)",
			      why, "the worker was killed; run with KTSTR_LOG=debug to see where "
				   "it stopped");
			goto out_kill;
		}
		if (o->stop && *o->stop && !stop_sent) {
			Ktstr__StopVm stop = KTSTR__STOP_VM__INIT;
			stop.reason = "orchestrator stop";
			Ktstr__WorkerRequest sreq = KTSTR__WORKER_REQUEST__INIT;
			sreq.req_case = KTSTR__WORKER_REQUEST__REQ_STOP;
			sreq.stop = &stop;
			if (frame_send(ctl, &sreq.base, NULL, 0) < 0)
				kwarn("worker client: sending StopVm failed; the deadline still "
				      "bounds the worker");
			stop_sent = true;
		}
		uint64_t left = deadline - now;
		int slice = left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS;
		nrfds = 0;
		rc = frame_recv_msg(ctl, &ktstr__worker_event__descriptor, KTSTR_FRAME_CAP_RESULT,
				    &msg, rfds, KTSTR_FRAME_MAX_FDS, &nrfds, slice);
		for (size_t i = 0; i < nrfds; i++)
			close(rfds[i]); /* workers never send fds */
		if (rc == -ETIMEDOUT)
			continue;
		/* ECONNRESET: the worker died with our RunVm/StopVm unread. */
		if (rc == -EPIPE || rc == -ECONNRESET) {
			finish_worker(out, pid, false, 2000);
			kill_worker = false;
			if (out->reaped)
				describe_status(out->worker_status, why, sizeof(why));
			else
				snprintf(why, sizeof(why), "closed its control socket");
			char w2[600];
			snprintf(w2, sizeof(w2), "the worker %s before sending a VmResult", why);
			synth(out, engine, -EPIPE, "run the VM in ktstr-vmm-worker (worker died)", w2,
			      "run with KTSTR_LOG=debug and read the worker's stderr");
			goto out_close;
		}
		if (rc < 0) {
			snprintf(why, sizeof(why), "undecodable event from the worker: %s",
				 strerror(-rc));
			synth(out, engine, rc, "read the worker's events (protocol error)", why,
			      "the worker was killed; this is a bug in ktstr-vmm-worker");
			goto out_kill;
		}
		Ktstr__WorkerEvent *ev = (Ktstr__WorkerEvent *)msg;
		switch (ev->ev_case) {
		case KTSTR__WORKER_EVENT__EV_RESULT:
			/* Take the result out of its event: no copy. */
			out->result = ev->result;
			ev->result = NULL;
			protobuf_c_message_free_unpacked(msg, NULL);
			msg = NULL;
			kill_worker = false;
			finish_worker(out, pid, false, EXIT_WAIT_MS);
			goto out_close;
		case KTSTR__WORKER_EVENT__EV_STARTED:
			out->started = true;
			snprintf(out->engine_detail, sizeof(out->engine_detail), "%s",
				 ev->started->engine_detail ? ev->started->engine_detail : "");
			out->engine_pid = ev->started->has_engine_pid ? ev->started->engine_pid : 0;
			break;
		case KTSTR__WORKER_EVENT__EV_OUTPUT:
		case KTSTR__WORKER_EVENT__EV_RING:
			break;
		default:
			protobuf_c_message_free_unpacked(msg, NULL);
			msg = NULL;
			synth(out, engine, -EPROTO, "read the worker's events (protocol error)",
			      "unexpected event (second WorkerReady or empty event)",
			      "the worker was killed; this is a bug in ktstr-vmm-worker");
			goto out_kill;
		}
		if (o->on_event)
			o->on_event(o->ctx, ev);
		protobuf_c_message_free_unpacked(msg, NULL);
		msg = NULL;
	}

out_kill:
	if (kill_worker)
		finish_worker(out, pid, true, 5000);
out_close:
	close(ctl);
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
