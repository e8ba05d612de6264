/* Host CPUs for performance-mode VMs within one run (VmSpec.pin_cpus +
 * service_cpu): each running perf VM holds vCPUs + 1 CPUs of its own, taken
 * from the CPUs this process may use and released when the VM ends, so the
 * run never starts more perf VMs at once than its CPUs hold. Host-wide, the
 * worker backend then admits each one into whole LLCs no other run uses and
 * sends those CPUs instead (hostres.h, docs/farms.md). */
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
