/* What /dev/kvm is on this host, decided in one place for the orchestrator
 * (planning, preflight) and the worker (engine choice, QEMU acceleration).
 *
 * Only hardware KVM (a CPU with svm or vmx) boots a stock Linux kernel.
 * kvm_pvm, a software KVM for PVM-enlightened guests, also exposes /dev/kvm;
 * stock kernels die in its instruction emulator (docs/architecture.md,
 * "Hosts"). Nothing here opens /dev/kvm. */
#ifndef KTSTR_HOSTKVM_H
#define KTSTR_HOSTKVM_H

#include <stdbool.h>

#define KTSTR_KVM_ABSENT "absent"		/* no /dev/kvm */
#define KTSTR_KVM_PVM "kvm_pvm"			/* the kvm_pvm module is loaded */
#define KTSTR_KVM_HW_SVM "hardware-svm"
#define KTSTR_KVM_HW_VMX "hardware-vmx"
#define KTSTR_KVM_NOT_HW "not-hardware"		/* /dev/kvm, but no svm/vmx CPU flag */

/* One of the strings above for the host below root ("" = this host):
 * root/dev/kvm, root/sys/module/kvm_pvm, root/proc/cpuinfo. Static storage. */
const char *ktstr_kvm_kind_at(const char *root);
static inline const char *ktstr_kvm_kind(void)
{
	return ktstr_kvm_kind_at("");
}
/* True for the hardware-* kinds: the only ones that boot Linux. */
bool ktstr_kvm_is_hardware(const char *kind);

#endif
