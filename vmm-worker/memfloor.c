/* Guest memory floor (docs/reference.md, "Memory floor"). See memfloor.h. */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/le.h>

#include "memfloor.h"

#define MIB (1024ull * 1024ull)

static uint64_t div_ceil(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

int memfloor_kernel_init_size(int kernel_fd, uint64_t *init_size)
{
	uint8_t hdr[0x264];
	Elf64_Ehdr eh;
	ssize_t n;

	n = pread(kernel_fd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return -errno;
	/* bzImage: "HdrS" at 0x202; init_size (u32) at 0x260 is the linear
	 * memory the kernel needs from its load address until it has
	 * finished decompressing and relocating itself. */
	if (n >= (ssize_t)sizeof(hdr) && !memcmp(hdr + 0x202, "HdrS", 4)) {
		*init_size = get_le32(hdr + 0x260);
		return 0;
	}
	if (n < (ssize_t)sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, hdr, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		return -ENOEXEC;
	{
		uint64_t lo = UINT64_MAX, hi = 0;

		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			if (pread(kernel_fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph))
				return -ENOEXEC;
			if (ph.p_type != PT_LOAD)
				continue;
			if (ph.p_paddr < lo)
				lo = ph.p_paddr;
			if (ph.p_paddr + ph.p_memsz > hi)
				hi = ph.p_paddr + ph.p_memsz;
		}
		if (hi <= lo)
			return -ENOEXEC;
		*init_size = hi - lo;
	}
	return 0;
}

uint32_t memfloor_mb(uint64_t init_size, uint64_t packed, uint64_t unpacked, uint32_t shm_size)
{
	/* 10/9: tmpfs and cpio overheads on the unpacked copy; 64/63: page
	 * table and struct page cost of the memory itself (1/64 of RAM). */
	uint64_t boot = div_ceil(unpacked * 10, 9) + init_size + packed;

	boot = div_ceil(boot * 64, 63);
	return (uint32_t)(div_ceil(boot, MIB) + 256 + div_ceil(shm_size, MIB));
}

uint64_t memfloor_unpacked_estimate(int initrd_fd, uint64_t size)
{
	uint8_t m[6];

	if (initrd_fd < 0 || size == 0)
		return size;
	if (pread(initrd_fd, m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return size;
	if (!memcmp(m, "070701", 6))
		return size;
	return size * 4;
}
