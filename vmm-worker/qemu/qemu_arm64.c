/* qemu-system-aarch64's command line for an arm64 guest. See qemu_arm64.h. */
#include <errno.h>

#include "arm64-guest/arm64_image.h"
#include "arm64-guest/arm64_layout.h"
#include "qemu.h"
#include "qemu_arm64.h"

#define ADD(...)                                              \
	do {                                                  \
		if ((rc = strv_pushf(out, __VA_ARGS__)) < 0) \
			return rc;                            \
	} while (0)

uint64_t qemu_arm64_initrd_base(uint64_t mem_bytes)
{
	uint64_t half = mem_bytes / 2, cap = 128ull << 20;

	return ARM64_DRAM_BASE + (half < cap ? half : cap);
}

uint64_t qemu_arm64_kernel_base(const struct arm64_image_info *i)
{
	if (i->legacy)
		return ARM64_DRAM_BASE + QEMU_ARM64_LEGACY_LOAD;
	if (i->text_offset < QEMU_ARM64_STUB_MAX)
		return ARM64_DRAM_BASE + QEMU_ARM64_IMAGE_SHIFT + i->text_offset;
	return ARM64_DRAM_BASE + i->text_offset;
}

static bool worker_mode(const struct qemu_arm64_in *in)
{
	return in->fd_qmp >= 0 && in->fd_mem;
}

/* The worker's channels: every one a connected socket or pipe the worker
 * holds the other end of (as qemu_args.c's x86 line). */
static int args_channels(const struct qemu_arm64_in *in, struct strv *out)
{
	int rc;

	/* COM1: the PL011 (ttyAMA0), the kernel console. */
	ADD("-chardev");
	ADD("socket,id=com1,fd=%d", in->fd_com1);
	ADD("-serial");
	ADD("chardev:com1");
	/* COM2: QEMU 7.2 virt has one non-secure UART, so the guest's output
	 * port is a virtio console (hvc0) on the PCIe host the tree describes.
	 * Without MSI (no ITS) it interrupts through INTx. */
	ADD("-device");
	ADD("virtio-serial-pci,id=vser0");
	ADD("-chardev");
	ADD("socket,id=com2,fd=%d", in->fd_com2);
	ADD("-device");
	ADD("virtconsole,bus=vser0.0,chardev=com2");
	/* QMP, the reset log and QEMU's own seccomp filter, as on x86. */
	return qemu_args_control(in->fd_qmp, in->fd_log, out);
}

int qemu_arm64_args(const struct qemu_arm64_in *in, struct strv *out)
{
	const struct ktstr_topo *t = &in->topo;
	uint32_t cpus = topo_cpus(t), per_node;
	uint64_t node_mb;
	bool worker = worker_mode(in);
	int rc;

	if (!t->numa_nodes || t->llcs % t->numa_nodes || in->mem_bytes % t->numa_nodes)
		return -EINVAL;
	per_node = cpus / t->numa_nodes;
	node_mb = (in->mem_bytes >> 20) / t->numa_nodes;
	ADD("%s", in->qemu_path);
	/* Only the devices the tree describes, no config files, no display. */
	ADD("-nodefaults");
	ADD("-no-user-config");
	ADD("-display");
	ADD("none");
	/* A guest reset (PSCI SYSTEM_RESET, a panic's reboot) ends QEMU like
	 * a power-off (PSCI SYSTEM_OFF); QMP's SHUTDOWN reason tells them
	 * apart (guest-reset / guest-shutdown). */
	ADD("-no-reboot");
	/* The worker confines itself before the first guest instruction and
	 * starts the guest with QMP "cont" (qemu_confine.c). */
	if (worker)
		ADD("-S");
	/* gic-version=3: the tree's GICv3 at QEMU virt's addresses
	 * (arm64_layout.h); highmem=on: the high PCIe ECAM and 64-bit window
	 * the tree's pcie node names (and RAM above 3 GiB); its=off: the tree
	 * has no ITS, so nothing may expect MSIs through one. -dtb replaces
	 * QEMU's generated tree with ours. */
	ADD("-M");
	if (in->dumpdtb)
		ADD("virt,gic-version=3,highmem=on,its=off,dumpdtb=%s", in->dumpdtb);
	else
		ADD("virt,gic-version=3,highmem=on,its=off");
	/* TCG: an arm64 guest on an x86_64 host (engine_select.c refuses KVM
	 * for it); multi-threaded TCG, the default for this pair. */
	if (worker) {
		ADD("-accel");
		ADD("tcg");
	}
	ADD("-cpu");
	ADD("%s", in->cpu_model);
	/* The topology lives in the tree (cpu-map, caches); -smp only has to
	 * agree with it: a socket per node, a cluster per LLC. */
	ADD("-smp");
	ADD("%u,sockets=%u,clusters=%u,cores=%u,threads=%u", cpus, t->numa_nodes,
	    t->llcs / t->numa_nodes, t->cores_per_llc, t->threads_per_core);
	ADD("-m");
	ADD("%lluM", (unsigned long long)(node_mb * t->numa_nodes));
	/* QEMU rewrites the memory nodes of a -dtb tree from -numa (or as one
	 * /memory without it): these make its nodes the tree's, node by node.
	 * The worker's RAM is its memfds, shared, so the SHM ring at the top
	 * of the last node is the worker's mapping too. */
	for (uint32_t n = 0; n < t->numa_nodes; n++) {
		ADD("-object");
		if (worker)
			ADD("memory-backend-file,id=m%u,size=%lluM,mem-path=/proc/self/fd/%d,share=on",
			    n, (unsigned long long)node_mb, in->fd_mem[n]);
		else
			ADD("memory-backend-ram,id=m%u,size=%lluM", n, (unsigned long long)node_mb);
		ADD("-numa");
		ADD("node,nodeid=%u,cpus=%u-%u,memdev=m%u", n, n * per_node, (n + 1) * per_node - 1,
		    n);
	}
	ADD("-dtb");
	ADD("%s", in->dtb);
	ADD("-kernel");
	ADD("%s", in->kernel);
	if (in->initrd) {
		ADD("-initrd");
		ADD("%s", in->initrd);
	}
	ADD("-append");
	ADD("%s", in->append);
	if (worker)
		return args_channels(in, out);
	ADD("-serial");
	ADD("stdio");
	return 0;
}
