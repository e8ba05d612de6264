/* The real KVM syscalls behind a64_sys.h (see there: the test lane swaps
 * this file for a recording fake at link time). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "a64_sys.h"

int a64_open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int a64_ioctl(int fd, unsigned long req, void *arg)
{
	int rc;
	do
		rc = ioctl(fd, req, arg);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : rc;
}

int a64_run(int vcpu_fd)
{
	int rc = ioctl(vcpu_fd, KVM_RUN, 0);
	return rc < 0 ? -errno : rc;
}

void *a64_map_run(int vcpu_fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

void a64_unmap_run(void *run, size_t size)
{
	munmap(run, size);
}
