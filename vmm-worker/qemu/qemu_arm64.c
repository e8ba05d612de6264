/* qemu-system-aarch64's command line for an arm64 guest. See qemu_arm64.h. */
#include <errno.h>

#include "arm64-guest/arm64_layout.h"
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

int qemu_arm64_args(const struct qemu_arm64_in *in, struct strv *out)
{
	const struct ktstr_topo *t = &in->topo;
	uint32_t cpus = topo_cpus(t), per_node = cpus / t->numa_nodes;
	uint64_t node_mb = (in->mem_bytes >> 20) / t->numa_nodes;
	int rc;

	if (!t->numa_nodes || t->llcs % t->numa_nodes || in->mem_bytes % t->numa_nodes)
		return -EINVAL;
	ADD("%s", in->qemu_path);
	/* Only the devices the tree describes, no config files, no display. */
	ADD("-nodefaults");
	ADD("-no-user-config");
	ADD("-display");
	ADD("none");
	/* gic-version=3: the tree's GICv3 at QEMU virt's addresses
	 * (arm64_layout.h); -dtb replaces QEMU's generated tree with ours. */
	ADD("-M");
	if (in->dumpdtb)
		ADD("virt,gic-version=3,dumpdtb=%s", in->dumpdtb);
	else
		ADD("virt,gic-version=3");
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
	 * /memory without it): these make its nodes the tree's, node by node. */
	for (uint32_t n = 0; n < t->numa_nodes; n++) {
		ADD("-object");
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
	ADD("-serial");
	ADD("stdio");
	/* A guest reset ends QEMU like a power-off: nothing reboots. */
	ADD("-no-reboot");
	return 0;
}
