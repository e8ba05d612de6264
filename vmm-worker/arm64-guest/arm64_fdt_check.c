/* The whole-spec check of an arm64 device tree (arm64_fdt.h): what the
 * orchestrator also checks while planning (arm64_guest_check, common/),
 * then what only the worker knows: where the SHM ring and the initrd lie,
 * the UART model and the PSCI conduit. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ktstr/arm64_check.h"

#include "arm64_fdt.h"
#include "arm64_layout.h"

#define PAGE 4096ull

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
	int ret = arm64_guest_check(&s->topo, s->mem_bytes, s->bootargs, err, errlen);

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
