/* The arm64 tree's PCIe host: QEMU virt's generic ECAM host bridge
 * ("pci-host-ecam-generic"), described so Linux's pci-host-generic driver
 * finds it and the virtio console (the guest's output port, /dev/hvc0) on
 * it. Only the QEMU engine has this bus (arm64_fdt_spec.pcie); the numbers
 * are QEMU 7.2 virt's with highmem=on and its=off, which the QEMU engine's
 * command line forces (qemu_arm64.c; docs/aarch64.md, "The PCIe host"). */
#include <libfdt.h>
#include <stdio.h>

#include "arm64_fdt_priv.h"
#include "arm64_layout.h"

/* PCI address space codes (the first cell of a child address, IEEE 1275
 * PCI binding): I/O, 32-bit memory, 64-bit memory. */
#define PCI_SPACE_IO 0x01000000u
#define PCI_SPACE_MEM32 0x02000000u
#define PCI_SPACE_MEM64 0x03000000u

/* One "ranges" entry: child (3 cells: space, hi, lo), parent (2 cells),
 * size (2 cells). The windows are identity-mapped but for I/O, whose PCI
 * port 0 sits at ARM64_PCIE_PIO_BASE. */
static void range(fdt32_t *r, uint32_t space, uint64_t pci, uint64_t cpu, uint64_t size)
{
	r[0] = cpu_to_fdt32(space);
	r[1] = cpu_to_fdt32((uint32_t)(pci >> 32));
	r[2] = cpu_to_fdt32((uint32_t)pci);
	r[3] = cpu_to_fdt32((uint32_t)(cpu >> 32));
	r[4] = cpu_to_fdt32((uint32_t)cpu);
	r[5] = cpu_to_fdt32((uint32_t)(size >> 32));
	r[6] = cpu_to_fdt32((uint32_t)size);
}

uint32_t arm64_pcie_intx_spi(uint32_t slot, uint32_t pin)
{
	/* QEMU virt swizzles INTA..INTD of slot s onto its four SPIs. */
	return ARM64_PCIE_SPI_BASE + (slot + pin) % ARM64_PCIE_INTX;
}

int arm64_fdt_pcie(void *fdt)
{
	static const uint64_t reg[2] = { ARM64_PCIE_ECAM_BASE, ARM64_PCIE_ECAM_SIZE };
	/* interrupt-map rows: child unit address (3 cells) + pin (1), the GIC's
	 * phandle, no parent unit address (the GIC's #address-cells is 0),
	 * then its 3-cell specifier. Slots 0..3 cover every pattern; the mask
	 * makes slot N match N % 4. */
	fdt32_t map[ARM64_PCIE_INTX * ARM64_PCIE_INTX * 8], ranges[3 * 7];
	const fdt32_t mask[4] = { cpu_to_fdt32(0x1800), 0, 0, cpu_to_fdt32(7) };
	const fdt32_t bus_range[2] = { 0, cpu_to_fdt32(ARM64_PCIE_BUSES - 1) };
	char name[40];
	int k = 0;

	for (uint32_t slot = 0; slot < ARM64_PCIE_INTX; slot++)
		for (uint32_t pin = 0; pin < ARM64_PCIE_INTX; pin++) {
			map[k++] = cpu_to_fdt32(slot << 11); /* devfn << 8 */
			map[k++] = 0;
			map[k++] = 0;
			map[k++] = cpu_to_fdt32(pin + 1); /* INTA = 1 */
			map[k++] = cpu_to_fdt32(ARM64_PHANDLE_GIC);
			map[k++] = cpu_to_fdt32(ARM64_GIC_SPI);
			map[k++] = cpu_to_fdt32(arm64_pcie_intx_spi(slot, pin));
			map[k++] = cpu_to_fdt32(ARM64_IRQ_LEVEL_HIGH);
		}
	range(ranges, PCI_SPACE_IO, 0, ARM64_PCIE_PIO_BASE, ARM64_PCIE_PIO_SIZE);
	range(ranges + 7, PCI_SPACE_MEM32, ARM64_PCIE_MMIO_BASE, ARM64_PCIE_MMIO_BASE,
	      ARM64_PCIE_MMIO_SIZE);
	range(ranges + 14, PCI_SPACE_MEM64, ARM64_PCIE_MMIO64_BASE, ARM64_PCIE_MMIO64_BASE,
	      ARM64_PCIE_MMIO64_SIZE);

	snprintf(name, sizeof(name), "pcie@%llx", (unsigned long long)ARM64_PCIE_ECAM_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(fdt, "device_type", "pci"));
	TRY(fdt_property_u32(fdt, "#address-cells", 3));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "linux,pci-domain", 0));
	TRY(fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	TRY(arm64_fdt_prop_u64s(fdt, "reg", reg, 2));
	TRY(fdt_property(fdt, "ranges", ranges, sizeof(ranges)));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(fdt_property(fdt, "interrupt-map", map, sizeof(map)));
	TRY(fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask)));
	return fdt_end_node(fdt);
}
