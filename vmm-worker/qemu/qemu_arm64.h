/* The QEMU engine's command line for an arm64 guest: qemu-system-aarch64
 * -M virt,gic-version=3 booting ktstr's own device tree (-dtb, built by
 * vmm-worker/arm64-guest/arm64_fdt.c). QEMU keeps that tree except for the
 * nodes it owns (docs/aarch64.md, "What QEMU changes"): /psci (its own
 * function IDs), the memory nodes (rewritten from -numa, which this line
 * makes identical to ours) and /chosen's initrd range (its placement, which
 * qemu_arm64_initrd_base predicts so the tree says the same). */
#ifndef KTSTR_QEMU_ARM64_H
#define KTSTR_QEMU_ARM64_H

#include <stdint.h>

#include <ktstr/strv.h>
#include <ktstr/topology.h>

struct qemu_arm64_in {
	const char *qemu_path; /* qemu-system-aarch64 */
	const char *cpu_model; /* "max" under TCG */
	struct ktstr_topo topo;
	uint64_t mem_bytes; /* as the tree's (arm64_fdt_check'd) */
	const char *dtb, *kernel, *initrd, *append; /* initrd may be NULL */
	/* Non-NULL: QEMU writes the tree it would hand the kernel (ours plus
	 * its changes) to this path and exits without booting (-M dumpdtb=):
	 * how tests prove QEMU boots ktstr's tree. */
	const char *dumpdtb;
};

/* Where QEMU virt loads the initrd of a -kernel boot (hw/arm/boot.c):
 * DRAM + min(RAM / 2, 128 MiB), above any kernel smaller than that. */
uint64_t qemu_arm64_initrd_base(uint64_t mem_bytes);

/* Append the argv (program first) to out; the console (PL011) is QEMU's
 * stdio. 0 or -ENOMEM/-EINVAL (a topology QEMU's -numa cannot split). */
int qemu_arm64_args(const struct qemu_arm64_in *in, struct strv *out);

#endif
