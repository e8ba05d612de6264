/* The production vm_backend: one ktstr-vmm-worker per VM via worker_client. */
#include "vm_backend_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostres.h"
#include "worker_client.h"

static void forward_event(void *arg, const Ktstr__WorkerEvent *ev)
{
	const struct vm_job *job = arg;

	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && job->on_output && ev->output)
		job->on_output(job->on_output_arg, ev->output->port, ev->output->data.data,
			       ev->output->data.len);
}

/* A VM admitted by the host reservation: its share, and the spec as sent
 * (a shallow copy of the job's; a performance-mode VM's pins replaced by
 * CPUs of its reserved LLCs, owned here). */
struct admitted {
	struct hostres_vm vm;
	Ktstr__VmSpec spec;
	uint32_t *pins;
};

/* Admit job's VM (waiting, bounded, as hostres_vm_acquire) and pin its
 * worker. Returns 0, or -errno with out->error set and out->infra true:
 * contention is an infrastructure error, never a pass (docs/farms.md). */
static int admit(struct hostres *hr, const struct vm_job *job, struct vm_cancel *cancel,
		 struct admitted *a, struct vm_job_result *out)
{
	const Ktstr__VmSpec *s = job->spec;
	const Ktstr__Topology *t = s->topology;
	uint64_t vcpus = t ? (uint64_t)t->llcs * t->cores_per_llc * t->threads_per_core : 0;
	bool perf = s->has_performance_mode && s->performance_mode;
	char err[sizeof(out->error)];
	unsigned k = 0;
	int ret;

	a->spec = *s;
	a->pins = NULL;
	ret = hostres_vm_acquire(hr, vcpus > UINT32_MAX ? 0 : (unsigned)vcpus, perf, s->memory_mb,
				 &cancel->requested, &a->vm, err, sizeof(err));
	if (ret) {
		snprintf(out->error, sizeof(out->error), "%s", err);
		out->infra = true;
		return ret;
	}
	if (!perf)
		return 0;
	/* vCPU i on the i-th CPU of the LLCs, the service CPU after them
	 * (hostres_place_whole_llcs gives at least vcpus + 1). */
	a->pins = calloc(vcpus + 1, sizeof(*a->pins));
	if (!a->pins) {
		hostres_vm_release(hr, &a->vm);
		snprintf(out->error, sizeof(out->error), "%s: out of memory", job->label);
		out->infra = true;
		return -ENOMEM;
	}
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS && k <= vcpus; c++)
		if (cpuset_has(&a->vm.cpus, c))
			a->pins[k++] = c;
	a->spec.n_pin_cpus = vcpus;
	a->spec.pin_cpus = a->pins;
	a->spec.has_service_cpu = 1;
	a->spec.service_cpu = a->pins[vcpus];
	return 0;
}

static int worker_backend_run(struct vm_backend *b, const struct vm_job *job,
			      struct vm_cancel *cancel, struct vm_job_result *out)
{
	const struct vm_backend_worker_cfg *cfg = b->ctx;
	struct hostres *hr = cfg ? cfg->hostres : NULL;
	struct admitted a;
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
	if (hr) {
		if (admit(hr, job, cancel, &a, out))
			return 0;
		o.affinity = a.vm.pinned ? &a.vm.affinity : NULL;
	}
	ret = worker_run_vm(hr ? &a.spec : job->spec, &fds, &o, &wo);
	if (hr) {
		hostres_vm_release(hr, &a.vm);
		free(a.pins);
	}
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
	b->places_cpus = cfg && cfg->hostres;
}
