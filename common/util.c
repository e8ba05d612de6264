/* Small shared helpers: clocks, full reads/writes, whole-file I/O, growable
 * buffers, CRC32, mkdir -p. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "ktstr/util.h"

uint64_t ktstr_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ktstr_now_ms(void)
{
	return ktstr_now_us() / 1000u;
}

uint64_t ktstr_cpu_time_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int read_fd_all(int fd, struct strbuf *sb, size_t max)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		int ret;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		if (sb->len + (size_t)n > max)
			return -EFBIG;
		ret = sb_append(sb, chunk, (size_t)n);
		if (ret)
			return ret;
	}
}

int read_regular_bounded(const char *path, size_t max, struct strbuf *sb)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), ret;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -ENODEV;
	else if ((uint64_t)st.st_size > max)
		ret = -EFBIG;
	else
		ret = read_fd_all(fd, sb, max);
	close(fd);
	return ret;
}

int read_file(const char *path, char **out, size_t *len, size_t max)
{
	struct strbuf sb = { 0 };
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd_all(fd, &sb, max);
	/* Always hand back a NUL-terminated buffer, even for empty files. */
	if (!ret)
		ret = sb_append(&sb, "", 1);
	close(fd);
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	*out = sb.buf;
	if (len)
		*len = sb.len - 1;
	return 0;
}

int write_file(const char *path, const char *s)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write_full(fd, s, strlen(s));
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int write_file_create(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	ret = write_full(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int ktstr_grow(void **v, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *nv;

	if (!elem)
		return -EINVAL;
	if (need <= *cap)
		return 0;
	if (need > SIZE_MAX / elem)
		return -ENOMEM;
	if (!ncap)
		ncap = 1;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	/* Doubling may pass what fits in size_t bytes; need itself fits. */
	if (ncap > SIZE_MAX / elem)
		ncap = SIZE_MAX / elem;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

int sb_append(struct strbuf *sb, const void *data, size_t len)
{
	if (len > SIZE_MAX - 1 - sb->len)
		return -ENOMEM;
	if (KTSTR_GROW(sb->buf, &sb->cap, sb->len + len + 1, 256))
		return -ENOMEM;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return sb_append(sb, small, (size_t)n);
	{
		char *big = malloc((size_t)n + 1);
		int ret;

		if (!big)
			return -ENOMEM;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		ret = sb_append(sb, big, (size_t)n);
		free(big);
		return ret;
	}
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

uint32_t ktstr_crc32(const void *buf, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	const Bytef *p = buf;

	/* zlib's length is uInt: feed large buffers in pieces. */
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)crc;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}
