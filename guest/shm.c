/* /dev/mem mapping of the ring. The region is kept from the kernel (x86_64:
 * an E820 hole, memmap=; arm64: a /reserved-memory no-map node of the device
 * tree), so the kernel never uses it; with iomem=relaxed a STRICT_DEVMEM
 * kernel still lets PID 1 map it. MAP_SHARED + O_SYNC keep the stores
 * uncached-visible to the host that reads the same guest-physical pages.
 * On arm64 the mapping is Device memory: only aligned accesses, no atomics
 * (common/ring.c does every access to it; so does the zero check below). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktstr/guest_contract.h"
#include "shm.h"

/* How the host keeps the ring out of the kernel's RAM, named in the errors
 * (the guest is built per architecture, so the compile target decides). */
#if defined(__aarch64__)
#define SHM_RESERVATION "a /reserved-memory no-map region of the device tree"
#else
#define SHM_RESERVATION "an E820 hole (memmap=)"
#endif

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || (*end && *end != ' ' && *end != '\n'))
		return -EINVAL;
	return 0;
}

static const char *find_token(const char *cmdline, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = cmdline; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return p + kl + 1;
		p = strchr(p, ' ');
	}
	return NULL;
}

int shm_parse_params(const char *env_base, const char *env_size, const char *cmdline,
		     uint64_t *base, uint64_t *size)
{
	const char *b = env_base ? env_base : find_token(cmdline, KTSTR_CMDLINE_SHM_BASE);
	const char *s = env_size ? env_size : find_token(cmdline, KTSTR_CMDLINE_SHM_SIZE);

	if (!b || !s)
		return -ENOENT;
	if (parse_u64(b, base) || parse_u64(s, size))
		return -EINVAL;
	if (*size == 0) /* shell VMs: no ring */
		return -ENOENT;
	/* 8-byte alignment: the header's 64-bit fields are loaded with
	 * acquire, which must be aligned (ktstr/ring.h). */
	if (*size <= KTSTR_RING_HDR_SIZE + KTSTR_RING_MSG_HDR_SIZE ||
	    *size - KTSTR_RING_HDR_SIZE > KTSTR_RING_MAX_CAPACITY || *base + *size < *base ||
	    (*base & 7))
		return -EINVAL;
	return 0;
}

int shm_map(const char *memdev, uint64_t base, uint64_t size, struct guest_shm *s, char *err,
	    size_t errlen)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t start = base & ~((uint64_t)pg - 1), lead = base - start;
	void *map;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	fd = open(memdev, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "open %s for the SHM ring: %s; the kernel needs CONFIG_DEVMEM and "
			 "iomem=relaxed",
			 memdev, strerror(-ret));
		return ret;
	}
	map = mmap(NULL, size + lead, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
	ret = -errno;
	close(fd); /* the mapping keeps the pages; the fd is not needed */
	if (map == MAP_FAILED && ret == -EAGAIN) {
		/* x86 PAT refuses an uncached mapping when the kernel already
		 * tracks the range with another memory type; a cached mapping is
		 * still coherent with the host (same physical pages, x86 is cache
		 * coherent), so retry without O_SYNC. arm64 has no such refusal
		 * (and maps a no-map region as Device memory either way). */
		fd = open(memdev, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			map = mmap(NULL, size + lead, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				   (off_t)start);
			ret = -errno;
			close(fd);
		}
	}
	if (map == MAP_FAILED) {
		snprintf(err, errlen,
			 "mmap %s at 0x%llx (+%llu bytes) for the SHM ring: %s; is the region "
			 SHM_RESERVATION " and iomem=relaxed set?",
			 memdev, (unsigned long long)base, (unsigned long long)size,
			 strerror(-ret));
		return ret;
	}
	s->map = map;
	s->map_len = size + lead;
	ret = ring_attach(&s->ring, (uint8_t *)map + lead, size);
	if (ret) {
		/* An all-zero header means nobody formatted it (e.g. the QEMU
		 * engine with a fresh backing file); anything else is someone
		 * else's data and must not be overwritten. */
		const volatile uint8_t *h = (const volatile uint8_t *)map + lead;
		int zero = 1;

		for (unsigned i = 0; i < KTSTR_RING_HDR_SIZE; i++)
			zero &= h[i] == 0;
		if (zero && ring_format((uint8_t *)map + lead, size) == 0 &&
		    ring_attach(&s->ring, (uint8_t *)map + lead, size) == 0) {
			s->formatted_here = true;
			return 0;
		}
		snprintf(err, errlen,
			 "SHM ring at 0x%llx has no valid header (%s); the host must format it "
			 "before boot",
			 (unsigned long long)base, strerror(-ret));
		shm_unmap(s);
		return ret;
	}
	return 0;
}

void shm_unmap(struct guest_shm *s)
{
	if (s->map)
		munmap(s->map, s->map_len);
	memset(s, 0, sizeof(*s));
}
