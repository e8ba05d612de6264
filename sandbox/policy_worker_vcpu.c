/* Seccomp policy of a ktstr-vmm-worker vCPU thread (KVM engine).
 *
 * A vCPU thread runs guest code: from its first KVM_RUN it is treated as
 * hostile (Firecracker's model). It may only run the vCPU, read the state
 * that exit handling needs (fault RIP and instruction bytes), raise the
 * serial interrupt lines (in-kernel irqchip, or MSIs from the user-space
 * IOAPIC in split mode), and use the base rules (memory, locks, clocks,
 * exit). It cannot open, exec, connect, fork or touch another process.
 *
 * The thread loads this itself, right before its first KVM_RUN, after the
 * control thread loaded nothing with TSYNC (filters stack; a vCPU thread
 * inheriting the control filter would be limited to the intersection). */
#include <sys/syscall.h>
#include <linux/kvm.h>

#include <ktstr/util.h>

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
	/* Split irqchip (APIC IDs > 254): the IOAPIC is ours (vmm-worker/
	 * ioapic.c) and runs on the vCPU thread whose exit raised a line,
	 * programmed an entry or EOI'd. Both ioctls act on this VM only and
	 * can do no more than the guest itself can (it may send IPIs/MSIs to
	 * its own vCPUs); neither creates fds or memory. */
	SB_ALLOW_IF(ioctl, "IOAPIC (split irqchip): deliver an interrupt as an MSI",
		    SB_EQ32(1, KVM_SIGNAL_MSI)),
	SB_ALLOW_IF(ioctl, "IOAPIC (split irqchip): mirror level entries as MSI routes so KVM "
		    "exits on their EOI", SB_EQ32(1, KVM_SET_GSI_ROUTING)),
#elif defined(__aarch64__)
	/* The arm64 KVM engine (vmm-worker/aarch64/): everything else it asks
	 * of KVM (VCPU_INIT, SET_ONE_REG, the GIC device and its attributes,
	 * memory slots) happens before any vCPU thread confines itself. None
	 * of x86's (GET_REGS/SREGS, TRANSLATE, MSI routing) exist here. */
	SB_ALLOW_IF(ioctl, "vCPU loop: run the guest", SB_EQ32(1, KVM_RUN)),
	SB_ALLOW_IF(ioctl, "exit handling: the PC for error reports (a64_vcpu_pc)",
		    SB_EQ32(1, KVM_GET_ONE_REG)),
	SB_ALLOW_IF(ioctl, "serial emulation: raise/lower the UARTs' SPIs 1 and 2 (GICv3)",
		    SB_EQ32(1, KVM_IRQ_LINE)),
#endif
};

const struct sandbox_policy sandbox_policy_worker_vcpu = {
	.role = SANDBOX_ROLE_WORKER_VCPU,
	.name = "worker-vcpu",
	.rules = vcpu_rules,
	.nrules = ARRAY_SIZE(vcpu_rules),
};
