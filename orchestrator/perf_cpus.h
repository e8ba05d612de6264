/* Host CPUs for performance-mode VMs (VmSpec.pin_cpus + service_cpu): each
 * running perf VM holds vCPUs + 1 host CPUs of its own, taken from the CPUs
 * this process may use and released when the VM ends, so two concurrent
 * perf VMs never share a CPU. Non-performance VMs are not pinned and may
 * still run anywhere (docs/suite-format.md, performance_mode). */
#ifndef KTSTR_ORCH_PERF_CPUS_H
#define KTSTR_ORCH_PERF_CPUS_H

#include <sched.h>
#include <stdint.h>

/* Pick need free CPUs from usable minus busy, lowest first; out[0..need-2]
 * are the vCPU pins, out[need-1] the service CPU. Marks them busy.
 * Returns 0, -EBUSY (enough CPUs exist but others hold them: wait and
 * retry) or -ENOSPC (usable never has need CPUs: cannot ever run). */
int perf_cpus_pick(const cpu_set_t *usable, cpu_set_t *busy, unsigned need, uint32_t *out);
/* Give n CPUs back. */
void perf_cpus_release(cpu_set_t *busy, const uint32_t *cpus, unsigned n);

#endif
