/* ENGINE_KVM on an aarch64 host: the worker's entry to the KVM engine
 * (engine.h). The arm64 KVM engine's machine, vCPUs and exits exist
 * (a64_machine.c, a64_threads.c; docs/aarch64.md, "The arm64 KVM engine"),
 * but what kvm/kvm_engine.c does around them for x86 (the VmSpec's inputs
 * read into a64_machine_spec, guest_cmdline_build_arm64_kvm, the watchdog
 * and StopVm, capture frames from the UARTs, ring draining, per-thread
 * seccomp, the VmResult figures) is not written yet. Until it is, the
 * engine refuses every VM with that reason instead of the worker failing to
 * link on aarch64; engine_arch_check already refuses engine KVM for an
 * arm64 guest before this is reached, so only an x86_64 guest on an aarch64
 * host with KVM (which KVM cannot run either) ends here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/error.h>

#include "engine.h"

int kvm_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end)
{
	(void)cap;
	memset(end, 0, sizeof(*end));
	vm_monitor_init(&end->monitor);
	end->engine = KTSTR__ENGINE__ENGINE_KVM;
	snprintf(end->engine_detail, sizeof(end->engine_detail), "kvm");
	end->outcome = KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
	return ktstr_error_set(&end->error, ENOTSUP, "KVM engine on an aarch64 host", NULL,
			       "use engine QEMU (docs/aarch64.md, \"The arm64 KVM engine\")",
			       "cannot run this %s guest: the arm64 KVM engine is not yet wired "
			       "into the worker, and KVM runs only guests of the host's "
			       "architecture", engine_guest_arch(in->spec->arch));
}
