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

struct ktstr_topo vm_spec_topo(const Ktstr__VmSpec *spec)
{
	const Ktstr__Topology *t = spec->topology;

	return (struct ktstr_topo){ t->numa_nodes, t->llcs, t->cores_per_llc,
				    t->threads_per_core };
}
