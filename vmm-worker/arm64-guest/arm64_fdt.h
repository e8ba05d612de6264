/* The arm64 guest's flattened device tree, built with libfdt from ktstr's one
 * topology model (ktstr/topology.h): cpu@N nodes (reg = MPIDR affinity,
 * arm64_layout.h), /cpus/cpu-map (a socket per NUMA node, a cluster per LLC,
 * cores, threads), L2 (per core) and L3 (per LLC) cache nodes chained by
 * next-level-cache, numa-node-id on CPUs and memory, /distance-map,
 * /reserved-memory for the SHM ring, /chosen, GICv3, the architected timer,
 * PSCI and the UARTs. What differs per engine is in struct arm64_fdt_spec
 * (the UART model, the PSCI conduit); everything else is the same tree.
 * docs/aarch64.md describes every node. */
#ifndef KTSTR_ARM64_FDT_H
#define KTSTR_ARM64_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/topology.h"

enum arm64_uart_model {
	/* QEMU virt's one PL011 at ARM64_UART0_BASE (QEMU 7.2 has no second
	 * non-secure UART): console and COM2 output share it. */
	ARM64_UART_PL011,
	/* Two ns16550a-compatible MMIO UARTs the KVM engine emulates (its x86
	 * UART model, uart16550.c, on MMIO): COM1 console, COM2 output. */
	ARM64_UART_NS16550A,
};

enum arm64_psci_conduit {
	ARM64_PSCI_HVC, /* QEMU virt without EL2/EL3, and KVM */
	ARM64_PSCI_SMC,
};

struct arm64_fdt_spec {
	struct ktstr_topo topo;
	uint64_t mem_bytes;	     /* RAM from ARM64_DRAM_BASE, split evenly over nodes */
	uint64_t shm_base, shm_size; /* SHM ring inside RAM; size 0 = none */
	uint64_t initrd_start, initrd_end; /* guest physical; both 0 = no initrd */
	const char *bootargs;		   /* kernel command line (may be "") */
	enum arm64_uart_model uart;
	enum arm64_psci_conduit psci;
	/* Describe QEMU virt's generic PCIe host (pcie@4010000000), where the
	 * QEMU engine puts the guest's virtio console. The KVM engine has no
	 * PCI bus. */
	bool pcie;
};

/* Nominal caches (not the host's: a guest's cache sizes only inform its
 * scheduler's cost estimates; sharing is what ktstr fixes): 64-byte lines,
 * 16 ways; L2 1 MiB per core, L3 2 MiB per core of its LLC. */
#define ARM64_CACHE_LINE 64u
#define ARM64_CACHE_WAYS 16u
#define ARM64_L2_BYTES (1u << 20)
#define ARM64_L3_BYTES_PER_CORE (2u << 20)

/* The NUMA distances are the model's (topo_node_distance), as in the x86
 * SLIT. */

/* Whether the spec is expressible on an arm64 guest: the topology is valid
 * (topo_validate), vCPUs <= ARM64_MAX_VCPUS (GICv3 redistributor region),
 * RAM is a multiple of numa_nodes * ARM64_NODE_ALIGN and ends below
 * ARM64_DRAM_MAX, the SHM ring and the initrd lie inside RAM, page-aligned,
 * not overlapping, bootargs shorter than ARM64_CMDLINE_MAX. 0, or -EINVAL
 * with the reason in err. */
int arm64_fdt_check(const struct arm64_fdt_spec *s, char *err, size_t errlen);

/* Build the tree. On success *blob is a malloc'd, finished FDT of *len bytes
 * (at most ARM64_FDT_MAX) owned by the caller (free()). Returns 0, -EINVAL
 * (arm64_fdt_check refused, reason in err), -ENOMEM, or -EOVERFLOW (the tree
 * would exceed ARM64_FDT_MAX: not reachable within arm64_fdt_check's bounds,
 * whose largest tree a unit test measures; kept so a later bound change
 * fails cleanly instead of writing past it). */
int arm64_fdt_build(const struct arm64_fdt_spec *s, void **blob, size_t *len, char *err,
		    size_t errlen);

/* Whether a named topology preset may run on an arm64 guest: presets not
 * marked arm64 (the SMT ones, as in the reference) are refused with the
 * reason. Explicit N,L,C,T topologies with threads are expressible (threadN
 * nodes in cpu-map) and pass arm64_fdt_check. */
int arm64_preset_check(const struct ktstr_topo_preset *p, char *err, size_t errlen);

/* Phandles are fixed numbers, so the tree is byte-for-byte reproducible and
 * written in one pass: the GIC, the PL011 clock, then one per CPU, per core
 * (its L2) and per LLC (its L3). */
#define ARM64_PHANDLE_GIC 1u
#define ARM64_PHANDLE_CLK 2u
uint32_t arm64_phandle_cpu(const struct ktstr_topo *t, uint32_t cpu);
uint32_t arm64_phandle_l2(const struct ktstr_topo *t, uint32_t core_global);
uint32_t arm64_phandle_l3(const struct ktstr_topo *t, uint32_t llc);

/* The GIC SPI (not INTID: SPI n is INTID 32 + n) of PCI INTx pin (0 = INTA)
 * of a device in slot, as QEMU virt wires it and the tree's interrupt-map
 * says: ARM64_PCIE_SPI_BASE + (slot + pin) % 4. */
uint32_t arm64_pcie_intx_spi(uint32_t slot, uint32_t pin);

#endif
