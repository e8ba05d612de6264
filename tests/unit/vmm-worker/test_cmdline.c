/* cmdline.c: the guest kernel command line both engines boot with. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/guest_contract.h>
#include <ktstr/util.h>

#include "engine.h"

static Ktstr__VmSpec spec;

static void setup(void)
{
	ktstr__vm_spec__init(&spec);
}

TestSuite(cmdline, .init = setup);

static bool has_word(const char *line, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = line; (p = strstr(p, word)); p += n)
		if ((p == line || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

Test(cmdline, base_words_and_shm_under_qemu)
{
	char buf[2048];
	spec.shm_size = 16u << 20;
	cr_assert_eq(guest_cmdline_build(&spec, 0x1ee00000, true, NULL, buf, sizeof(buf)), 0);
	const char *must[] = { "console=ttyS0", "panic=-1", "reboot=k", "iomem=relaxed",
			       "rdinit=/init", "nokaslr", "cryptomgr.notests", "i8042.noaux",
			       "memmap=0x1000000$0x1ee00000", "KTSTR_SHM_BASE=0x1ee00000",
			       "KTSTR_SHM_SIZE=0x1000000" };
	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		cr_expect(has_word(buf, must[i]), "missing %s in: %s", must[i], buf);
	cr_expect(!has_word(buf, "pci=off"), "QEMU's pc machine has PCI; pci=off is engine-specific");
	cr_expect(!has_word(buf, "loglevel=0"), "loglevel=0 would hide kernel panics");
}

Test(cmdline, no_memmap_when_the_engine_has_an_e820_hole)
{
	char buf[2048];
	spec.shm_size = 1u << 20;
	cr_assert_eq(guest_cmdline_build(&spec, 0x7f00000, false, "pci=off", buf, sizeof(buf)), 0);
	cr_expect(!strstr(buf, "memmap="));
	cr_expect(has_word(buf, "KTSTR_SHM_BASE=0x7f00000"));
	cr_expect(has_word(buf, "pci=off"));
}

Test(cmdline, no_shm_words_without_a_ring)
{
	char buf[2048];
	spec.shm_size = 0;
	cr_assert_eq(guest_cmdline_build(&spec, 0, true, NULL, buf, sizeof(buf)), 0);
	cr_expect(!strstr(buf, "KTSTR_SHM"));
	cr_expect(!strstr(buf, "memmap="));
}

Test(cmdline, extras_come_last_so_they_override)
{
	char buf[2048];
	spec.cmdline_extra = "loglevel=7 KTSTR_TEST_MODE=x";
	cr_assert_eq(guest_cmdline_build(&spec, 0x100000, true, "engine=word", buf, sizeof(buf)), 0);
	const char *eng = strstr(buf, "engine=word");
	const char *extra = strstr(buf, "loglevel=7 KTSTR_TEST_MODE=x");
	cr_assert(eng && extra && eng < extra);
	cr_assert_str_eq(extra, "loglevel=7 KTSTR_TEST_MODE=x", "extra is the tail");
	cr_assert(strstr(buf, "loglevel=1") < extra);
}

Test(cmdline, too_long_is_enospc_not_truncated)
{
	char buf[64];
	cr_assert_eq(guest_cmdline_build(&spec, 0x100000, true, NULL, buf, sizeof(buf)), -ENOSPC);
	cr_assert_str_eq(buf, "");
}

Test(cmdline, control_characters_are_refused)
{
	char buf[2048];
	spec.cmdline_extra = "a=b\ninjected";
	cr_assert_eq(guest_cmdline_build(&spec, 0x100000, true, NULL, buf, sizeof(buf)), -EINVAL);
}

/* An arm64 guest (QEMU engine): the PL011 console, the same ktstr words and
 * ring keys the guest reads, no x86-only word (the tree's /reserved-memory
 * reserves the ring, PSCI resets, there is no i8042 or TSC). */
Test(cmdline, arm64_words)
{
	char buf[2048];

	spec.arch = KTSTR__ARCH__ARCH_ARM64;
	spec.shm_size = 16u << 20;
	spec.cmdline_extra = "loglevel=7";
	/* shm_via_memmap is ignored for arm64: memmap= is x86's E820. */
	cr_assert_eq(guest_cmdline_build(&spec, 0x5f000000, true, NULL, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf,
			 "console=ttyAMA0 panic=-1 nokaslr mitigations=off random.trust_cpu=on "
			 "cryptomgr.notests nomodules iomem=relaxed loglevel=1 rdinit=/init "
			 "sysctl.kernel.unprivileged_bpf_disabled=0 "
			 "sysctl.kernel.sched_schedstats=1 KTSTR_SHM_BASE=0x5f000000 "
			 "KTSTR_SHM_SIZE=0x1000000 loglevel=7");
	const char *never[] = { "console=ttyS0", "reboot=k", "i8042.noaux", "tsc=reliable",
				"no_timer_check", "acpi=off" };
	for (size_t i = 0; i < ARRAY_SIZE(never); i++)
		cr_expect(!strstr(buf, never[i]), "%s in an arm64 line: %s", never[i], buf);
	cr_expect(!strstr(buf, "memmap="), "memmap= in an arm64 line: %s", buf);
}

/* An arm64 guest under the arm64 KVM engine: its UARTs are two ns16550a, so
 * the console is ttyS0 and the guest is told its output port is ttyS1 (the
 * word guest/report.c reads); nothing of the QEMU engine's PL011 or of x86. */
Test(cmdline, arm64_kvm_words)
{
	char buf[2048];

	spec.arch = KTSTR__ARCH__ARCH_ARM64;
	spec.shm_size = 16u << 20;
	spec.cmdline_extra = "loglevel=7";
	cr_assert_eq(guest_cmdline_build_arm64_kvm(&spec, 0x5f000000, NULL, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf,
			 "console=ttyS0 KTSTR_OUTPUT_PORT=ttyS1 panic=-1 nokaslr mitigations=off "
			 "random.trust_cpu=on cryptomgr.notests nomodules iomem=relaxed loglevel=1 "
			 "rdinit=/init sysctl.kernel.unprivileged_bpf_disabled=0 "
			 "sysctl.kernel.sched_schedstats=1 KTSTR_SHM_BASE=0x5f000000 "
			 "KTSTR_SHM_SIZE=0x1000000 loglevel=7");
	cr_expect(has_word(buf, KTSTR_CMDLINE_OUTPUT_PORT "=ttyS1"));
	const char *never[] = { "ttyAMA0", "reboot=k", "i8042.noaux", "tsc=reliable",
				"no_timer_check", "memmap=" };
	for (size_t i = 0; i < ARRAY_SIZE(never); i++)
		cr_expect(!strstr(buf, never[i]), "%s in an arm64 KVM line: %s", never[i], buf);
	/* Control characters and a line too long are refused as for the others. */
	spec.cmdline_extra = "a\nb";
	cr_expect_eq(guest_cmdline_build_arm64_kvm(&spec, 0x5f000000, NULL, buf, sizeof(buf)),
		     -EINVAL);
	spec.cmdline_extra = NULL;
	cr_expect_eq(guest_cmdline_build_arm64_kvm(&spec, 0x5f000000, NULL, buf, 64), -ENOSPC);
	cr_expect_str_eq(buf, "");
}

/* The arm64 KVM engine's words are for arm64 guests only. */
Test(cmdline, arm64_kvm_words_refuse_an_x86_spec)
{
	char buf[2048] = "x";

	spec.arch = KTSTR__ARCH__ARCH_X86_64;
	cr_assert_eq(guest_cmdline_build_arm64_kvm(&spec, 0x5f000000, NULL, buf, sizeof(buf)),
		     -EINVAL);
	cr_expect_str_eq(buf, "");
}
