/* Where the QEMU engine puts the SHM ring in guest RAM.
 *
 * QEMU's x86 loader copies the initrd to the top of low memory: at
 * (initrd_max - size) & ~4095, where initrd_max is the end of RAM below 4 GiB
 * less QEMU's ACPI data area (160 KiB on "pc"), and for a bzImage also at most
 * the kernel header's initrd_addr_max (0x7fffffff on x86_64 kernels). A ring
 * at the very top of RAM therefore lay under every initrd larger than the
 * 2 MiB firmware reserve: its data area was overwritten at reset, and an
 * initramfs over ~18 MiB (one carrying stress-ng and its libraries) replaced
 * its header, so every ring message of the run was lost.
 *
 * The ring goes below the lowest byte the initrd can occupy instead, with a
 * page of slack for QEMU's rounding, aligned down to 1 MiB. The guest learns
 * the address from the command line (memmap= and KTSTR_SHM_BASE), so nothing
 * else depends on where it is. */
#include <errno.h>
#include <unistd.h>

#include <ktstr/le.h>

#include "engine.h"
#include "qemu.h"
#include "x86_64/bootparams.h"

#define PAGE 4096ull
#define RING_ALIGN (1ull << 20)

uint64_t qemu_shm_place(uint64_t ram_bytes, uint64_t initrd_size, uint32_t initrd_addr_max,
			uint32_t shm_size)
{
	uint64_t top, initrd_top, ring_top, base;

	if (!shm_size)
		return 0;
	/* The QEMU engine keeps all RAM below the PCI hole (qemu_launch_check),
	 * so RAM below 4 GiB is all of it. */
	top = ram_bytes < GUEST_MMIO_GAP_START ? ram_bytes : GUEST_MMIO_GAP_START;
	if (top < QEMU_SHM_FLOOR + GUEST_QEMU_FW_RESERVE)
		return 0;
	initrd_top = top - GUEST_QEMU_FW_RESERVE;
	if (initrd_addr_max && (uint64_t)initrd_addr_max + 1 < initrd_top)
		initrd_top = (uint64_t)initrd_addr_max + 1;
	ring_top = initrd_top;
	if (initrd_size) {
		uint64_t span = ((initrd_size + PAGE - 1) & ~(PAGE - 1)) + PAGE;

		if (span >= initrd_top)
			return 0;
		ring_top = initrd_top - span;
	}
	if (ring_top < QEMU_SHM_FLOOR + shm_size)
		return 0;
	base = (ring_top - shm_size) & ~(RING_ALIGN - 1);
	return base >= QEMU_SHM_FLOOR ? base : 0;
}

int qemu_kernel_initrd_max(int kernel_fd, uint32_t *initrd_addr_max)
{
	uint8_t b[4];
	ssize_t n;

	*initrd_addr_max = 0;
	n = pread(kernel_fd, b, sizeof(b), BP_HEADER);
	if (n < 0)
		return -errno;
	/* A vmlinux (ELF, PVH entry) has no setup header: QEMU caps nothing. */
	if (n != (ssize_t)sizeof(b) || get_le32(b) != BP_HDRS_MAGIC)
		return 0;
	n = pread(kernel_fd, b, sizeof(b), BP_INITRD_ADDR_MAX);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(b))
		return -ENOEXEC;
	*initrd_addr_max = get_le32(b);
	return 0;
}
