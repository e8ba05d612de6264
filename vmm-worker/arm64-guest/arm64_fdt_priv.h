/* Inside the arm64 device-tree builder (arm64_fdt.c, arm64_fdt_cpus.c).
 * Every function writes with libfdt's sequential-write API into the tree
 * being created and returns 0 or a negative libfdt error (FDT_ERR_*). */
#ifndef KTSTR_ARM64_FDT_PRIV_H
#define KTSTR_ARM64_FDT_PRIV_H

#include <stdint.h>

#include "arm64_fdt.h"

/* /cpus: the cpu@N nodes, their L2 and L3 cache nodes, cpu-map. */
int arm64_fdt_cpus(void *fdt, const struct ktstr_topo *t);

/* The QEMU engine's PCIe host node (arm64_fdt_pci.c). */
int arm64_fdt_pcie(void *fdt);

/* A property of n big-endian u64 cells pairs (#address-cells = #size-cells
 * = 2 under the root). */
int arm64_fdt_prop_u64s(void *fdt, const char *name, const uint64_t *v, int n);

/* Return a libfdt error (negative FDT_ERR_*) from the enclosing builder. */
#define TRY(x)                    \
	do {                      \
		int r_ = (x);     \
		if (r_ < 0)       \
			return r_; \
	} while (0)

#endif
