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
	/* ktstr-vmm-worker's run (all set together; fd_qmp < 0 = the
	 * standalone line the boot tests use: RAM from QEMU, -serial stdio).
	 * The fds as QEMU sees them: guest RAM as one memfd per NUMA node
	 * (shared, so the worker reads the SHM ring at the top of RAM),
	 * COM1 = the PL011 console, COM2 = a virtio console on virt's PCIe
	 * host (/dev/hvc0 in the guest), QMP, QEMU's log. QEMU starts paused
	 * (-S) under its own -sandbox, as the x86 line (qemu_args.c). */
	int fd_qmp, fd_com1, fd_com2, fd_log;
	const int *fd_mem; /* numa_nodes entries */
};

/* Where QEMU virt loads the initrd of a -kernel boot (hw/arm/boot.c):
 * DRAM + min(RAM / 2, 128 MiB), above any kernel smaller than that. */
uint64_t qemu_arm64_initrd_base(uint64_t mem_bytes);

/* QEMU's loader (hw/arm/boot.c) writes a boot stub of at most this many
 * bytes at the start of RAM; an Image whose text_offset is below it goes
 * QEMU_ARM64_IMAGE_SHIFT further up than the boot protocol's first slot. */
#define QEMU_ARM64_STUB_MAX 4096u
#define QEMU_ARM64_IMAGE_SHIFT (2ull << 20)
/* Pre-3.17 Images (image_size 0): QEMU loads them at DRAM + this. */
#define QEMU_ARM64_LEGACY_LOAD 0x80000ull

struct arm64_image_info;
/* Where QEMU virt loads an arm64 Image of a -kernel boot: DRAM +
 * text_offset, shifted past the boot stub as above. The host-side monitor
 * translates kernel-image addresses with it. */
uint64_t qemu_arm64_kernel_base(const struct arm64_image_info *i);

/* Append the argv (program first) to out. 0 or -ENOMEM/-EINVAL (a topology
 * QEMU's -numa cannot split). The machine is always virt with GICv3,
 * highmem=on (the tree's PCIe host is the high-ECAM one, arm64_layout.h)
 * and its=off (the tree has no ITS). */
int qemu_arm64_args(const struct qemu_arm64_in *in, struct strv *out);

#endif
