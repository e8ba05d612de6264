/* Which engine can run a stock kernel here: only hardware KVM boots Linux
 * (include/ktstr/hostkvm.h says what /dev/kvm is), so AUTO never picks
 * kvm_pvm, whose emulator fails on ordinary kernels. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/hostkvm.h>

#include "engine.h"

const char *kvm_engine_kind(void)
{
	const char *k = ktstr_kvm_kind();
	int fd;

	if (!ktstr_kvm_is_hardware(k))
		return k;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "no-access";
	close(fd);
	return k;
}

Ktstr__Engine engine_choose(Ktstr__Engine requested)
{
	if (requested == KTSTR__ENGINE__ENGINE_KVM || requested == KTSTR__ENGINE__ENGINE_QEMU)
		return requested;
	if (ktstr_kvm_is_hardware(kvm_engine_kind()))
		return KTSTR__ENGINE__ENGINE_KVM;
	return KTSTR__ENGINE__ENGINE_QEMU;
}

const char *engine_host_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#else
	return "unknown";
#endif
}

const char *engine_guest_arch(Ktstr__Arch arch)
{
	return arch == KTSTR__ARCH__ARCH_ARM64 ? "arm64" : "x86_64";
}

int engine_arch_check(const Ktstr__VmSpec *spec, char *why, size_t len)
{
	const char *host = engine_host_arch(), *guest = engine_guest_arch(spec->arch);

	if (spec->arch != KTSTR__ARCH__ARCH_X86_64 && spec->arch != KTSTR__ARCH__ARCH_ARM64) {
		snprintf(why, len, "unknown guest architecture %d: this worker runs x86_64 and "
			 "arm64 guests", (int)spec->arch);
		return -EINVAL;
	}
	if (spec->arch != KTSTR__ARCH__ARCH_ARM64)
		return 0;
	/* KVM runs guests of the host's own architecture only, and the
	 * arm64 KVM engine (vmm-worker/aarch64/) is not yet wired into the
	 * worker's run loop (docs/aarch64.md, "The arm64 KVM engine"). */
	if (spec->engine == KTSTR__ENGINE__ENGINE_KVM) {
		snprintf(why, len,
			 "engine KVM cannot run an %s guest on this %s host: %s; use engine QEMU "
			 "(or AUTO), which runs it under qemu-system-aarch64 (TCG)",
			 guest, host,
			 strcmp(host, "aarch64") ? "KVM runs only guests of the host's architecture"
						 : "ktstr's arm64 KVM engine is not yet wired into the worker");
		return -ENOTSUP;
	}
	/* The host-side monitor reads guest memory with an x86_64 kernel
	 * layout (docs/monitor.md): it has no arm64 reading. */
	if (spec->kernel_layout || spec->monitor) {
		snprintf(why, len,
			 "the host-side monitor (kernel_layout/monitor) reads x86_64 guest kernels "
			 "only; an arm64 VmSpec must not carry them (the orchestrator sends none)");
		return -ENOTSUP;
	}
	return 0;
}

Ktstr__Engine engine_choose_arch(Ktstr__Engine requested, Ktstr__Arch arch)
{
	/* engine_arch_check refused KVM for an arm64 guest: AUTO is QEMU. */
	if (arch == KTSTR__ARCH__ARCH_ARM64)
		return KTSTR__ENGINE__ENGINE_QEMU;
	return engine_choose(requested);
}

struct ktstr_topo vm_spec_topo(const Ktstr__VmSpec *spec)
{
	const Ktstr__Topology *t = spec->topology;

	return (struct ktstr_topo){ t->numa_nodes, t->llcs, t->cores_per_llc,
				    t->threads_per_core };
}
