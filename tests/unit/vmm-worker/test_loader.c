#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ktstr/le.h>

#include "x86_64/bootparams.h"
#include "x86_64/loader.h"
#include "test_env.h"

static uint8_t *ram_mem;
static struct guest_ram ram;

static void setup(void)
{
	ram_mem = mmap(NULL, 256 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(ram_mem, MAP_FAILED);
	ram = (struct guest_ram){ ram_mem, 256 << 20, NULL, 0 };
}

static void teardown(void)
{
	munmap(ram_mem, 256 << 20);
}

TestSuite(loader, .init = setup, .fini = teardown);

static int memfd_with(const void *d, size_t n)
{
	int fd = memfd_create("t", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, d, n), (ssize_t)n);
	return fd;
}

static void bz_header(uint8_t *img, uint16_t version, uint16_t xlf)
{
	img[0x1F1] = 1;
	img[0x201] = 0x66;
	put_le32(img + 0x202, BP_HDRS_MAGIC);
	put_le16(img + 0x206, version);
	put_le16(img + 0x236, xlf);
	put_le32(img + 0x230, 0x200000);
	put_le64(img + 0x258, 0x1000000);
	put_le32(img + 0x260, 0x800000);
}

Test(loader, bzimage_loads_protected_mode_code_at_1m)
{
	static uint8_t img[1024 + 4096];
	struct x86_kernel k;
	char err[256];
	int fd;

	bz_header(img, 0x020F, BP_XLF_KERNEL_64);
	memset(img + 1024, 0xab, 4096);
	fd = memfd_with(img, sizeof(img));
	cr_assert_eq(x86_load_kernel(fd, &ram, 200 << 20, &k, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(k.kind, X86_KERNEL_BZIMAGE);
	cr_assert_eq(k.entry, 0x100200);
	cr_assert_eq(ram_mem[0x100000], 0xab);
	cr_assert_eq(k.end, 0x1000000 + 0x800000, "runs at pref_address for init_size");
	cr_assert_eq(k.hdr_len, 0x268 - 0x1F1);
	close(fd);
}

Test(loader, bzimage_without_64bit_entry_is_refused)
{
	static uint8_t img[2048];
	struct x86_kernel k;
	char err[256];
	int fd;

	bz_header(img, 0x020A, 0);
	fd = memfd_with(img, sizeof(img));
	cr_assert_eq(x86_load_kernel(fd, &ram, 200 << 20, &k, err, sizeof(err)), -ENOEXEC);
	cr_assert(strstr(err, "64-bit"), "%s", err);
	close(fd);
}

Test(loader, garbage_is_refused_with_a_hint)
{
	static uint8_t img[2048];
	struct x86_kernel k;
	char err[256];
	int fd = memfd_with(img, sizeof(img));

	cr_assert_eq(x86_load_kernel(fd, &ram, 200 << 20, &k, err, sizeof(err)), -ENOEXEC);
	cr_assert(strstr(err, "bzImage"), "%s", err);
	close(fd);
}

Test(loader, initrd_placement)
{
	struct x86_kernel k = { .end = 0x1800000 };
	uint64_t a;

	cr_assert_eq(x86_initrd_place(&k, 1 << 20, 240ull << 20, &a), 0);
	cr_assert_eq(a, 128ull << 20);
	k.end = (130ull << 20) + 5;
	cr_assert_eq(x86_initrd_place(&k, 1 << 20, 240ull << 20, &a), 0);
	cr_assert_eq(a, 132ull << 20, "2 MiB aligned past the kernel");
	cr_assert_eq(x86_initrd_place(&k, 200ull << 20, 240ull << 20, &a), -ENOMEM);
}

Test(loader, pvh_elf_from_real_vmlinux)
{
	struct x86_kernel k;
	char err[512], path[4096];
	int fd;

	if (!test_env_kernel("vmlinux", path, sizeof(path)))
		test_missing("no test vmlinux at %s (set KTSTR_TEST_KERNEL)", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s", path);
	cr_assert_eq(x86_load_kernel(fd, &ram, 250 << 20, &k, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(k.kind, X86_KERNEL_PVH);
	cr_assert_gt(k.entry, 0x1000000);
	cr_assert_lt(k.entry, k.end);
	close(fd);
}
