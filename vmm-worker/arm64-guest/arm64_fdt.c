/* The arm64 device tree: root, /chosen, memory per NUMA node, the SHM ring's
 * reservation, /distance-map, GICv3, timer, PSCI and UARTs; /cpus is in
 * arm64_fdt_cpus.c. Written once with libfdt's sequential-write API into a
 * buffer that grows until the tree fits (at most ARM64_FDT_MAX). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "arm64_fdt_priv.h"
#include "arm64_layout.h"

/* Strings lists ("a\0b\0") are written with their final NUL. */
#define PROP_STRS(fdt, name, lit) fdt_property(fdt, name, lit, sizeof(lit))

int arm64_fdt_prop_u64s(void *fdt, const char *name, const uint64_t *v, int n)
{
	fdt64_t be[8];

	if (n > 8)
		return -FDT_ERR_BADVALUE;
	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt64(v[i]);
	return fdt_property(fdt, name, be, n * (int)sizeof(be[0]));
}

static int intr_prop(void *fdt, const uint32_t *cells, int n)
{
	fdt32_t be[12];

	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_property(fdt, "interrupts", be, n * (int)sizeof(be[0]));
}

static int chosen(void *fdt, const struct arm64_fdt_spec *s, const char *uart0)
{
	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs", s->bootargs ? s->bootargs : ""));
	TRY(fdt_property_string(fdt, "stdout-path", uart0));
	if (s->initrd_end) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", s->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", s->initrd_end));
	}
	return fdt_end_node(fdt);
}

/* One memory node per NUMA node, RAM split evenly in node order (the
 * model's: node n holds LLCs n*L/N ..). */
static int memory(void *fdt, const struct arm64_fdt_spec *s)
{
	uint64_t each = s->mem_bytes / s->topo.numa_nodes;
	char name[40];

	for (uint32_t n = 0; n < s->topo.numa_nodes; n++) {
		uint64_t reg[2] = { ARM64_DRAM_BASE + n * each, each };

		snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)reg[0]);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "memory"));
		TRY(arm64_fdt_prop_u64s(fdt, "reg", reg, 2));
		TRY(fdt_property_u32(fdt, "numa-node-id", n));
		TRY(fdt_end_node(fdt));
	}
	return 0;
}

/* The SHM ring: no-map, so the kernel neither allocates nor linear-maps it
 * and /proc/iomem lists it "reserved", not "System RAM": the guest reaches
 * it through /dev/mem, the host reads it live. */
static int reserved(void *fdt, const struct arm64_fdt_spec *s)
{
	uint64_t reg[2] = { s->shm_base, s->shm_size };
	char name[40];

	if (!s->shm_size)
		return 0;
	TRY(fdt_begin_node(fdt, "reserved-memory"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", NULL, 0));
	snprintf(name, sizeof(name), "ktstr-shm@%llx", (unsigned long long)s->shm_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(arm64_fdt_prop_u64s(fdt, "reg", reg, 2));
	TRY(fdt_property(fdt, "no-map", NULL, 0));
	TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

/* m: scratch for the n*n (from, to, distance) triples, owned by the caller. */
static int distance_map(void *fdt, const struct ktstr_topo *t, fdt32_t *m)
{
	uint32_t n = t->numa_nodes;

	for (uint32_t a = 0, k = 0; a < n; a++)
		for (uint32_t b = 0; b < n; b++) {
			m[k++] = cpu_to_fdt32(a);
			m[k++] = cpu_to_fdt32(b);
			m[k++] = cpu_to_fdt32(topo_node_distance(a, b));
		}
	TRY(fdt_begin_node(fdt, "distance-map"));
	TRY(fdt_property_string(fdt, "compatible", "numa-distance-map-v1"));
	TRY(fdt_property(fdt, "distance-matrix", m, (int)(n * n * 3 * sizeof(*m))));
	return fdt_end_node(fdt);
}

static int gic(void *fdt, uint32_t cpus)
{
	uint64_t reg[4] = { ARM64_GIC_DIST_BASE, ARM64_GIC_DIST_SIZE, ARM64_GIC_REDIST_BASE,
			    ARM64_GIC_REDIST_STRIDE * cpus };
	char name[40];

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)ARM64_GIC_DIST_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	/* No child nodes (no ITS: the QEMU engine's PCI devices use INTx, and
	 * QEMU runs with its=off); dtc wants the cell count of an interrupt
	 * provider spelled out. */
	TRY(fdt_property_u32(fdt, "#address-cells", 0));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#redistributor-regions", 1));
	TRY(arm64_fdt_prop_u64s(fdt, "reg", reg, 4));
	TRY(fdt_property_u32(fdt, "phandle", ARM64_PHANDLE_GIC));
	return fdt_end_node(fdt);
}

static int timer(void *fdt)
{
	static const uint32_t irqs[] = {
		ARM64_GIC_PPI, ARM64_TIMER_PPI_SEC,    ARM64_IRQ_LEVEL_HIGH,
		ARM64_GIC_PPI, ARM64_TIMER_PPI_NONSEC, ARM64_IRQ_LEVEL_HIGH,
		ARM64_GIC_PPI, ARM64_TIMER_PPI_VIRT,   ARM64_IRQ_LEVEL_HIGH,
		ARM64_GIC_PPI, ARM64_TIMER_PPI_HYP,    ARM64_IRQ_LEVEL_HIGH,
	};

	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(intr_prop(fdt, irqs, 12));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

/* PSCI 1.0 (0.2 compatible): function IDs are the standard ones, so no
 * cpu_on/cpu_off properties (those are PSCI 0.1's). */
static int psci(void *fdt, enum arm64_psci_conduit c)
{
	TRY(fdt_begin_node(fdt, "psci"));
	TRY(PROP_STRS(fdt, "compatible", "arm,psci-1.0\0arm,psci-0.2"));
	TRY(fdt_property_string(fdt, "method", c == ARM64_PSCI_SMC ? "smc" : "hvc"));
	return fdt_end_node(fdt);
}

static int uart(void *fdt, enum arm64_uart_model model, uint64_t base, uint32_t spi)
{
	uint64_t reg[2] = { base, ARM64_UART_SIZE };
	uint32_t irq[3] = { ARM64_GIC_SPI, spi, ARM64_IRQ_LEVEL_HIGH };
	char name[40];

	snprintf(name, sizeof(name), "serial@%llx", (unsigned long long)base);
	TRY(fdt_begin_node(fdt, name));
	if (model == ARM64_UART_PL011) {
		fdt32_t clks[2] = { cpu_to_fdt32(ARM64_PHANDLE_CLK),
				    cpu_to_fdt32(ARM64_PHANDLE_CLK) };

		TRY(PROP_STRS(fdt, "compatible", "arm,pl011\0arm,primecell"));
		TRY(fdt_property(fdt, "clocks", clks, sizeof(clks)));
		TRY(PROP_STRS(fdt, "clock-names", "uartclk\0apb_pclk"));
	} else {
		TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
		TRY(fdt_property_u32(fdt, "clock-frequency", ARM64_NS16550_CLOCK_HZ));
	}
	TRY(arm64_fdt_prop_u64s(fdt, "reg", reg, 2));
	TRY(intr_prop(fdt, irq, 3));
	return fdt_end_node(fdt);
}

static int uarts(void *fdt, enum arm64_uart_model model)
{
	if (model == ARM64_UART_PL011) {
		TRY(fdt_begin_node(fdt, "apb-pclk"));
		TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
		TRY(fdt_property_u32(fdt, "#clock-cells", 0));
		TRY(fdt_property_u32(fdt, "clock-frequency", ARM64_PL011_CLOCK_HZ));
		TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
		TRY(fdt_property_u32(fdt, "phandle", ARM64_PHANDLE_CLK));
		TRY(fdt_end_node(fdt));
		return uart(fdt, model, ARM64_UART0_BASE, ARM64_UART0_SPI);
	}
	TRY(uart(fdt, model, ARM64_UART0_BASE, ARM64_UART0_SPI));
	return uart(fdt, model, ARM64_UART1_BASE, ARM64_UART1_SPI);
}

static int write_tree(void *fdt, int size, const struct arm64_fdt_spec *s, fdt32_t *dist)
{
	char uart0[40];

	snprintf(uart0, sizeof(uart0), "/serial@%llx", (unsigned long long)ARM64_UART0_BASE);
	TRY(fdt_create(fdt, size));
	/* No /memreserve/ for the ring: Linux refuses a no-map reservation of
	 * memory /memreserve/ already reserved ("Reserved memory: failed to
	 * reserve memory for node", 6.1), and the ring would then stay in the
	 * linear map as System RAM, which /dev/mem (STRICT_DEVMEM) refuses. */
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_string(fdt, "model", "ktstr arm64 guest"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", ARM64_PHANDLE_GIC));
	TRY(fdt_begin_node(fdt, "aliases"));
	TRY(fdt_property_string(fdt, "serial0", uart0));
	TRY(fdt_end_node(fdt));
	TRY(chosen(fdt, s, uart0));
	TRY(memory(fdt, s));
	TRY(reserved(fdt, s));
	TRY(distance_map(fdt, &s->topo, dist));
	TRY(arm64_fdt_cpus(fdt, &s->topo));
	TRY(gic(fdt, topo_cpus(&s->topo)));
	TRY(timer(fdt));
	TRY(psci(fdt, s->psci));
	TRY(uarts(fdt, s->uart));
	if (s->pcie)
		TRY(arm64_fdt_pcie(fdt));
	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

int arm64_fdt_build(const struct arm64_fdt_spec *s, void **blob, size_t *len, char *err,
		    size_t errlen)
{
	size_t size = 16384;
	fdt32_t *dist; /* owned here, freed on every return */
	void *buf;     /* handed to *blob on success */
	int ret = arm64_fdt_check(s, err, errlen);

	if (ret)
		return ret;
	/* numa_nodes <= llcs <= ARM64_MAX_VCPUS: at most 123*123*3 cells. */
	dist = calloc((size_t)s->topo.numa_nodes * s->topo.numa_nodes * 3, sizeof(*dist));
	if (!dist)
		return -ENOMEM;
	for (;;) {
		buf = malloc(size);
		if (!buf) {
			ret = -ENOMEM;
			goto err_dist;
		}
		ret = write_tree(buf, (int)size, s, dist);
		if (ret >= 0)
			break;
		free(buf);
		if (ret != -FDT_ERR_NOSPACE) {
			snprintf(err, errlen, "arm64: building the device tree failed: %s",
				 fdt_strerror(ret));
			ret = -EINVAL;
			goto err_dist;
		}
		if (size >= ARM64_FDT_MAX) {
			snprintf(err, errlen,
				 "arm64: the device tree for %u CPUs exceeds the %u-byte limit of the arm64 boot protocol",
				 topo_cpus(&s->topo), ARM64_FDT_MAX);
			ret = -EOVERFLOW;
			goto err_dist;
		}
		size *= 2;
	}
	free(dist);
	*blob = buf;
	*len = fdt_totalsize(buf);
	return 0;

err_dist:
	free(dist);
	return ret;
}
