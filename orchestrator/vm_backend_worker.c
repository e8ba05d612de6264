/* The production vm_backend: one ktstr-vmm-worker per VM via worker_client. */
#include "vm_backend_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker_client.h"

static void forward_event(void *arg, const Ktstr__WorkerEvent *ev)
{
	const struct vm_job *job = arg;

	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && job->on_output && ev->output)
		job->on_output(job->on_output_arg, ev->output->port, ev->output->data.data,
			       ev->output->data.len);
}

static int worker_backend_run(struct vm_backend *b, const struct vm_job *job,
			      struct vm_cancel *cancel, struct vm_job_result *out)
{
	const struct vm_backend_worker_cfg *cfg = b->ctx;
	struct worker_fds fds = { .kernel_fd = job->kernel_fd, .initrd_fd = job->initrd_fd,
				  .stdin_fd = job->stdin_fd, .stdout_fd = job->stdout_fd };
	struct worker_client_opts o = {
		.worker_path = cfg ? cfg->worker_path : NULL,
		.stderr_fd = cfg && cfg->quiet_workers ? -1 : -2,
		.on_event = job->on_output ? forward_event : NULL,
		.ctx = (void *)job,
		/* worker_client polls this flag and sends StopVm once. */
		.stop = &cancel->requested,
	};
	struct worker_outcome wo;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = worker_run_vm(job->spec, &fds, &o, &wo);
	if (ret) {
		snprintf(out->error, sizeof(out->error), "could not start a VM worker for %s: %s",
			 job->label, strerror(-ret));
		return 0;
	}
	if (wo.infra_error) {
		char text[sizeof(wo.error) + 16];

		ktstr_error_format(&wo.error, text, sizeof(text));
		/* Cut to the field: the whole record stays in the result. */
		snprintf(out->error, sizeof(out->error), "VM worker failed: %.1000s", text);
		out->infra = true;
	}
	/* One direction, no copy: the worker's (or the synthesized) result,
	 * with its structured error, passes to the run loop. */
	out->result = worker_outcome_take_result(&wo);
	if (!out->result && !out->infra)
		snprintf(out->error, sizeof(out->error), "out of memory keeping the VM result");
	worker_outcome_free(&wo);
	return 0;
}

void vm_backend_worker_init(struct vm_backend *b, const struct vm_backend_worker_cfg *cfg)
{
	b->run = worker_backend_run;
	b->ctx = (void *)cfg;
}
