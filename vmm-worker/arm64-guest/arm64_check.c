/* What an arm64 guest can express, checked before any tree is built or VM
 * booted. See arm64_fdt.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arm64_fdt.h"
#include "arm64_layout.h"

#define PAGE 4096ull

static int check_ram(const struct arm64_fdt_spec *s, char *err, size_t errlen)
{
	uint64_t unit = (uint64_t)s->topo.numa_nodes * ARM64_NODE_ALIGN;

	if (!s->mem_bytes || s->mem_bytes % unit) {
		snprintf(err, errlen,
			 "arm64: memory of %llu bytes must be a non-zero multiple of %llu MiB (%u NUMA nodes x %llu MiB, so every node's RAM is whole 2 MiB blocks)",
			 (unsigned long long)s->mem_bytes, (unsigned long long)(unit >> 20),
			 s->topo.numa_nodes, (unsigned long long)(ARM64_NODE_ALIGN >> 20));
		return -EINVAL;
	}
	if (s->mem_bytes > ARM64_DRAM_MAX - ARM64_DRAM_BASE) {
		snprintf(err, errlen,
			 "arm64: memory of %llu MiB ends above %llu GiB, where QEMU virt's high I/O map begins; use at most %llu MiB",
			 (unsigned long long)(s->mem_bytes >> 20),
			 (unsigned long long)(ARM64_DRAM_MAX >> 30),
			 (unsigned long long)((ARM64_DRAM_MAX - ARM64_DRAM_BASE) >> 20));
		return -EINVAL;
	}
	return 0;
}

/* [base, base+size) page-aligned and inside RAM. */
static int check_range(const char *what, uint64_t base, uint64_t size, uint64_t ram_end,
		       bool aligned_end, char *err, size_t errlen)
{
	if (base % PAGE || (aligned_end && size % PAGE)) {
		snprintf(err, errlen, "arm64: %s at 0x%llx (+0x%llx) must be 4 KiB aligned", what,
			 (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	if (!size || base < ARM64_DRAM_BASE || base > ram_end || size > ram_end - base) {
		snprintf(err, errlen,
			 "arm64: %s [0x%llx, +0x%llx) must be non-empty and inside guest RAM [0x%llx, 0x%llx)",
			 what, (unsigned long long)base, (unsigned long long)size,
			 (unsigned long long)ARM64_DRAM_BASE, (unsigned long long)ram_end);
		return -EINVAL;
	}
	return 0;
}

int arm64_fdt_check(const struct arm64_fdt_spec *s, char *err, size_t errlen)
{
	uint64_t ram_end;
	uint32_t cpus;
	int ret = topo_validate(&s->topo, err, errlen);

	if (ret)
		return ret;
	cpus = topo_cpus(&s->topo);
	if (cpus > ARM64_MAX_VCPUS) {
		snprintf(err, errlen,
			 "arm64: %u vCPUs exceed the %u GICv3 redistributors that fit QEMU virt's redistributor region (0x%llx bytes at 0x%llx); use at most %u CPUs",
			 cpus, ARM64_MAX_VCPUS, (unsigned long long)ARM64_GIC_REDIST_REGION,
			 (unsigned long long)ARM64_GIC_REDIST_BASE, ARM64_MAX_VCPUS);
		return -EINVAL;
	}
	ret = check_ram(s, err, errlen);
	if (ret)
		return ret;
	ram_end = ARM64_DRAM_BASE + s->mem_bytes;
	if (s->shm_size) {
		ret = check_range("the SHM ring", s->shm_base, s->shm_size, ram_end, true, err,
				  errlen);
		if (ret)
			return ret;
	}
	if (s->initrd_start || s->initrd_end) {
		ret = check_range("the initrd", s->initrd_start,
				  s->initrd_end > s->initrd_start ? s->initrd_end - s->initrd_start : 0,
				  ram_end, false, err, errlen);
		if (ret)
			return ret;
		if (s->shm_size && s->initrd_start < s->shm_base + s->shm_size &&
		    s->shm_base < s->initrd_end) {
			snprintf(err, errlen,
				 "arm64: the initrd [0x%llx, 0x%llx) overlaps the SHM ring [0x%llx, +0x%llx)",
				 (unsigned long long)s->initrd_start,
				 (unsigned long long)s->initrd_end,
				 (unsigned long long)s->shm_base,
				 (unsigned long long)s->shm_size);
			return -EINVAL;
		}
	}
	if (s->bootargs && strlen(s->bootargs) >= ARM64_CMDLINE_MAX) {
		snprintf(err, errlen,
			 "arm64: the kernel command line is %zu bytes; an arm64 kernel keeps at most %u (COMMAND_LINE_SIZE) and would drop the rest",
			 strlen(s->bootargs), ARM64_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	if (s->uart != ARM64_UART_PL011 && s->uart != ARM64_UART_NS16550A) {
		snprintf(err, errlen, "arm64: unknown UART model %d", (int)s->uart);
		return -EINVAL;
	}
	if (s->psci != ARM64_PSCI_HVC && s->psci != ARM64_PSCI_SMC) {
		snprintf(err, errlen, "arm64: unknown PSCI conduit %d", (int)s->psci);
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
