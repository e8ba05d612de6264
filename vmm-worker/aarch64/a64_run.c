/* One arm64 vCPU's run loop (a64_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "a64_sys.h"
#include "a64_vm.h"

int a64_vcpu_loop(struct a64_vm *vm, uint32_t cpu, const atomic_bool *stop,
		  enum a64_exit_result *res, char *err, size_t errlen)
{
	*res = A64_EXIT_CONTINUE;
	while (!(stop && atomic_load(stop))) {
		int rc = a64_run(vm->vcpu_fd[cpu]);
		if (rc == -EINTR || rc == -EAGAIN)
			continue; /* kicked: look at stop */
		if (rc < 0) {
			snprintf(err, errlen, "vCPU %u: KVM_RUN: %s", cpu, strerror(-rc));
			return rc;
		}
		*res = a64_handle_exit(vm, cpu, err, errlen);
		if (*res != A64_EXIT_CONTINUE)
			return 0;
	}
	return 0;
}
