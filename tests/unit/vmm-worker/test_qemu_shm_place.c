/* qemu/qemu_shm_place.c: the SHM ring never lies under the initrd QEMU's x86
 * loader copies to the top of low memory, nor under the firmware's tables. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ktstr/le.h>

#include "engine.h"
#include "qemu/qemu.h"
#include "x86_64/bootparams.h"

/* QEMU's own rule (hw/i386/x86.c, x86_load_linux), written out here
 * independently of the code under test: the initrd goes to
 * (initrd_max - size) & ~4095 with initrd_max = RAM below 4 GiB - the ACPI
 * data area ("pc": 0x20000 + 0x8000) - 1, and for a bzImage at most the
 * header's initrd_addr_max. */
#define QEMU_PC_ACPI_DATA 0x28000ull

static uint64_t qemu_initrd_addr(uint64_t ram, uint64_t size, uint32_t cap)
{
	uint64_t max = ram - QEMU_PC_ACPI_DATA - 1;

	if (cap && cap < max)
		max = cap;
	return (max - size) & ~4095ull;
}

Test(qemu_shm_place, the_ring_is_clear_of_every_initrd_qemu_can_load)
{
	static const uint64_t mib[] = { 256, 512, 1024, 2047, 2048, 2064, 2080, 3000, 3072 };
	static const uint64_t initrd[] = { 0, 4096, 1 << 20, 4403344, 18u << 20, 19u << 20,
					   100u << 20, 400u << 20 };
	static const uint32_t caps[] = { 0, 0x7fffffff, 0x37ffffff };
	static const uint32_t shm[] = { 4096, 1u << 20, 16u << 20 };
	unsigned placed = 0;

	for (size_t a = 0; a < sizeof(mib) / sizeof(mib[0]); a++)
		for (size_t b = 0; b < sizeof(initrd) / sizeof(initrd[0]); b++)
			for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
				for (size_t d = 0; d < sizeof(shm) / sizeof(shm[0]); d++) {
					uint64_t ram = mib[a] << 20, sz = initrd[b];
					uint64_t base = qemu_shm_place(ram, sz, caps[c], shm[d]);

					if (!base)
						continue;
					placed++;
					cr_assert_geq(base, QEMU_SHM_FLOOR);
					cr_assert_eq(base & ((1u << 20) - 1), 0, "1 MiB aligned");
					cr_assert_leq(base + shm[d], ram - GUEST_QEMU_FW_RESERVE,
						      "below the firmware reserve");
					if (sz) {
						uint64_t ia = qemu_initrd_addr(ram, sz, caps[c]);

						cr_assert(base + shm[d] <= ia || base >= ia + sz,
							  "%llu MiB, initrd %llu at 0x%llx, cap 0x%x: ring "
							  "0x%llx+0x%x overlaps it",
							  (unsigned long long)mib[a],
							  (unsigned long long)sz,
							  (unsigned long long)ia, caps[c],
							  (unsigned long long)base, shm[d]);
					}
				}
	cr_assert_gt(placed, 300, "most combinations fit (%u placed)", placed);
}

Test(qemu_shm_place, the_stress_ng_case_that_lost_its_ring)
{
	/* 2048 MB, a 16 MiB ring and a 20 MiB initrd from a vmlinux: the ring
	 * used to start at 0x7ee00000, 18 MiB below the top, and QEMU copied the
	 * initrd over its header. */
	uint64_t ram = 2048ull << 20, sz = 20ull << 20;
	uint64_t base = qemu_shm_place(ram, sz, 0, 16u << 20);

	cr_assert_neq(base, 0);
	cr_assert_leq(base + (16u << 20), qemu_initrd_addr(ram, sz, 0));
}

Test(qemu_shm_place, without_an_initrd_the_ring_sits_under_the_firmware_reserve)
{
	uint64_t ram = 2048ull << 20;

	cr_assert_eq(qemu_shm_place(ram, 0, 0, 16u << 20),
		     ram - GUEST_QEMU_FW_RESERVE - (16u << 20));
	cr_assert_eq(qemu_shm_place(ram, 0, 0, 0), 0, "no ring, no base");
}

Test(qemu_shm_place, what_does_not_fit_is_refused)
{
	cr_assert_eq(qemu_shm_place(128ull << 20, 0, 0, 1u << 20), 0, "RAM at the floor");
	cr_assert_eq(qemu_shm_place(256ull << 20, 120ull << 20, 0, 16u << 20), 0,
		     "initrd and ring do not fit above the floor");
	cr_assert_eq(qemu_shm_place(512ull << 20, 1ull << 40, 0, 1u << 20), 0,
		     "an initrd larger than RAM");
	cr_assert_neq(qemu_shm_place(512ull << 20, 100ull << 20, 0, 1u << 20), 0);
}

static int memfd_with(const void *b, size_t len)
{
	int fd = memfd_create("k", 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b, len), (ssize_t)len);
	return fd;
}

Test(qemu_shm_place, the_kernel_header_gives_the_initrd_cap)
{
	uint8_t img[0x400] = { 0 };
	uint32_t max = 1;
	int fd;

	put_le32(img + BP_HEADER, BP_HDRS_MAGIC);
	put_le32(img + BP_INITRD_ADDR_MAX, 0x37ffffff);
	fd = memfd_with(img, sizeof(img));
	cr_assert_eq(qemu_kernel_initrd_max(fd, &max), 0);
	cr_assert_eq(max, 0x37ffffff, "bzImage: the header's initrd_addr_max");
	close(fd);

	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	fd = memfd_with(img, sizeof(img));
	max = 1;
	cr_assert_eq(qemu_kernel_initrd_max(fd, &max), 0);
	cr_assert_eq(max, 0, "vmlinux: no cap");
	close(fd);

	put_le32(img + BP_HEADER, BP_HDRS_MAGIC);
	fd = memfd_with(img, BP_INITRD_ADDR_MAX + 2);
	cr_assert_eq(qemu_kernel_initrd_max(fd, &max), -ENOEXEC, "a header cut short");
	close(fd);
}
