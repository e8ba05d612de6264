/* A KVM engine's confinement steps (kvm_confine.h). */
#include <stdio.h>

#include "kvm_confine.h"
#include "ktstr/log.h"
#include "sandbox.h"
#include "worker_sandbox.h"

static int sandbox_fail(const char *who, struct ktstr_error *err, int r, const char *step,
			const char *why)
{
	char full[768]; /* logged whole; the VmResult keeps the first 255 bytes */

	snprintf(full, sizeof(full), "%s: %s: %.640s", who, step, why);
	kerr("%s", full);
	return ktstr_error_set(err, -r, WORKER_SB_WHAT, NULL, WORKER_SB_HINT, "%s", full);
}

int kvm_confine_prepare(const char *who, const int *fds, size_t n, struct ktstr_error *err)
{
	char why[640];
	int r;

	/* Now: the empty root below hides /proc, where the check looks. */
	r = worker_sandbox_fd_check(fds, n, why, sizeof(why));
	if (r < 0)
		return sandbox_fail(who, err, r, "fd inventory before confinement", why);
	r = worker_sandbox_prepare(SANDBOX_NS_DEFAULT | SANDBOX_NS_EMPTY_ROOT, why, sizeof(why));
	if (r < 0)
		return sandbox_fail(who, err, r, "namespaces/capabilities", why);
	return 0;
}

int kvm_confine_ctl(const char *who, struct vcpu_pool *pool, struct ktstr_error *err)
{
	char why[640];
	int r;

	r = vcpu_pool_wait_prepared(pool, why, sizeof(why));
	if (r < 0)
		return sandbox_fail(who, err, r, "vCPU thread policy (worker-vcpu)", why);
	/* engine_fds NULL: the inventory was checked before the empty root. */
	r = worker_sandbox_confine(0, NULL, 0, 0, why, sizeof(why));
	if (r < 0)
		return sandbox_fail(who, err, r, "control thread policy (worker-ctl)", why);
	kinfo("%s: worker confined (control thread %s, %u vCPU threads %s, no capabilities, own "
	      "user/mount/net/ipc/uts namespaces, empty root)", who,
	      sandbox_role_name(SANDBOX_ROLE_WORKER_CTL), pool->n,
	      sandbox_role_name(SANDBOX_ROLE_WORKER_VCPU));
	return 0;
}

int kvm_confine_vcpu(const Ktstr__VmSpec *spec, uint32_t ncpus, uint32_t index,
		     struct perf_thread *vperf, bool confine, char *err, size_t len)
{
	if (vperf)
		perf_vcpu_apply(spec, ncpus, index, &vperf[index]);
	return confine ? sandbox_load_policy(SANDBOX_ROLE_WORKER_VCPU, 0, NULL, err, len) : 0;
}
