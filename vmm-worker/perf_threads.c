/* Performance mode for a KVM engine's threads (perf.h): the control
 * thread's service CPU, each vCPU's own CPU and SCHED_FIFO, and the report
 * of what was applied. Shared by the x86_64 and aarch64 KVM engines. */
#include <string.h>

#include "perf.h"

void perf_vcpu_apply(const Ktstr__VmSpec *spec, uint32_t ncpus, uint32_t index,
		     struct perf_thread *t)
{
	bool pin = spec->n_pin_cpus == ncpus;

	perf_thread_apply(pin, pin ? spec->pin_cpus[index] : 0, PERF_RT_VCPU, &t->pin_err,
			  &t->rt_err);
	t->done = true;
}

void perf_service_apply(const Ktstr__VmSpec *spec, struct perf_report *p)
{
	int pin_err, rt_err;

	perf_thread_apply(spec->has_service_cpu, spec->service_cpu, PERF_RT_SERVICE, &pin_err,
			  &rt_err);
	p->service_pinned = spec->has_service_cpu && !pin_err;
	p->service_rt = !rt_err;
	if (!spec->has_service_cpu)
		perf_note(p, true, "no service_cpu: the control thread is not pinned and may share "
			  "a vCPU's host CPU (ktstr-orch reserves one)");
	else if (pin_err)
		perf_note(p, true, "pinning the control thread to CPU %u: %s; use a CPU in this "
			  "process's affinity mask (taskset/cgroup cpuset)", spec->service_cpu,
			  strerror(pin_err));
	if (rt_err)
		perf_note(p, true, "SCHED_FIFO %d for the control thread: %s; %s", PERF_RT_SERVICE,
			  strerror(rt_err), perf_rt_hint(rt_err));
}

void perf_fold_vcpus(const Ktstr__VmSpec *spec, uint32_t ncpus, const struct perf_thread *t,
		     struct perf_report *p)
{
	bool pinned = spec->n_pin_cpus == ncpus, rt = true, any = false;

	for (uint32_t i = 0; t && i < ncpus; i++) {
		const struct perf_thread *v = &t[i];

		if (!v->done) {
			pinned = rt = false;
			continue;
		}
		any = true;
		if (v->pin_err && pinned)
			perf_note(p, true, "pinning vCPU %u to host CPU %u: %s; use CPUs in this "
				  "process's affinity mask", i, spec->pin_cpus[i], strerror(v->pin_err));
		if (v->rt_err && rt)
			perf_note(p, true, "SCHED_FIFO %d for vCPU %u: %s; %s", PERF_RT_VCPU, i,
				  strerror(v->rt_err), perf_rt_hint(v->rt_err));
		pinned &= !v->pin_err;
		rt &= !v->rt_err;
	}
	if (!spec->n_pin_cpus)
		perf_note(p, true, "no pin_cpus: vCPU threads float over the host's CPUs");
	p->pinned = any && pinned;
	p->rt = any && rt;
}
