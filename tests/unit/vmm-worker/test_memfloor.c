/* The guest memory floor (docs/reference.md, "Memory floor"): from a
 * bzImage's init_size or a vmlinux's PT_LOAD extent, and the initramfs
 * sizes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfloor.h"

#define MIB (1024ull * 1024ull)

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("memfloor-test", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	return fd;
}

Test(memfloor, bzimage_init_size_from_setup_header)
{
	static uint8_t img[0x1000];
	uint64_t sz = 0;
	int fd;

	memcpy(img + 0x202, "HdrS", 4);
	img[0x260] = 0x00;
	img[0x261] = 0x00;
	img[0x262] = 0x40; /* 0x04400000 = 68 MiB */
	img[0x263] = 0x04;
	fd = memfd_with(img, sizeof(img));
	cr_assert_eq(memfloor_kernel_init_size(fd, &sz), 0);
	cr_assert_eq(sz, 68 * MIB);
	close(fd);
}

Test(memfloor, vmlinux_extent_of_load_segments)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[3];
	} f = { 0 };
	uint64_t sz = 0;
	int fd;

	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_phoff = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 3;
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = 0x1000000, .p_memsz = 0x800000 };
	f.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_paddr = 0, .p_memsz = 0x100 };
	f.ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = 0x2000000, .p_memsz = 0x1000000 };
	fd = memfd_with(&f, sizeof(f));
	cr_assert_eq(memfloor_kernel_init_size(fd, &sz), 0);
	/* 0x1000000 .. 0x3000000: 32 MiB; the note does not count */
	cr_assert_eq(sz, 32 * MIB);
	close(fd);
}

Test(memfloor, neither_format_is_enoexec)
{
	static uint8_t junk[0x400];
	uint64_t sz;
	int fd = memfd_with(junk, sizeof(junk));

	cr_assert_eq(memfloor_kernel_init_size(fd, &sz), -ENOEXEC);
	close(fd);
}

Test(memfloor, formula)
{
	/* init 63 MiB, 18 MiB packed and unpacked (plain cpio), 16 MiB SHM:
	 * ceil((20 + 63 + 18) MiB * 64/63) = 102.6 -> 103 MiB; + 256 + 16. */
	cr_assert_eq(memfloor_mb(63 * MIB, 18 * MIB, 18 * MIB, 16u << 20), 103 + 256 + 16);
	/* Nothing to unpack still leaves the kernel and 256 MiB of slack. */
	cr_assert_eq(memfloor_mb(0, 0, 0, 0), 256);
	/* A 400 MiB initramfs needs far more than the 2048 MiB default's
	 * per-CPU floor would give a small topology. */
	cr_assert_gt(memfloor_mb(70 * MIB, 400 * MIB, 400 * MIB, 16u << 20), 1100);
}

Test(memfloor, unpacked_estimate_by_magic)
{
	static const char cpio[] = "070701000000";
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0 };
	int a = memfd_with(cpio, sizeof(cpio)), b = memfd_with(gz, sizeof(gz));

	cr_assert_eq(memfloor_unpacked_estimate(a, 1000), 1000);
	cr_assert_eq(memfloor_unpacked_estimate(b, 1000), 4000);
	cr_assert_eq(memfloor_unpacked_estimate(-1, 1000), 1000);
	close(a);
	close(b);
}
