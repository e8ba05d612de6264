/* Host-side resources of a QEMU VM that exist before QEMU does: guest RAM
 * memfds (the worker keeps a mapping of the SHM region), the initrd memfd,
 * and the QEMU binary's path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "qemu.h"

int qemu_find_binary(const char *name, char *out, size_t outlen)
{
	if (!name || !*name)
		name = QEMU_BINARY_X86_64;
	if (strchr(name, '/')) {
		if (access(name, X_OK) != 0)
			return -errno;
		if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, path, name) < outlen &&
		    access(out, X_OK) == 0)
			return 0;
		path += n;
		if (*path == ':')
			path++;
	}
	out[0] = '\0';
	return -ENOENT;
}

int qemu_mem_create(struct qemu_mem *m, uint32_t nodes, const uint64_t *node_mb)
{
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++)
		m->fd[i] = -1;
	m->nodes = nodes;
	for (uint32_t i = 0; i < nodes; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ktstr-guest-ram-%u", i);
		/* CLOEXEC: only the QEMU child gets it, through ktstr_spawn. */
		m->fd[i] = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (m->fd[i] < 0)
			goto err;
		m->size[i] = node_mb[i] << 20;
		if (ftruncate(m->fd[i], (off_t)m->size[i]) != 0)
			goto err;
		/* The size is final: a QEMU that guest code took over cannot
		 * shrink it under the worker's mappings (the ring, the
		 * monitor's view), which would fault the worker (SIGBUS). */
		if (fcntl(m->fd[i], F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
			goto err;
	}
	return 0;
err:;
	int rc = -errno;
	qemu_mem_destroy(m);
	return rc;
}

int qemu_mem_map_shm(struct qemu_mem *m, uint64_t shm_base, uint32_t shm_size)
{
	uint64_t start = 0;
	for (uint32_t i = 0; i < m->nodes; i++) {
		if (shm_base >= start && shm_base + shm_size <= start + m->size[i]) {
			uint64_t off = shm_base - start;
			if (off & 4095)
				return -EINVAL;
			/* Only the SHM region is mapped: guest RAM pages the
			 * worker never touches stay out of its RSS. */
			void *p = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd[i],
				       (off_t)off);
			if (p == MAP_FAILED)
				return -errno;
			m->shm = p;
			m->shm_size = shm_size;
			return 0;
		}
		start += m->size[i];
	}
	return -ERANGE; /* straddles two nodes or lies outside RAM */
}

int qemu_mem_map_ram(struct qemu_mem *m)
{
	for (uint32_t i = 0; i < m->nodes; i++) {
		void *p = mmap(NULL, m->size[i], PROT_READ | PROT_WRITE, MAP_SHARED, m->fd[i], 0);

		if (p == MAP_FAILED)
			return -errno;
		m->ram[i] = p;
	}
	return 0;
}

uint64_t qemu_mem_total(const struct qemu_mem *m)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < m->nodes; i++)
		total += m->size[i];
	return total;
}

/* Copy between buf and [gpa, gpa+len), across node boundaries. */
static int mem_copy(struct qemu_mem *m, uint64_t gpa, uint8_t *buf, size_t len, bool to_guest)
{
	uint64_t start = 0;

	for (uint32_t i = 0; i < m->nodes && len; i++) {
		uint64_t end = start + m->size[i];

		if (gpa < end && gpa >= start) {
			size_t n = (size_t)(end - gpa) < len ? (size_t)(end - gpa) : len;

			if (!m->ram[i])
				return -EFAULT;
			if (to_guest)
				memcpy(m->ram[i] + (gpa - start), buf, n);
			else
				memcpy(buf, m->ram[i] + (gpa - start), n);
			gpa += n;
			buf += n;
			len -= n;
		}
		start = end;
	}
	return len ? -EFAULT : 0;
}

int qemu_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return mem_copy(ctx, gpa, buf, len, false);
}

int qemu_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	return mem_copy(ctx, gpa, (uint8_t *)buf, len, true);
}

void qemu_mem_destroy(struct qemu_mem *m)
{
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++) {
		if (m->ram[i])
			munmap(m->ram[i], m->size[i]);
		m->ram[i] = NULL;
	}
	if (m->shm)
		munmap(m->shm, m->shm_size);
	m->shm = NULL;
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

/* Append all of src (from offset 0, src's own offset untouched) to dst.
 * sendfile copies inside the kernel: no user buffer, whose fresh pages
 * would each cost a page fault (docs/benchmarks.md: a 1 MiB bounce buffer
 * was 3 ms of the worker's start-up on a paravirtual host). Returns the
 * bytes copied or -errno. */
static int64_t copy_all(int dst, int src)
{
	off_t off = 0;

	for (;;) {
		ssize_t n = sendfile(dst, src, &off, 1u << 30);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (int64_t)off;
	}
}

/* base (may be -1) + zero padding to 4 bytes + suffix. The kernel unpacks
 * concatenated cpio archives and skips zero padding between them; archives
 * must start 4-byte aligned. */
int qemu_initrd_build(int base_fd, const uint8_t *suffix, size_t suffix_len, int *out_fd)
{
	static const uint8_t zeros[4];
	uint64_t total = 0;
	int fd, rc;

	*out_fd = -1;
	if (base_fd < 0 && !suffix_len)
		return 0;
	fd = memfd_create("ktstr-initrd", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (base_fd >= 0) {
		int64_t n = copy_all(fd, base_fd);
		if (n < 0) {
			rc = (int)n;
			goto err_close;
		}
		total = (uint64_t)n;
	}
	if (suffix_len) {
		if (total & 3) {
			rc = write_full(fd, zeros, 4 - (total & 3));
			if (rc < 0)
				goto err_close;
		}
		rc = write_full(fd, suffix, suffix_len);
		if (rc < 0)
			goto err_close;
	}
	*out_fd = fd;
	return 0;

err_close:
	close(fd);
	return rc;
}
