#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>
#include <ktstr/memfd.h>

/* A sealable memfd of exactly len bytes (sized first, so the kernel can
 * allocate in one go). Returns the fd or -errno. */
static int memfd_sized(const char *name, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), ret;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int memfd_sealed_from(const char *name, const void *data, size_t len)
{
	int fd, ret;

	fd = memfd_sized(name, len);
	if (fd < 0)
		return fd;
	ret = write_full(fd, data, len);
	if (ret)
		goto err_close;
	ret = memfd_seal(fd);
	if (ret)
		goto err_close;
	return fd;
err_close:
	close(fd);
	return ret;
}

int memfd_mapped(const char *name, size_t len, void **map)
{
	void *m;
	int fd, ret;

	if (!len)
		return -EINVAL;
	fd = memfd_sized(name, len);
	if (fd < 0)
		return fd;
	if (!map)
		return fd;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	*map = m;
	return fd;
err_close:
	close(fd);
	return ret;
}

int memfd_sealed_copy(const char *name, int src, size_t max)
{
	struct stat st;
	off_t off = 0;
	int fd, ret;

	if (fstat(src, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	fd = memfd_sized(name, (size_t)st.st_size);
	if (fd < 0)
		return fd;
	while (off < st.st_size) {
		/* sendfile with an offset pointer leaves src's own offset alone. */
		ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO; /* the file shrank under us */
			goto err_close;
		}
	}
	ret = memfd_seal(fd);
	if (ret)
		goto err_close;
	return fd;
err_close:
	close(fd);
	return ret;
}

int memfd_seal(int fd)
{
	if (fcntl(fd, F_ADD_SEALS, IMAGE_SEALS))
		return -errno;
	/* Receivers use pread/mmap, but a plain read() from a dup must not
	 * start at the end. */
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return 0;
}

int memfd_check_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -errno;
	return (seals & IMAGE_SEALS) == IMAGE_SEALS ? 0 : -EPERM;
}
