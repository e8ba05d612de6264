/* The arm64 guest's physical memory map and CPU identity, shared by every
 * engine that boots an arm64 guest (the QEMU engine here, the future KVM
 * engine in vmm-worker/aarch64/). It is QEMU 7.2's "virt" machine map for the
 * devices ktstr describes, so one device tree fits both engines: under QEMU
 * the devices are QEMU's own; under KVM the worker emulates or creates them at
 * the same addresses. docs/aarch64.md has the table and the reasons.
 *
 * This header is about the GUEST architecture: it builds and is unit-tested
 * on any host (vmm-worker/arm64-guest/ is not an architecture folder the
 * Makefile filters out). */
#ifndef KTSTR_ARM64_LAYOUT_H
#define KTSTR_ARM64_LAYOUT_H

#include <stdint.h>

/* DRAM starts at 1 GiB (QEMU virt VIRT_MEM; the arm64 boot protocol puts the
 * kernel Image at a 2 MiB-aligned address in it). */
#define ARM64_DRAM_BASE 0x40000000ull
/* RAM above this needs QEMU virt's highmem layout (the PCIe ECAM at 256 GiB):
 * ktstr's guests stay below it. */
#define ARM64_DRAM_MAX (255ull << 30)
/* Each NUMA node's share of RAM is a multiple of this (2 MiB: one arm64 PMD
 * block, so no node boundary splits a kernel linear-map block). */
#define ARM64_NODE_ALIGN (2ull << 20)

/* GICv3: the distributor (64 KiB), then one redistributor per vCPU, each two
 * 64 KiB frames (RD_base, SGI_base), packed from 0x080a0000. QEMU virt's
 * first redistributor region is 0xf60000 bytes: 123 redistributors. More vCPUs
 * would need its second (high) region, which ktstr does not describe. */
#define ARM64_GIC_DIST_BASE 0x08000000ull
#define ARM64_GIC_DIST_SIZE 0x10000ull
#define ARM64_GIC_REDIST_BASE 0x080a0000ull
#define ARM64_GIC_REDIST_STRIDE 0x20000ull
#define ARM64_GIC_REDIST_REGION 0xf60000ull
#define ARM64_MAX_VCPUS ((uint32_t)(ARM64_GIC_REDIST_REGION / ARM64_GIC_REDIST_STRIDE))

/* Interrupt specifiers (GIC binding: type, number, flags). SPIs count from
 * INTID 32, PPIs from 16. */
#define ARM64_GIC_SPI 0u
#define ARM64_GIC_PPI 1u
#define ARM64_IRQ_LEVEL_HIGH 4u
/* Architected timer PPIs: secure physical, non-secure physical, virtual,
 * hypervisor (the order the arm,armv8-timer binding lists them). */
#define ARM64_TIMER_PPI_SEC 13u
#define ARM64_TIMER_PPI_NONSEC 14u
#define ARM64_TIMER_PPI_VIRT 11u
#define ARM64_TIMER_PPI_HYP 10u

/* UARTs: COM1 (console) at QEMU virt's VIRT_UART, SPI 1 (INTID 33); the KVM
 * engine adds COM2 in the free page after it, SPI 2 (INTID 34). */
#define ARM64_UART0_BASE 0x09000000ull
#define ARM64_UART1_BASE 0x09001000ull
#define ARM64_UART_SIZE 0x1000ull
#define ARM64_UART0_SPI 1u
#define ARM64_UART1_SPI 2u
/* PL011's reference clock as QEMU virt declares it (apb-pclk, 24 MHz); the
 * ns16550a's the classic 1.8432 MHz, so 115200 baud divides evenly. */
#define ARM64_PL011_CLOCK_HZ 24000000u
#define ARM64_NS16550_CLOCK_HZ 1843200u

/* QEMU virt's generic PCIe host (the QEMU engine only: the guest's virtio
 * console sits on it), as QEMU 7.2 places it with highmem=on, which the
 * QEMU engine forces: the ECAM is the high one (256 buses at 256 GiB +
 * 256 MiB; 7.2 has no option for the low 16-bus one but highmem=off, which
 * caps RAM at 3 GiB), I/O ports at 0x3eff0000, a 32-bit window below the
 * ECAM's low alternative and a 64-bit one at 512 GiB. INTA..INTD are SPIs
 * 3..6 (INTIDs 35..38), swizzled per slot (arm64_pcie_intx_spi). All of it
 * lies above ARM64_DRAM_MAX or below ARM64_DRAM_BASE. */
#define ARM64_PCIE_ECAM_BASE 0x4010000000ull
#define ARM64_PCIE_ECAM_SIZE 0x10000000ull
#define ARM64_PCIE_BUSES 256u
#define ARM64_PCIE_PIO_BASE 0x3eff0000ull
#define ARM64_PCIE_PIO_SIZE 0x10000ull
#define ARM64_PCIE_MMIO_BASE 0x10000000ull
#define ARM64_PCIE_MMIO_SIZE 0x2eff0000ull
#define ARM64_PCIE_MMIO64_BASE 0x8000000000ull
#define ARM64_PCIE_MMIO64_SIZE 0x8000000000ull
#define ARM64_PCIE_SPI_BASE 3u
#define ARM64_PCIE_INTX 4u

/* The SHM ring's guest physical base: the top shm_size bytes of RAM (the
 * last node's), which the tree's /reserved-memory withholds from Linux.
 * Both engines put it there (qemu/qemu_launch_arm64.c, aarch64/
 * a64_engine.c). 0 = no ring. */
static inline uint64_t arm64_shm_base(uint64_t mem_bytes, uint64_t shm_size)
{
	return shm_size ? ARM64_DRAM_BASE + mem_bytes - shm_size : 0;
}

/* arm64's COMMAND_LINE_SIZE (6.1): the kernel copies at most this many
 * bytes, NUL included, of /chosen/bootargs and silently drops the rest. */
#define ARM64_CMDLINE_MAX 2048u

/* The device tree may be at most 2 MiB (arm64 booting.rst), 8-byte aligned. */
#define ARM64_FDT_MAX (2u << 20)

/* MPIDR_EL1 affinity of vCPU cpu, as the device tree's cpu@N reg carries it.
 * Linear, 16 CPUs per Aff1 group: Aff0 = cpu % 16, Aff1 = (cpu / 16) % 256,
 * Aff2 = cpu / 4096; MT (bit 24) clear. This is not a topology encoding, and
 * cannot be one: QEMU virt fixes every vCPU's MPIDR this way with GICv3
 * (16 = the GICv3 SGI target-list width) and KVM's default MPIDR is the same,
 * so the one tree fits both engines. Linux takes arm64 topology from
 * /cpus/cpu-map and cache sharing from next-level-cache, not from MPIDR
 * (docs/aarch64.md, "CPU identity"). */
static inline uint64_t arm64_mpidr(uint32_t cpu)
{
	return ((uint64_t)((cpu >> 12) & 0xff) << 16) | ((uint64_t)((cpu >> 4) & 0xff) << 8) |
	       (cpu & 0xf);
}

#endif
