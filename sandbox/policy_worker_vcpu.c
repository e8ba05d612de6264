/* Seccomp policy of a ktstr-vmm-worker vCPU thread (KVM engine).
 *
 * A vCPU thread runs guest code: from its first KVM_RUN it is treated as
 * hostile (Firecracker's model). It may only run the vCPU, read the state
 * that exit handling needs (fault RIP and instruction bytes), raise the
 * serial interrupt lines, and use the base rules (memory, locks, clocks,
 * exit). It cannot open, exec, connect, fork or touch another process.
 *
 * The thread loads this itself, right before its first KVM_RUN, after the
 * control thread loaded nothing with TSYNC (filters stack; a vCPU thread
 * inheriting the control filter would be limited to the intersection). */
#include <sys/syscall.h>
#include <linux/kvm.h>

#include "policy.h"

static const struct sandbox_rule vcpu_rules[] = {
#if defined(__x86_64__)
	SB_ALLOW_IF(ioctl, "vCPU loop: run the guest", SB_EQ32(1, KVM_RUN)),
	SB_ALLOW_IF(ioctl, "exit handling: RIP/registers for fault reports", SB_EQ32(1, KVM_GET_REGS)),
	SB_ALLOW_IF(ioctl, "exit handling: CR0/CR3/segments to read fault bytes",
		    SB_EQ32(1, KVM_GET_SREGS)),
	SB_ALLOW_IF(ioctl, "exit handling: guest RIP -> GPA for fault_insn", SB_EQ32(1, KVM_TRANSLATE)),
	SB_ALLOW_IF(ioctl, "serial emulation: raise/lower IRQ3/IRQ4 on THR empty",
		    SB_EQ32(1, KVM_IRQ_LINE)),
	SB_ALLOW_IF(ioctl, "serial emulation: raise/lower IRQ3/IRQ4 (status variant)",
		    SB_EQ32(1, KVM_IRQ_LINE_STATUS)),
#endif
};

const struct sandbox_policy sandbox_policy_worker_vcpu = {
	.role = SANDBOX_ROLE_WORKER_VCPU,
	.name = "worker-vcpu",
	.rules = vcpu_rules,
	.nrules = sizeof(vcpu_rules) / sizeof(vcpu_rules[0]),
};
