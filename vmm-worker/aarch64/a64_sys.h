/* The arm64 KVM engine's one door to the kernel: every KVM ioctl, the open of
 * /dev/kvm and the mmap of a vCPU's kvm_run go through these three calls.
 * Production links a64_sys.c (the real syscalls); the arm64-kvm test lane
 * (scripts/arm64-kvm-lane) links tests/arm64/kvm_fake.c instead, which
 * records and checks every value handed to KVM. No other engine file makes a
 * KVM syscall, so the fake sees all of them and production code carries no
 * test hook. */
#ifndef KTSTR_A64_SYS_H
#define KTSTR_A64_SYS_H

#include <stddef.h>

/* open("/dev/kvm", O_RDWR | O_CLOEXEC): an fd the caller owns, or -errno. */
int a64_open_kvm(void);
/* ioctl(fd, req, arg), retried on EINTR: >= 0 (the ioctl's value) or -errno. */
int a64_ioctl(int fd, unsigned long req, void *arg);
/* ioctl(vcpu_fd, KVM_RUN, 0), NOT retried: -EINTR means a signal kicked the
 * vCPU out (the run loop then looks at its stop flag). >= 0 or -errno. */
int a64_run(int vcpu_fd);
/* mmap of a vCPU fd's kvm_run (size from KVM_GET_VCPU_MMAP_SIZE): the
 * mapping, owned by the caller (a64_unmap_run), or NULL with errno set. */
void *a64_map_run(int vcpu_fd, size_t size);
void a64_unmap_run(void *run, size_t size);

#endif
