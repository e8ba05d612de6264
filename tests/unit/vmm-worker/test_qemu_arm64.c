/* The QEMU engine's arm64 command line (vmm-worker/qemu/qemu_arm64.c): the
 * machine the device tree describes, -numa nodes that make QEMU's rewritten
 * memory nodes the tree's, and QEMU's initrd placement rule. The boot itself
 * is integ-arm64_boot. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/strv.h>

#include "arm64-guest/arm64_layout.h"
#include "qemu/qemu_arm64.h"

static char *joined(const struct qemu_arm64_in *in)
{
	struct strv v = { 0 };
	char *s;

	cr_assert_eq(qemu_arm64_args(in, &v), 0);
	s = strv_join(&v, " ");
	strv_free(&v);
	return s;
}

Test(qemu_arm64, command_line)
{
	struct qemu_arm64_in in = { .qemu_path = "qemu-system-aarch64", .cpu_model = "max",
				    .topo = { 2, 4, 2, 2 }, .mem_bytes = 1024ull << 20,
				    .dtb = "/t.dtb", .kernel = "/Image", .initrd = "/i.cpio",
				    .append = "console=ttyAMA0" };
	char *s = joined(&in);

	cr_assert_str_eq(s, "qemu-system-aarch64 -nodefaults -no-user-config -display none "
			    "-M virt,gic-version=3 -cpu max "
			    "-smp 16,sockets=2,clusters=2,cores=2,threads=2 -m 1024M "
			    "-object memory-backend-ram,id=m0,size=512M "
			    "-numa node,nodeid=0,cpus=0-7,memdev=m0 "
			    "-object memory-backend-ram,id=m1,size=512M "
			    "-numa node,nodeid=1,cpus=8-15,memdev=m1 "
			    "-dtb /t.dtb -kernel /Image -initrd /i.cpio -append console=ttyAMA0 "
			    "-serial stdio -no-reboot");
	free(s);
	in.initrd = NULL;
	in.dumpdtb = "/d.dtb";
	s = joined(&in);
	cr_assert(strstr(s, "-M virt,gic-version=3,dumpdtb=/d.dtb "));
	cr_assert_null(strstr(s, "-initrd"));
	free(s);
}

Test(qemu_arm64, refuses_what_numa_cannot_split)
{
	struct qemu_arm64_in in = { .qemu_path = "q", .cpu_model = "max", .topo = { 2, 3, 1, 1 },
				    .mem_bytes = 512ull << 20, .dtb = "d", .kernel = "k",
				    .append = "" };
	struct strv v = { 0 };

	cr_assert_eq(qemu_arm64_args(&in, &v), -EINVAL);
	strv_free(&v);
}

Test(qemu_arm64, initrd_base_is_qemu_virt_rule)
{
	/* DRAM + min(RAM / 2, 128 MiB) (QEMU 7.2 hw/arm/boot.c). */
	cr_assert_eq(qemu_arm64_initrd_base(512ull << 20), ARM64_DRAM_BASE + (128ull << 20));
	cr_assert_eq(qemu_arm64_initrd_base(128ull << 20), ARM64_DRAM_BASE + (64ull << 20));
	cr_assert_eq(qemu_arm64_initrd_base(256ull << 20), ARM64_DRAM_BASE + (128ull << 20));
	cr_assert_eq(qemu_arm64_initrd_base(8ull << 30), ARM64_DRAM_BASE + (128ull << 20));
}
