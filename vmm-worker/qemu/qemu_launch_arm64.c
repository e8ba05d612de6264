/* The QEMU engine's setup for an arm64 guest (VmSpec.arch = ARCH_ARM64,
 * docs/aarch64.md): qemu-system-aarch64 -M virt under TCG booting ktstr's
 * own device tree. What differs from the x86 setup (qemu_launch.c), whose
 * memory, image and channel steps this reuses:
 *   - the kernel must be an arm64 Image (arm64_image.c), refused otherwise
 *     before anything is created;
 *   - the SHM ring is the top of guest RAM, reserved by the tree's
 *     /reserved-memory (no-map), not by memmap=; the guest learns it from
 *     the same KTSTR_SHM_BASE/KTSTR_SHM_SIZE words;
 *   - the tree (arm64_fdt.c, with the PCIe host the virtio console sits on)
 *     goes to QEMU as a sealed memfd by /proc/self/fd path, like the kernel
 *     and initrd: the Landlock-confined QEMU opens nothing by a real path;
 *   - the tree's /chosen initrd range is where QEMU virt loads the initrd
 *     (qemu_arm64_initrd_base), and QEMU puts the tree itself right after
 *     the initrd (2 MiB aligned, hw/arm/boot.c), which must end below the
 *     ring.
 * Ownership as in qemu_launch.c: struct qemu_launch owns the dtb memfd until
 * the spawn (adopt_fds closes it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/memfd.h>

#include "arm64-guest/arm64_fdt.h"
#include "arm64-guest/arm64_image.h"
#include "arm64-guest/arm64_layout.h"
#include "engine.h"
#include "qemu_arm64.h"
#include "qemu_priv.h"

#define MIB (1ull << 20)

/* Read and check the kernel's Image header: a bzImage or an ELF vmlinux
 * (an x86 kernel, or an arm64 vmlinux QEMU would boot without our tree's
 * guarantees) is refused with the reason. */
static int check_image(struct qemu_vm *q, struct arm64_image_info *info)
{
	/* The Image header, and enough beyond it for arm64_image_parse to name
	 * an x86 bzImage (its "HdrS" at 0x202). */
	uint8_t hdr[1024];
	char err[384], why[512];
	struct stat st;
	ssize_t n;
	int rc;

	if (fstat(q->in->kernel_fd, &st) < 0)
		return -errno;
	n = pread(q->in->kernel_fd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)ARM64_IMAGE_HDR_SIZE) {
		snprintf(err, sizeof(err), "the kernel file is %lld bytes, shorter than the %u-byte "
			 "arm64 Image header", (long long)st.st_size, ARM64_IMAGE_HDR_SIZE);
		rc = -ENOEXEC;
	} else {
		rc = arm64_image_parse(hdr, (size_t)n, (uint64_t)st.st_size, info, err,
				       sizeof(err));
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "FD_KERNEL is not a bootable arm64 Image: %s", err);
		qemu_set_error(q->end, rc, "check the arm64 kernel", why,
			       "pass an uncompressed arm64 Image (arch/arm64/boot/Image, or the "
			       "Image of `ktstr-orch kernel fetch --arch arm64`)");
	}
	return rc;
}

int qemu_arm64_launch_check(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct arm64_image_info info;
	char why[256];

	q->l.nodes = spec->topology->numa_nodes;
	if (q->l.nodes == 0 || q->l.nodes > QEMU_SPAWN_MAX_NODES_ARM64) {
		snprintf(why, sizeof(why),
			 "%u NUMA nodes: an arm64 guest under QEMU takes 1..%u (one memfd per node "
			 "and the device tree's)", q->l.nodes, QEMU_SPAWN_MAX_NODES_ARM64);
		qemu_set_error(q->end, -EINVAL, "lay out guest RAM for QEMU", why,
			       "use fewer NUMA nodes for an arm64 guest");
		return -EINVAL;
	}
	/* The tree splits RAM evenly over nodes in 2 MiB blocks (arm64_fdt.h)
	 * and QEMU's -numa nodes must say the same. */
	if (spec->memory_mb % (2 * q->l.nodes)) {
		snprintf(why, sizeof(why),
			 "memory_mb %u does not split into %u NUMA nodes of whole 2 MiB blocks",
			 spec->memory_mb, q->l.nodes);
		qemu_set_error(q->end, -EINVAL, "lay out guest RAM for an arm64 guest", why,
			       "use a memory_mb that is a multiple of 2 x numa_nodes");
		return -EINVAL;
	}
	return check_image(q, &info);
}

/* The ring at the top of RAM, in the last node's memfd (guest physical
 * ARM64_DRAM_BASE is offset 0 of node 0), formatted before QEMU runs. */
static int map_ring(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	char why[256];
	int rc;

	rc = qemu_mem_map_shm(&q->mem, q->l.shm_base - ARM64_DRAM_BASE, spec->shm_size);
	if (rc == 0)
		rc = ring_format(q->mem.shm, spec->shm_size);
	if (rc == 0)
		rc = ring_attach(&q->ring, q->mem.shm, spec->shm_size);
	if (rc < 0) {
		snprintf(why, sizeof(why), "shm_size 0x%x at 0x%llx in %u MB over %u node(s): %s",
			 spec->shm_size, (unsigned long long)q->l.shm_base, spec->memory_mb,
			 q->l.nodes, strerror(-rc));
		qemu_set_error(q->end, rc, "map the SHM ring region", why,
			       "the ring must fit in the last NUMA node's memory: raise memory_mb "
			       "or lower shm_size");
		return rc;
	}
	q->ring_ok = true;
	return 0;
}

/* The tree, as a sealed memfd. */
static int make_dtb(struct qemu_vm *q, uint64_t initrd_size)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	uint64_t mem = (uint64_t)spec->memory_mb << 20;
	struct arm64_fdt_spec s = { .topo = vm_spec_topo(spec),
				    .mem_bytes = mem,
				    .shm_base = l->shm_base,
				    .shm_size = spec->shm_size,
				    .bootargs = l->cmdline,
				    .uart = ARM64_UART_PL011,
				    .psci = ARM64_PSCI_HVC,
				    .pcie = true };
	char err[512], why[600];
	uint64_t dtb_end;
	void *blob = NULL; /* owned here, freed on every return */
	size_t len;
	int rc;

	if (initrd_size) {
		s.initrd_start = qemu_arm64_initrd_base(mem);
		s.initrd_end = s.initrd_start + initrd_size;
	}
	rc = arm64_fdt_build(&s, &blob, &len, err, sizeof(err));
	if (rc < 0) {
		qemu_set_error(q->end, rc, "build the arm64 device tree", err,
			       "fix the topology, memory_mb, shm_size or cmdline_extra as the reason "
			       "says (docs/aarch64.md, What arm64 refuses)");
		return rc;
	}
	/* QEMU puts the tree 2 MiB-aligned after the initrd (or the kernel). */
	dtb_end = ((s.initrd_end ? s.initrd_end : qemu_arm64_initrd_base(mem)) + 2 * MIB - 1) /
			  (2 * MIB) * (2 * MIB) +
		  len;
	if (spec->shm_size && dtb_end > l->shm_base) {
		snprintf(why, sizeof(why),
			 "the %llu KiB initrd QEMU loads at 0x%llx and the device tree it puts "
			 "after it end at 0x%llx, above the SHM ring at 0x%llx",
			 (unsigned long long)(initrd_size >> 10),
			 (unsigned long long)s.initrd_start, (unsigned long long)dtb_end,
			 (unsigned long long)l->shm_base);
		qemu_set_error(q->end, -ERANGE, "place the SHM ring", why,
			       "raise memory_mb, or ship fewer or smaller include_files");
		free(blob);
		return -ERANGE;
	}
	rc = memfd_sealed_from("ktstr-dtb", blob, len);
	free(blob);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "put the device tree in a memfd", strerror(-rc),
			       "check free memory");
		return rc;
	}
	l->dtb_fd = rc;
	return 0;
}

/* The kernel must fit between the start of RAM and the initrd QEMU loads
 * after it (QEMU would move the initrd up, away from the tree's range, and
 * the tree after it). QEMU's loader (hw/arm/boot.c) puts an Image whose
 * text_offset is below its 4 KiB boot stub 2 MiB further up than the boot
 * protocol's first slot (arm64_image_place's, a KVM loader's): the limit
 * given to arm64_image_place is lowered by that. *info: the Image's header. */
static int check_kernel_fits(struct qemu_vm *q, uint64_t initrd_size,
			     struct arm64_image_info *out)
{
	uint64_t mem = (uint64_t)q->in->spec->memory_mb << 20, load, limit = 0;
	struct arm64_image_info info;
	char err[384];
	int rc = check_image(q, &info);

	if (rc < 0)
		return rc;
	if (initrd_size) {
		limit = qemu_arm64_initrd_base(mem);
		if (info.text_offset < QEMU_ARM64_STUB_MAX)
			limit -= QEMU_ARM64_IMAGE_SHIFT;
	}
	rc = arm64_image_place(&info, mem, limit, &load, err, sizeof(err));
	if (rc < 0)
		qemu_set_error(q->end, rc, "place the arm64 kernel", err,
			       "raise memory_mb (QEMU loads the initrd at RAM + min(RAM/2, 128 MiB))");
	*out = info;
	return rc;
}

/* Guest-physical access for the monitor: RAM begins at ARM64_DRAM_BASE,
 * offset 0 of node 0's memfd; below it is the machine's MMIO, never read. */
static int a64_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	if (gpa < ARM64_DRAM_BASE)
		return -EFAULT;
	return qemu_mem_read(ctx, gpa - ARM64_DRAM_BASE, buf, len);
}

static int a64_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	if (gpa < ARM64_DRAM_BASE)
		return -EFAULT;
	return qemu_mem_write(ctx, gpa - ARM64_DRAM_BASE, buf, len);
}

/* The host-side monitor over the per-node memfds, with the Image where
 * QEMU will load it. A mapping failure leaves it off, not the VM. */
static void start_monitor(struct qemu_vm *q, const struct arm64_image_info *info)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct ktstr_topo t = vm_spec_topo(spec);
	int rc;

	if (!spec->kernel_layout)
		return;
	rc = qemu_mem_map_ram(&q->mem);
	if (rc) {
		snprintf(q->end->monitor.off, sizeof(q->end->monitor.off),
			 "cannot map guest RAM for it: %s", strerror(-rc));
		return;
	}
	vm_monitor_start_arm64(&q->end->monitor, spec, topo_cpus(&t), a64_mem_read, a64_mem_write,
			       &q->mem, ARM64_DRAM_BASE, ARM64_DRAM_BASE + qemu_mem_total(&q->mem),
			       qemu_arm64_kernel_base(info));
}

/* The fds QEMU gets, in order (3, 4, ... in the child), and its argv. */
static int build_argv(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	int fd_mem[QEMU_MAX_NODES], fd_kernel, fd_initrd = -1, fd_dtb;
	char kernel[32], initrd[32], dtb[32];
	struct qemu_arm64_in ai = { .qemu_path = l->qemu_path, .cpu_model = "max",
				    .topo = vm_spec_topo(spec),
				    .mem_bytes = (uint64_t)spec->memory_mb << 20,
				    .append = l->cmdline, .fd_mem = fd_mem };
	int rc;

	qemu_keep_common(q, &ai.fd_qmp, &ai.fd_com1, &ai.fd_com2, &ai.fd_log, &fd_kernel,
			 &fd_initrd);
	fd_dtb = qemu_keep(l, l->dtb_fd);
	for (uint32_t i = 0; i < l->nodes; i++)
		fd_mem[i] = qemu_keep(l, q->mem.fd[i]);
	snprintf(kernel, sizeof(kernel), "/proc/self/fd/%d", fd_kernel);
	snprintf(initrd, sizeof(initrd), "/proc/self/fd/%d", fd_initrd);
	snprintf(dtb, sizeof(dtb), "/proc/self/fd/%d", fd_dtb);
	ai.kernel = kernel;
	ai.initrd = fd_initrd >= 0 ? initrd : NULL;
	ai.dtb = dtb;
	rc = qemu_arm64_args(&ai, &l->argv);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "build qemu-system-aarch64's command line",
			       rc == -EINVAL ? "the topology's LLCs do not split over its NUMA nodes"
					     : strerror(-rc),
			       "use llcs that are a multiple of numa_nodes");
		return rc;
	}
	qemu_log_argv(l);
	return 0;
}

int qemu_arm64_launch_setup(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	uint64_t mem = (uint64_t)spec->memory_mb << 20, initrd_size = 0;
	struct arm64_image_info info;
	struct stat st;
	int rc;

	/* qemu_launch_memory splits RAM as qemu_split_memory does: evenly here,
	 * memory_mb being a multiple of 2 x nodes (qemu_arm64_launch_check). */
	rc = qemu_launch_memory(q);
	if (rc == 0)
		rc = qemu_launch_images(q);
	if (rc < 0)
		return rc;
	if (l->initrd_fd >= 0) {
		if (fstat(l->initrd_fd, &st) < 0)
			return -errno;
		initrd_size = (uint64_t)st.st_size;
	}
	rc = check_kernel_fits(q, initrd_size, &info);
	if (rc < 0)
		return rc;
	start_monitor(q, &info);
	l->shm_base = arm64_shm_base(mem, spec->shm_size);
	/* The tree's /reserved-memory reserves the ring: no memmap=. */
	rc = qemu_launch_cmdline(q, false);
	if (rc == 0)
		rc = make_dtb(q, initrd_size);
	if (rc == 0 && spec->shm_size)
		rc = map_ring(q);
	if (rc < 0)
		return rc;
	kdbg("qemu: arm64 guest, SHM ring at 0x%llx (+0x%x), top of RAM",
	     (unsigned long long)l->shm_base, spec->shm_size);
	rc = qemu_launch_open_channels(q);
	return rc < 0 ? rc : build_argv(q);
}
