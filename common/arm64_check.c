/* What an arm64 guest can express (ktstr/arm64_check.h). The limits are
 * the guest memory map's, whose one home is the worker's arm64 layout
 * header: it describes the guest, builds on every host and is header-only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ktstr/arm64_check.h"

#include "../vmm-worker/arm64-guest/arm64_layout.h"

static int check_ram(const struct ktstr_topo *t, uint64_t mem_bytes, char *err, size_t errlen)
{
	uint64_t unit = (uint64_t)t->numa_nodes * ARM64_NODE_ALIGN;

	if (!mem_bytes || mem_bytes % unit) {
		snprintf(err, errlen,
			 "arm64: memory of %llu bytes must be a non-zero multiple of %llu MiB (%u NUMA nodes x %llu MiB, so every node's RAM is whole 2 MiB blocks)",
			 (unsigned long long)mem_bytes, (unsigned long long)(unit >> 20),
			 t->numa_nodes, (unsigned long long)(ARM64_NODE_ALIGN >> 20));
		return -EINVAL;
	}
	if (mem_bytes > ARM64_DRAM_MAX - ARM64_DRAM_BASE) {
		snprintf(err, errlen,
			 "arm64: memory of %llu MiB ends above %llu GiB, where QEMU virt's high I/O map begins; use at most %llu MiB",
			 (unsigned long long)(mem_bytes >> 20),
			 (unsigned long long)(ARM64_DRAM_MAX >> 30),
			 (unsigned long long)((ARM64_DRAM_MAX - ARM64_DRAM_BASE) >> 20));
		return -EINVAL;
	}
	return 0;
}

int arm64_guest_check(const struct ktstr_topo *t, uint64_t mem_bytes, const char *bootargs,
		      char *err, size_t errlen)
{
	uint32_t cpus;
	int ret = topo_validate(t, err, errlen);

	if (ret)
		return ret;
	cpus = topo_cpus(t);
	if (cpus > ARM64_MAX_VCPUS) {
		snprintf(err, errlen,
			 "arm64: %u vCPUs exceed the %u GICv3 redistributors that fit QEMU virt's redistributor region (0x%llx bytes at 0x%llx); use at most %u CPUs",
			 cpus, ARM64_MAX_VCPUS, (unsigned long long)ARM64_GIC_REDIST_REGION,
			 (unsigned long long)ARM64_GIC_REDIST_BASE, ARM64_MAX_VCPUS);
		return -EINVAL;
	}
	ret = check_ram(t, mem_bytes, err, errlen);
	if (ret)
		return ret;
	if (bootargs && strlen(bootargs) >= ARM64_CMDLINE_MAX) {
		snprintf(err, errlen,
			 "arm64: the kernel command line is %zu bytes; an arm64 kernel keeps at most %u (COMMAND_LINE_SIZE) and would drop the rest",
			 strlen(bootargs), ARM64_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

int arm64_preset_check(const struct ktstr_topo_preset *p, char *err, size_t errlen)
{
	if (p->arm64)
		return 0;
	snprintf(err, errlen,
		 "topology preset '%s' (%u,%u,%u,%u) is not available on aarch64: arm64 presets have one thread per core (docs/reference.md, \"Topology presets\"); pick one marked arm64, or give the topology as N,L,C,T",
		 p->name, p->topo.numa_nodes, p->topo.llcs, p->topo.cores_per_llc,
		 p->topo.threads_per_core);
	return -EINVAL;
}
