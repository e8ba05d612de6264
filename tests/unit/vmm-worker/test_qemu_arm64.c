/* The QEMU engine's arm64 command line (vmm-worker/qemu/qemu_arm64.c): the
 * machine the device tree describes, -numa nodes that make QEMU's rewritten
 * memory nodes the tree's, and QEMU's initrd placement rule. The boot itself
 * is integ-arm64_boot. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/strv.h>

#include "arm64-guest/arm64_image.h"
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
			    "-no-reboot -M virt,gic-version=3,highmem=on,its=off -cpu max "
			    "-smp 16,sockets=2,clusters=2,cores=2,threads=2 -m 1024M "
			    "-object memory-backend-ram,id=m0,size=512M "
			    "-numa node,nodeid=0,cpus=0-7,memdev=m0 "
			    "-object memory-backend-ram,id=m1,size=512M "
			    "-numa node,nodeid=1,cpus=8-15,memdev=m1 "
			    "-dtb /t.dtb -kernel /Image -initrd /i.cpio -append console=ttyAMA0 "
			    "-serial stdio");
	free(s);
	in.initrd = NULL;
	in.dumpdtb = "/d.dtb";
	s = joined(&in);
	cr_assert(strstr(s, "-M virt,gic-version=3,highmem=on,its=off,dumpdtb=/d.dtb "));
	cr_assert_null(strstr(s, "-initrd"));
	free(s);
}

/* ktstr-vmm-worker's line: paused, TCG, guest RAM as the worker's memfds
 * (shared: the worker reads the ring), the tree, kernel and initrd as fds,
 * the PL011 on COM1's socket, a virtio console on virt's PCIe host on
 * COM2's, QMP, the reset log and QEMU's own sandbox. */
Test(qemu_arm64, worker_command_line)
{
	static const int mem[2] = { 10, 11 };
	struct qemu_arm64_in in = { .qemu_path = "/usr/bin/qemu-system-aarch64", .cpu_model = "max",
				    .topo = { 2, 2, 2, 1 }, .mem_bytes = 512ull << 20,
				    .dtb = "/proc/self/fd/9", .kernel = "/proc/self/fd/7",
				    .initrd = "/proc/self/fd/8", .append = "console=ttyAMA0 x",
				    .fd_qmp = 3, .fd_com1 = 4, .fd_com2 = 5, .fd_log = 6,
				    .fd_mem = mem };
	struct strv v = { 0 };
	static const char *const want[] = {
		"/usr/bin/qemu-system-aarch64", "-nodefaults", "-no-user-config", "-display", "none",
		"-no-reboot", "-S", "-M", "virt,gic-version=3,highmem=on,its=off", "-accel", "tcg",
		"-cpu", "max", "-smp", "4,sockets=2,clusters=1,cores=2,threads=1", "-m", "512M",
		"-object",
		"memory-backend-file,id=m0,size=256M,mem-path=/proc/self/fd/10,share=on",
		"-numa", "node,nodeid=0,cpus=0-1,memdev=m0",
		"-object",
		"memory-backend-file,id=m1,size=256M,mem-path=/proc/self/fd/11,share=on",
		"-numa", "node,nodeid=1,cpus=2-3,memdev=m1",
		"-dtb", "/proc/self/fd/9", "-kernel", "/proc/self/fd/7", "-initrd", "/proc/self/fd/8",
		"-append", "console=ttyAMA0 x",
		"-chardev", "socket,id=com1,fd=4", "-serial", "chardev:com1",
		"-device", "virtio-serial-pci,id=vser0",
		"-chardev", "socket,id=com2,fd=5", "-device", "virtconsole,bus=vser0.0,chardev=com2",
		"-chardev", "socket,id=qmp,fd=3", "-mon", "chardev=qmp,mode=control",
		"-d", "cpu_reset", "-D", "/proc/self/fd/6",
		"-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
	};

	cr_assert_eq(qemu_arm64_args(&in, &v), 0);
	cr_assert_eq(v.n, sizeof(want) / sizeof(want[0]), "%zu arguments", v.n);
	for (size_t i = 0; i < v.n; i++)
		cr_assert_str_eq(v.v[i], want[i], "argv[%zu]", i);
	cr_assert_null(v.v[v.n]);
	strv_free(&v);
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

/* Where QEMU virt puts the Image (hw/arm/boot.c, load_aarch64_image): what
 * the host-side monitor translates kernel-image addresses with. */
Test(qemu_arm64, kernel_base_is_qemu_virt_rule)
{
	struct arm64_image_info i = { .image_size = 40ull << 20 };

	/* text_offset 0 (every kernel since 5.8): below the 4 KiB stub, so
	 * 2 MiB up. */
	cr_assert_eq(qemu_arm64_kernel_base(&i), ARM64_DRAM_BASE + (2ull << 20));
	i.text_offset = 4095;
	cr_assert_eq(qemu_arm64_kernel_base(&i), ARM64_DRAM_BASE + (2ull << 20) + 4095);
	/* 0x80000 (kernels before 5.8): past the stub, where it asks. */
	i.text_offset = 0x80000;
	cr_assert_eq(qemu_arm64_kernel_base(&i), ARM64_DRAM_BASE + 0x80000);
	/* Before 3.17 (image_size 0): QEMU's fixed 0x80000. */
	i.legacy = true;
	i.text_offset = 0;
	cr_assert_eq(qemu_arm64_kernel_base(&i), ARM64_DRAM_BASE + 0x80000);
}
