/* The arm64 VM and its RAM (a64_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "a64_sys.h"
#include "a64_vm.h"

void a64_vm_init(struct a64_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->gic_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	for (unsigned i = 0; i < A64_MAX_NODES; i++)
		vm->node[i].memfd = -1;
}

int a64_vm_create(struct a64_vm *vm, const struct ktstr_topo *t, uint64_t mem_bytes, char *err,
		  size_t errlen)
{
	uint64_t ncpus = (uint64_t)t->numa_nodes * t->llcs * t->cores_per_llc * t->threads_per_core;
	if (ncpus == 0 || ncpus > ARM64_MAX_VCPUS || t->numa_nodes > A64_MAX_NODES) {
		snprintf(err, errlen,
			 "arm64 KVM: %llu vCPUs on %u NUMA nodes: at most %u vCPUs (the GICv3 "
			 "redistributor region) and %u nodes; use a smaller topology",
			 (unsigned long long)ncpus, t->numa_nodes, ARM64_MAX_VCPUS, A64_MAX_NODES);
		return -EINVAL;
	}
	if (mem_bytes == 0 || mem_bytes % ((uint64_t)t->numa_nodes * ARM64_NODE_ALIGN) ||
	    mem_bytes > ARM64_DRAM_MAX - ARM64_DRAM_BASE) {
		snprintf(err, errlen,
			 "arm64 KVM: RAM of %llu bytes does not split into %u nodes of 2 MiB "
			 "multiples below 255 GiB; use a multiple of %llu MiB",
			 (unsigned long long)mem_bytes, t->numa_nodes,
			 (unsigned long long)t->numa_nodes * 2);
		return -EINVAL;
	}
	vm->topo = *t;
	vm->ncpus = (uint32_t)ncpus;
	vm->nnodes = t->numa_nodes;
	vm->mem_bytes = mem_bytes;

	int fd = a64_open_kvm();
	if (fd < 0) {
		snprintf(err, errlen, "arm64 KVM: open /dev/kvm: %s; the host needs KVM (arm64)",
			 strerror(-fd));
		return fd;
	}
	vm->kvm_fd = fd;
	int v = a64_ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL);
	if (v != KVM_API_VERSION) {
		snprintf(err, errlen, "arm64 KVM: KVM_GET_API_VERSION is %d, not %d", v,
			 KVM_API_VERSION);
		return v < 0 ? v : -ENOTSUP;
	}
	/* Machine type 0: the default 40-bit IPA space, which holds RAM up to
	 * 255 GiB above 1 GiB and every device ktstr describes for KVM (the
	 * PCIe windows above it are QEMU's only). */
	fd = a64_ioctl(vm->kvm_fd, KVM_CREATE_VM, (void *)0);
	if (fd < 0) {
		snprintf(err, errlen, "arm64 KVM: KVM_CREATE_VM: %s", strerror(-fd));
		return fd;
	}
	vm->vm_fd = fd;
	int sz = a64_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (sz < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "arm64 KVM: KVM_GET_VCPU_MMAP_SIZE: %d", sz);
		return sz < 0 ? sz : -EPROTO;
	}
	vm->run_size = (size_t)sz;
	return 0;
}

int a64_vm_map_ram(struct a64_vm *vm, char *err, size_t errlen)
{
	uint64_t per = vm->mem_bytes / vm->nnodes;
	for (uint32_t n = 0; n < vm->nnodes; n++) {
		struct a64_node_ram *r = &vm->node[n];
		char name[32];
		snprintf(name, sizeof(name), "ktstr-ram-node%u", n);
		r->memfd = memfd_create(name, MFD_CLOEXEC);
		if (r->memfd < 0 || ftruncate(r->memfd, (off_t)per) < 0) {
			int e = errno;
			snprintf(err, errlen, "arm64 KVM: RAM of node %u (%llu bytes): %s", n,
				 (unsigned long long)per, strerror(e));
			return -e;
		}
		void *p = mmap(NULL, per, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			snprintf(err, errlen, "arm64 KVM: map RAM of node %u: %s", n, strerror(e));
			return -e;
		}
		r->host = p;
		r->size = per;
		r->gpa = ARM64_DRAM_BASE + n * per;
		struct kvm_userspace_memory_region reg = {
			.slot = n,
			.guest_phys_addr = r->gpa,
			.memory_size = per,
			.userspace_addr = (uintptr_t)p,
		};
		int rc = a64_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg);
		if (rc < 0) {
			snprintf(err, errlen,
				 "arm64 KVM: KVM_SET_USER_MEMORY_REGION slot %u at 0x%llx (%llu bytes): %s",
				 n, (unsigned long long)r->gpa, (unsigned long long)per, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void *a64_gpa(const struct a64_vm *vm, uint64_t gpa, uint64_t len)
{
	for (uint32_t n = 0; n < vm->nnodes; n++) {
		const struct a64_node_ram *r = &vm->node[n];
		if (r->host && gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

void a64_vm_drop_setup_fds(struct a64_vm *vm)
{
	if (vm->kvm_fd >= 0) {
		close(vm->kvm_fd);
		vm->kvm_fd = -1;
	}
	for (unsigned n = 0; n < A64_MAX_NODES; n++)
		if (vm->node[n].memfd >= 0) {
			close(vm->node[n].memfd);
			vm->node[n].memfd = -1;
		}
}

void a64_vm_close(struct a64_vm *vm)
{
	for (uint32_t i = 0; vm->run && i < vm->ncpus; i++)
		if (vm->run[i])
			a64_unmap_run(vm->run[i], vm->run_size);
	for (uint32_t i = 0; vm->vcpu_fd && i < vm->ncpus; i++)
		if (vm->vcpu_fd[i] >= 0)
			close(vm->vcpu_fd[i]);
	free(vm->run);
	free(vm->vcpu_fd);
	vm->run = NULL;
	vm->vcpu_fd = NULL;
	for (unsigned n = 0; n < A64_MAX_NODES; n++) {
		struct a64_node_ram *r = &vm->node[n];
		if (r->host)
			munmap(r->host, r->size);
		if (r->memfd >= 0)
			close(r->memfd);
		r->host = NULL;
		r->memfd = -1;
	}
	int *fds[] = { &vm->gic_fd, &vm->vm_fd, &vm->kvm_fd };
	for (unsigned i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}
