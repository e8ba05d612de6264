#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktstr/util.h"
#include "memfd.h"

int memfd_sealed_from(const char *name, const void *data, size_t len)
{
	int fd, ret;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* ftruncate first so the size is exact and the kernel can allocate
	 * in one go; then write the bytes. */
	if (ftruncate(fd, (off_t)len)) {
		ret = -errno;
		goto err_close;
	}
	ret = write_full(fd, data, len);
	if (ret)
		goto err_close;
	if (fcntl(fd, F_ADD_SEALS, IMAGE_SEALS)) {
		ret = -errno;
		goto err_close;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		ret = -errno;
		goto err_close;
	}
	return fd;
err_close:
	close(fd);
	return ret;
}

int memfd_check_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -errno;
	return (seals & IMAGE_SEALS) == IMAGE_SEALS ? 0 : -EPERM;
}
