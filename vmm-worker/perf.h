/* Performance mode (VmSpec.performance_mode): the host-side isolation and
 * guest hints a low-noise measurement needs, each applied where the host
 * allows it and otherwise skipped with a warning that says what to do
 * (docs/vmm-kvm.md, "Performance mode"). What was applied travels back in
 * VmResult.perf, so a report never claims an isolation that did not happen.
 *
 * Everything here that needs privilege or a syscall outside the worker's
 * seccomp policies runs before confinement: guest RAM mapping and mbind in
 * setup, the control thread's affinity and SCHED_FIFO before
 * worker_sandbox_prepare drops capabilities, and each vCPU thread's own
 * affinity/SCHED_FIFO before it loads WORKER_VCPU. No policy rule is needed. */
#ifndef KTSTR_WORKER_PERF_H
#define KTSTR_WORKER_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.pb-c.h"

#define PERF_HUGEPAGE_SIZE (2ull << 20)
#define PERF_NOTES_MAX 16
#define PERF_NOTE_LEN 320
/* SCHED_FIFO priorities: vCPUs below the control thread, so the watchdog
 * and the serial drain still run when a vCPU spins. */
#define PERF_RT_VCPU 1
#define PERF_RT_SERVICE 2
/* KVM_X86_DISABLE_EXITS_* bits performance mode asks for, in the order they
 * are enabled (one KVM_ENABLE_CAP each: a KVM that refuses one keeps the
 * other). MWAIT/CSTATE stay: they change what the guest's idle loop does. */
#define PERF_EXIT_PAUSE (1u << 2) /* KVM_X86_DISABLE_EXITS_PAUSE */
#define PERF_EXIT_HLT (1u << 1)	  /* KVM_X86_DISABLE_EXITS_HLT */

/* What performance mode achieved; lives in struct vm_end (engine.h). Written
 * by the engine's control thread only (vCPU threads report into their own
 * struct and the engine folds them in after the join). */
struct perf_report {
	bool requested;
	bool pinned, service_pinned, hugepages, mbind, rt, service_rt, realtime_hint,
		halt_poll_unset;
	uint32_t exits_disabled;
	char notes[PERF_NOTES_MAX][PERF_NOTE_LEN];
	unsigned nnotes;
};

/* Record a degradation or no-op and log it (warn = kwarn, else kdbg). Notes
 * past PERF_NOTES_MAX are logged only. */
void perf_note(struct perf_report *p, bool warn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Check pin_cpus/service_cpu against the VM: either no pins, or exactly one
 * per vCPU, all distinct, below CPU_SETSIZE, and service_cpu (when set) not
 * among them. Returns 0 or -EINVAL with why. */
int perf_check_pins(const uint32_t *pins, size_t npins, uint32_t ncpus, bool has_service,
		    uint32_t service, char *why, size_t len);

/* Bytes to map for size bytes of hugepage-backed RAM (2 MiB multiple). */
uint64_t perf_huge_round(uint64_t size);
/* 2 MiB hugepages that size bytes of guest RAM need: ceil(MiB / 2). */
uint64_t perf_hugepages_needed(uint64_t size);

/* Anonymous private RAM of size bytes (*map_size = what to munmap later).
 * want_huge: try MAP_HUGETLB 2 MiB pages first (reserved at mmap time, so
 * "none free" shows here and not as a SIGBUS later); when the kernel refuses,
 * fall back to normal pages, note how to reserve them (p may be NULL) and
 * leave *huge false. Returns the mapping (caller owns it) or NULL (errno). */
void *perf_map_ram(uint64_t size, bool want_huge, bool *huge, uint64_t *map_size,
		   struct perf_report *p);

/* The separate KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) calls to make,
 * given KVM_CHECK_EXTENSION's mask (< 0: the capability is unknown): PAUSE
 * first, then HLT, only the ones KVM reports. Returns how many (<= 2). */
unsigned perf_exit_plan(int supported, uint32_t plan[2]);

/* Host NUMA node of each guest node for mbind: the node of the host CPU
 * that the guest node's first vCPU with a known host node is pinned to. cpu_node(cpu) returns a host
 * CPU's node or -1; out[g] = -1 where unknown (no pins, unknown CPU).
 * vcpu_node[i] is vCPU i's guest node. */
void perf_node_map(const uint32_t *vcpu_node, uint32_t ncpus, const uint32_t *pins, size_t npins,
		   int (*cpu_node)(uint32_t cpu), uint32_t guest_nodes, int *out);
/* From sysfs (/sys/devices/system/cpu/cpuN/nodeM); -1 when unknown. */
int perf_sysfs_cpu_node(uint32_t cpu);
/* Number of online host nodes (sysfs), 1 when unknown. */
int perf_sysfs_host_nodes(void);
/* mbind(MPOL_BIND) [addr, addr+len) to host node (raw syscall: libnuma is
 * not a dependency). Returns 0 or -errno. */
int perf_mbind(void *addr, uint64_t len, int node);

/* Pin the calling thread to cpu (when pin) and set SCHED_FIFO prio (when
 * prio > 0). *pin_err / *rt_err: 0 = applied, else the positive errno.
 * Touches no shared state: vCPU threads call it before their filter. */
void perf_thread_apply(bool pin, uint32_t cpu, int prio, int *pin_err, int *rt_err);
/* The fix for a SCHED_FIFO failure (err = positive errno). */
const char *perf_rt_hint(int err);

/* What one vCPU thread applied to itself in performance mode. */
struct perf_thread {
	bool done;	     /* it got that far (read after the join) */
	int pin_err, rt_err; /* 0 or errno */
};
/* On vCPU thread index, before its seccomp policy (which allows neither
 * call): onto its own host CPU (spec->pin_cpus[index] when the spec pins
 * every vCPU) at SCHED_FIFO PERF_RT_VCPU. A FIFO PERF_RT_SERVICE inherited
 * from the control thread is lowered, which needs no privilege. */
void perf_vcpu_apply(const Ktstr__VmSpec *spec, uint32_t ncpus, uint32_t index,
		     struct perf_thread *t);
/* On the control thread, before confinement (affinity and SCHED_FIFO need
 * no seccomp rule then, and CAP_SYS_NICE is still there): onto the service
 * CPU at SCHED_FIFO PERF_RT_SERVICE, with notes in p for what failed. vCPU
 * threads inherit both, then move (perf_vcpu_apply). */
void perf_service_apply(const Ktstr__VmSpec *spec, struct perf_report *p);
/* After the join: fold what each vCPU thread applied (ncpus entries of t)
 * into p (pinned, rt, notes). */
void perf_fold_vcpus(const Ktstr__VmSpec *spec, uint32_t ncpus, const struct perf_thread *t,
		     struct perf_report *p);

/* Fill VmResult.perf from r (storage in *out and *notes, owned by the
 * caller and valid while the VmResult is). */
void perf_fill_result(const struct perf_report *r, Ktstr__PerfModeReport *out,
		      char *notes[PERF_NOTES_MAX]);

#endif
