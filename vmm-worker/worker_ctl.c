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
