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

/* The guest architecture KVM on a host_arch host runs ("x86_64" hosts run
 * x86_64 guests, "aarch64" hosts arm64 ones), or -1 for another host. */
static int kvm_guest_arch(const char *host_arch)
{
	if (!strcmp(host_arch, "x86_64"))
		return KTSTR__ARCH__ARCH_X86_64;
	if (!strcmp(host_arch, "aarch64"))
		return KTSTR__ARCH__ARCH_ARM64;
	return -1;
}

int engine_arch_check_on(const char *host, const Ktstr__VmSpec *spec, char *why, size_t len)
{
	const char *guest = engine_guest_arch(spec->arch);

	if (spec->arch != KTSTR__ARCH__ARCH_X86_64 && spec->arch != KTSTR__ARCH__ARCH_ARM64) {
		snprintf(why, len, "unknown guest architecture %d: this worker runs x86_64 and "
			 "arm64 guests", (int)spec->arch);
		return -EINVAL;
	}
	/* KVM runs guests of the host's own architecture only: x86_64 ones
	 * on kvm/ (x86_64 hosts), arm64 ones on aarch64/ (aarch64 hosts). */
	if (spec->engine == KTSTR__ENGINE__ENGINE_KVM && kvm_guest_arch(host) != (int)spec->arch) {
		snprintf(why, len,
			 "engine KVM cannot run an %s guest on this %s host: KVM runs only guests "
			 "of the host's architecture; use engine QEMU (or AUTO), which runs it "
			 "under %s (TCG)", guest, host,
			 spec->arch == KTSTR__ARCH__ARCH_ARM64 ? "qemu-system-aarch64"
							       : "qemu-system-x86_64");
		return -ENOTSUP;
	}
	/* The host-side monitor reads guest memory with the layout of the
	 * guest's own kernel (docs/monitor.md): a layout derived for the
	 * other architecture would translate every address wrongly. An
	 * absent GuestKernelLayout.arch means x86_64. */
	if (spec->kernel_layout) {
		const Ktstr__GuestKernelLayout *l = spec->kernel_layout;
		int larch = l->has_arch ? (int)l->arch : KTSTR__ARCH__ARCH_X86_64;

		if (larch != (int)spec->arch) {
			snprintf(why, len,
				 "the kernel layout (kernel_layout.arch %s) describes a kernel of "
				 "another architecture than the VmSpec's %s guest: the monitor "
				 "would read the wrong addresses (the orchestrator derives the "
				 "layout from the guest's own kernel image)",
				 larch == KTSTR__ARCH__ARCH_ARM64	 ? "arm64"
				 : larch == KTSTR__ARCH__ARCH_X86_64 ? "x86_64"
								      : "unknown",
				 guest);
			return -EINVAL;
		}
	}
	return 0;
}

int engine_arch_check(const Ktstr__VmSpec *spec, char *why, size_t len)
{
	return engine_arch_check_on(engine_host_arch(), spec, why, len);
}

Ktstr__Engine engine_choose_arch_on(const char *host, bool hardware_kvm, Ktstr__Engine requested,
				    Ktstr__Arch arch)
{
	if (requested == KTSTR__ENGINE__ENGINE_KVM || requested == KTSTR__ENGINE__ENGINE_QEMU)
		return requested;
	/* AUTO: KVM only where it can boot this guest, i.e. hardware KVM of
	 * the guest's own architecture. */
	return hardware_kvm && kvm_guest_arch(host) == (int)arch ? KTSTR__ENGINE__ENGINE_KVM
								 : KTSTR__ENGINE__ENGINE_QEMU;
}

Ktstr__Engine engine_choose_arch(Ktstr__Engine requested, Ktstr__Arch arch)
{
	return engine_choose_arch_on(engine_host_arch(), ktstr_kvm_is_hardware(kvm_engine_kind()),
				     requested, arch);
}

struct ktstr_topo vm_spec_topo(const Ktstr__VmSpec *spec)
{
	const Ktstr__Topology *t = spec->topology;

	return (struct ktstr_topo){ t->numa_nodes, t->llcs, t->cores_per_llc,
				    t->threads_per_core };
}
