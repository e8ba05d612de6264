/* vmlinux and BTF extraction from a real Debian bzImage when one is on this
 * machine (the dev kernels); skipped otherwise. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "kernel_fetch.h"
#include "test_env.h"
#include "vmlinux_extract.h"

Test(vmlinux, extracts_an_elf_with_btf_from_a_bzimage)
{
	char path[4096], *img = NULL;
	size_t len;
	uint8_t *vml = NULL, *btf = NULL;
	size_t vlen, blen;
	char err[256];

	if (!test_env_kernel("bzImage", path, sizeof(path)))
		test_missing("no test bzImage at %s (set KTSTR_TEST_BZIMAGE)", path);
	cr_assert_eq(read_file(path, &img, &len, 256u << 20), 0, "read %s", path);
	cr_assert_eq(bzimage_extract_vmlinux((uint8_t *)img, len, &vml, &vlen, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(vlen > len, "decompressed is larger");
	cr_assert_eq(memcmp(vml, "\x7f" "ELF", 4), 0, "an ELF");
	cr_assert_eq(vmlinux_extract_btf(vml, vlen, &btf, &blen, err, sizeof(err)), 0, "%s", err);
	cr_assert(blen > 1024 * 1024, "BTF of a distro kernel is megabytes (%zu)", blen);
	cr_assert_eq(btf[0] | btf[1] << 8, 0xeB9F, "BTF magic");
	free(btf);
	free(vml);
	free(img);
}

Test(vmlinux, damaged_images_are_refused_with_a_reason)
{
	uint8_t junk[4096] = { 0 };
	uint8_t *out;
	size_t olen;
	char err[256];

	cr_assert_eq(bzimage_extract_vmlinux(junk, sizeof(junk), &out, &olen, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "HdrS"));
	memcpy(junk + 0x202, "HdrS", 4);
	junk[0x1f1] = 4;
	junk[0x248] = 0xff;
	junk[0x249] = 0xff;
	junk[0x24c] = 0x10;
	cr_assert_eq(bzimage_extract_vmlinux(junk, sizeof(junk), &out, &olen, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "outside"), "%s", err);
}

Test(vmlinux, config_validation_names_what_is_missing)
{
	char missing[512];
	const char *cfg = "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_SERIAL_8250_CONSOLE=y\nCONFIG_DEVTMPFS=y\n"
			  "CONFIG_DEVMEM=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_CGROUPS=y\n"
			  "CONFIG_CPUSETS=y\nCONFIG_BPF_SYSCALL=y\n# CONFIG_SCHED_CLASS_EXT is not set\n"
			  "CONFIG_PVH=m\n";

	cr_assert_eq(kconfig_validate(cfg, missing, sizeof(missing)), 2);
	cr_assert_str_eq(missing, "CONFIG_SCHED_CLASS_EXT CONFIG_PVH");
}
