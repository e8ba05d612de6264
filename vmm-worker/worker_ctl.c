/* The control socket while a VM runs. The worker accepted exactly one RunVm
 * before starting the VM; from then on the only legal request is StopVm
 * (OpenSSH's MON_ONCE idea: RunVm is disabled after one use). Anything else
 * ends the VM: a worker never guesses what a confused orchestrator meant. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/frame.h>
#include <ktstr/log.h>

#include "sandbox.h"

#include "engine.h"
#include "worker_ctl.h"

static const char *stop_reason;
static bool protocol_error;
static bool ctl_dead; /* socket unusable: do not poll it again */

const char *worker_ctl_stop_reason(void)
{
	return stop_reason;
}

bool worker_ctl_protocol_error(void)
{
	return protocol_error;
}

static void request_stop(const struct vm_inputs *in, const char *why, bool proto)
{
	if (!stop_reason)
		stop_reason = why;
	if (proto)
		protocol_error = true;
	*in->stop_requested = 1;
}

int worker_ctl_service(const struct vm_inputs *in)
{
	if (ctl_dead)
		return -EPIPE;
	struct pollfd pfd = { .fd = in->ctl_sock, .events = POLLIN };
	int n = poll(&pfd, 1, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;

	ProtobufCMessage *msg = NULL;
	int fds[KTSTR_FRAME_MAX_FDS];
	size_t nfds = 0;
	/* The frame has started arriving: a peer that stalls mid-frame for
	 * more than a second is broken, and the bound keeps the VM loop live. */
	int rc = frame_recv_msg(in->ctl_sock, &ktstr__worker_request__descriptor,
				KTSTR_FRAME_CAP_REQUEST, &msg, fds, KTSTR_FRAME_MAX_FDS, &nfds, 1000);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]); /* no request legal now carries fds */
	if (rc == -EPIPE || rc == -ECONNRESET) {
		ctl_dead = true;
		request_stop(in, "orchestrator closed the control socket", false);
		return rc;
	}
	if (rc < 0) {
		ctl_dead = true;
		kerr("worker: reading a request from the orchestrator failed: %s; "
		     "stopping the VM (the control socket is unusable)", strerror(-rc));
		request_stop(in, "unreadable request on the control socket", true);
		return rc;
	}
	Ktstr__WorkerRequest *req = (Ktstr__WorkerRequest *)msg;
	switch (req->req_case) {
	case KTSTR__WORKER_REQUEST__REQ_STOP:
		kinfo("worker: StopVm received (%s)",
		      req->stop->reason ? req->stop->reason : "no reason given");
		request_stop(in, "StopVm", false);
		break;
	case KTSTR__WORKER_REQUEST__REQ_RUN:
		kerr("worker: a second RunVm arrived while a VM runs; a worker runs exactly "
		     "one VM, so the request is refused and the VM stopped (orchestrator bug)");
		request_stop(in, "second RunVm refused", true);
		break;
	default:
		kerr("worker: request with no known body (case %d); stopping the VM",
		     (int)req->req_case);
		request_stop(in, "unknown request", true);
		break;
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}

/* ---- Confinement ------------------------------------------------------- */

#define MAIN_MAX_FDS 16
static int main_fds[MAIN_MAX_FDS];
static size_t n_main_fds;
static bool confined;

void worker_sandbox_set_main_fds(const int *fds, size_t n)
{
	n_main_fds = 0;
	for (size_t i = 0; i < n && n_main_fds < MAIN_MAX_FDS; i++)
		if (fds[i] >= 0)
			main_fds[n_main_fds++] = fds[i];
}

bool worker_sandboxed(void)
{
	return confined;
}

/* main.c's fds followed by the engine's; returns the count. */
static size_t allowed_fds(const int *engine_fds, size_t n, int *out)
{
	size_t na = 0;
	for (size_t i = 0; i < n_main_fds; i++)
		out[na++] = main_fds[i];
	for (size_t i = 0; i < n; i++)
		if (engine_fds[i] >= 0)
			out[na++] = engine_fds[i];
	return na;
}

int worker_sandbox_fd_check(const int *engine_fds, size_t n, char *err, size_t len)
{
	int allowed[MAIN_MAX_FDS + WORKER_SB_MAX_FDS];
	if (n > WORKER_SB_MAX_FDS) {
		snprintf(err, len, "sandbox: %zu engine fds exceed the worker's limit of %d", n,
			 WORKER_SB_MAX_FDS);
		return -E2BIG;
	}
	size_t na = allowed_fds(engine_fds, n, allowed);
	return sandbox_fd_inventory_check(allowed, na, err, len);
}

int worker_sandbox_prepare(unsigned ns_flags, char *err, size_t len)
{
	unsigned entered = 0;
	int ret = sandbox_enter_namespaces(ns_flags, false, &entered, err, len);
	if (ret < 0)
		return ret;
	/* Dropped here, not only at confinement, so a child (QEMU) is exec'd
	 * with no capability and threads start without any (capabilities and
	 * no_new_privs are per thread, inherited at creation). The user
	 * namespace granted a full set inside it a moment ago: that is what is
	 * dropped. no_new_privs: no setuid or file capability can give one
	 * back through an exec. */
	ret = sandbox_drop_caps(NULL, 0);
	if (ret < 0) {
		snprintf(err, len, "sandbox: dropping capabilities before the guest starts failed: %s",
			 strerror(-ret));
		return ret;
	}
	ret = sandbox_no_new_privs();
	if (ret < 0) {
		snprintf(err, len, "sandbox: PR_SET_NO_NEW_PRIVS failed: %s (need Linux >= 3.5)",
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int worker_sandbox_confine(pid_t child_pid, const int *engine_fds, size_t n, unsigned policy_flags,
			   char *err, size_t len)
{
	int allowed[MAIN_MAX_FDS + WORKER_SB_MAX_FDS];
	struct sandbox_opts o;

	sandbox_opts_init(&o);
	if (engine_fds) {
		if (n > WORKER_SB_MAX_FDS) {
			snprintf(err, len, "sandbox: %zu engine fds exceed the worker's limit of %d",
				 n, WORKER_SB_MAX_FDS);
			return -E2BIG;
		}
		o.allowed_fds = allowed;
		o.n_allowed_fds = allowed_fds(engine_fds, n, allowed);
	}
	o.ns_flags = 0; /* entered by worker_sandbox_prepare() */
	o.policy_flags = policy_flags;
	o.child_pid = child_pid;
	int ret = sandbox_confine(SANDBOX_ROLE_WORKER_CTL, &o, err, len);
	if (ret == 0)
		confined = true;
	return ret;
}
