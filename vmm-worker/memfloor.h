/* The smallest guest memory with which the kernel can boot and unpack its
 * initramfs: the kernel's in-memory footprint, the compressed initramfs it
 * reads from, the unpacked tmpfs copy, slack for the kernel itself and the
 * SHM region carved off the top. Below it, a VM dies of OOM while unpacking
 * /init — a failure that looks like a kernel bug — so the worker raises the
 * memory instead (the reference's deferred allocation). */
#ifndef KTSTR_WORKER_MEMFLOOR_H
#define KTSTR_WORKER_MEMFLOOR_H

#include <stdint.h>

/* In-memory size the kernel needs: bzImage setup_header init_size (file
 * offset 0x260), or the extent of an ELF vmlinux's PT_LOAD segments.
 * Returns 0 or -errno (-ENOEXEC: neither format). */
int memfloor_kernel_init_size(int kernel_fd, uint64_t *init_size);

/* Floor in MiB: ceil((ceil(unpacked*10/9) + init_size + packed) * 64/63)
 * + 256 + ceil(shm). packed = bytes of initramfs in guest memory (base +
 * suffix), unpacked = what they expand to. */
uint32_t memfloor_mb(uint64_t init_size, uint64_t packed, uint64_t unpacked, uint32_t shm_size);

/* Unpacked size estimate of an initramfs image held in fd: exact for a plain
 * cpio ("070701"), 4x for gzip/LZ4/zstd/xz when the builder did not say. */
uint64_t memfloor_unpacked_estimate(int initrd_fd, uint64_t size);

#endif
