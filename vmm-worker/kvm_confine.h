/* The confinement steps a KVM engine's control thread takes (x86_64
 * kvm/kvm_engine.c, aarch64 aarch64/a64_engine.c; docs/security.md, "KVM
 * engine"): around the vCPU threads' own policies (vcpu_pool.h), in this
 * order: kvm_confine_prepare (fd inventory, namespaces, no capabilities,
 * no_new_privs, while single-threaded), the vCPU threads start and load
 * WORKER_VCPU, kvm_confine_ctl (wait for them, then WORKER_CTL on this
 * thread only), the gate opens. who names the engine in messages; errors
 * are written into err (ktstr/error.h) and returned as -errno. */
#ifndef KTSTR_WORKER_KVM_CONFINE_H
#define KTSTR_WORKER_KVM_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/error.h>

#include "perf.h"
#include "vcpu_pool.h"

/* fds: the engine's own (VM, vCPUs, devices), n of them, beside main.c's. */
int kvm_confine_prepare(const char *who, const int *fds, size_t n, struct ktstr_error *err);
int kvm_confine_ctl(const char *who, struct vcpu_pool *pool, struct ktstr_error *err);
/* A vcpu_pool prepare's body, on vCPU thread index before its first
 * KVM_RUN and after every setup ioctl: performance mode (vperf non-NULL:
 * vperf[index] records it), then, when confine, the thread's own
 * WORKER_VCPU policy, so nothing the guest does reaches a syscall the
 * policy does not name. 0 or -errno with why in err. */
int kvm_confine_vcpu(const Ktstr__VmSpec *spec, uint32_t ncpus, uint32_t index,
		     struct perf_thread *vperf, bool confine, char *err, size_t len);

#endif
