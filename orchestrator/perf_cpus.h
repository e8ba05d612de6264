/* Host CPUs for performance-mode VMs within one run (VmSpec.pin_cpus +
 * service_cpu), for a backend that does not place them itself
 * (vm_backend.places_cpus false: the unit tests' scripted backends).
 * Each running perf VM holds vCPUs + 1 CPUs of its own, taken from the CPUs
 * this process may use and released when the VM ends, so the run never
 * starts more perf VMs at once than its CPUs hold.
 *
 * `ktstr-orch run` never uses it: its worker backend admits every
 * performance-mode VM host-wide into whole LLCs no other run or VM uses
 * (hostres.h, docs/farms.md), which covers this run's own VMs too; a
 * second, in-process reservation in front of it would only pin CPUs the
 * host reservation then replaces, and wait without the host's bound. */
#ifndef KTSTR_ORCH_PERF_CPUS_H
#define KTSTR_ORCH_PERF_CPUS_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

/* The longest a perf VM waits for CPUs others of its run hold, unless the
 * caller asks for less: as long as the host reservation's default wait
 * (HOSTRES_TIMEOUT_DEFAULT_S), so the two paths bound alike. */
#define PERF_CPUS_WAIT_DEFAULT_MS (600u * 1000)
/* How often a waiter re-checks its stop flag. */
#define PERF_CPUS_TICK_MS 100

/* Pick need free CPUs from usable minus busy, lowest first; out[0..need-2]
 * are the vCPU pins, out[need-1] the service CPU. Marks them busy.
 * Returns 0, -EBUSY (enough CPUs exist but others hold them: wait and
 * retry) or -ENOSPC (usable never has need CPUs: cannot ever run). */
int perf_cpus_pick(const cpu_set_t *usable, cpu_set_t *busy, unsigned need, uint32_t *out);
/* Give n CPUs back. */
void perf_cpus_release(cpu_set_t *busy, const uint32_t *cpus, unsigned n);

/* The run's pool: usable and busy under mu; freed signalled on each give. */
struct perf_cpus {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	cpu_set_t usable, busy;
};

/* usable NULL = this thread's affinity (all online CPUs if unreadable). */
void perf_cpus_init(struct perf_cpus *p, const cpu_set_t *usable);
void perf_cpus_destroy(struct perf_cpus *p);
/* perf_cpus_pick, waiting while others hold the CPUs: at most wait_ms,
 * re-checking *stop (may be NULL) every PERF_CPUS_TICK_MS. Returns 0,
 * -ETIMEDOUT (still held after wait_ms), -EINTR (*stop set), -ENOSPC,
 * -EINVAL. */
int perf_cpus_reserve(struct perf_cpus *p, unsigned need, uint32_t *out, uint32_t wait_ms,
		      volatile int *stop);
/* Give n CPUs back and wake the waiters. */
void perf_cpus_give(struct perf_cpus *p, const uint32_t *cpus, unsigned n);

#endif
