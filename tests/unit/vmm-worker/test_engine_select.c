/* engine_select.c: which engine runs, and where the SHM region sits. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/util.h>

#include "engine.h"

Test(engine_select, explicit_requests_are_honoured)
{
	cr_assert_eq(engine_choose(KTSTR__ENGINE__ENGINE_KVM), KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_eq(engine_choose(KTSTR__ENGINE__ENGINE_QEMU), KTSTR__ENGINE__ENGINE_QEMU);
}

Test(engine_select, auto_picks_kvm_only_on_hardware_kvm)
{
	const char *kind = kvm_engine_kind();
	const char *known[] = { "hardware-svm", "hardware-vmx", "kvm_pvm", "absent", "not-hardware", "no-access" };
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		ok |= !strcmp(kind, known[i]);
	cr_assert(ok, "unknown kind %s", kind);
	Ktstr__Engine e = engine_choose(KTSTR__ENGINE__ENGINE_AUTO);
	if (!strncmp(kind, "hardware-", 9))
		cr_assert_eq(e, KTSTR__ENGINE__ENGINE_KVM);
	else
		cr_assert_eq(e, KTSTR__ENGINE__ENGINE_QEMU, "kind %s must not pick KVM", kind);
}

static void arch_spec(Ktstr__VmSpec *s, Ktstr__Arch arch, Ktstr__Engine engine)
{
	ktstr__vm_spec__init(s);
	s->arch = arch;
	s->engine = engine;
}

/* An arm64 guest runs on the QEMU engine whatever AUTO would pick for x86
 * (hardware KVM included); asking for KVM is refused with the host and guest
 * architecture and what to use instead. */
Test(engine_select, arm64_guest_runs_on_qemu)
{
	Ktstr__VmSpec s;
	char why[512] = "";

	arch_spec(&s, KTSTR__ARCH__ARCH_ARM64, KTSTR__ENGINE__ENGINE_AUTO);
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(engine_choose_arch(KTSTR__ENGINE__ENGINE_AUTO, KTSTR__ARCH__ARCH_ARM64),
		     KTSTR__ENGINE__ENGINE_QEMU);
	s.engine = KTSTR__ENGINE__ENGINE_QEMU;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(engine_choose_arch(KTSTR__ENGINE__ENGINE_QEMU, KTSTR__ARCH__ARCH_ARM64),
		     KTSTR__ENGINE__ENGINE_QEMU);
	/* x86_64 guests: as before. */
	cr_assert_eq(engine_choose_arch(KTSTR__ENGINE__ENGINE_KVM, KTSTR__ARCH__ARCH_X86_64),
		     KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_eq(engine_choose_arch(KTSTR__ENGINE__ENGINE_AUTO, KTSTR__ARCH__ARCH_X86_64),
		     engine_choose(KTSTR__ENGINE__ENGINE_AUTO));
}

Test(engine_select, kvm_for_arm64_guest_refused_with_both_arches)
{
	Ktstr__VmSpec s;
	char why[512] = "", host[64];

	arch_spec(&s, KTSTR__ARCH__ARCH_ARM64, KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -ENOTSUP);
	snprintf(host, sizeof(host), "this %s host", engine_host_arch());
	cr_assert(strstr(why, "arm64 guest"), "%s", why);
	cr_assert(strstr(why, host), "%s", why);
	cr_assert(strstr(why, "use engine QEMU"), "%s", why);
#if defined(__x86_64__)
	cr_assert_str_eq(engine_host_arch(), "x86_64");
	cr_assert(strstr(why, "KVM runs only guests of the host's architecture"), "%s", why);
#endif
	/* KVM for an x86_64 guest is not this check's business. */
	arch_spec(&s, KTSTR__ARCH__ARCH_X86_64, KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0);
	/* An architecture this worker does not know. */
	arch_spec(&s, (Ktstr__Arch)7, KTSTR__ENGINE__ENGINE_QEMU);
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "unknown guest architecture 7"), "%s", why);
}

/* The host-side monitor reads x86 kernels only: an arm64 spec carrying its
 * inputs is refused (docs/monitor.md), an x86 one is not. */
Test(engine_select, monitor_refused_for_arm64)
{
	Ktstr__VmSpec s;
	Ktstr__GuestKernelLayout layout = KTSTR__GUEST_KERNEL_LAYOUT__INIT;
	Ktstr__MonitorSpec mon = KTSTR__MONITOR_SPEC__INIT;
	char why[512] = "";

	arch_spec(&s, KTSTR__ARCH__ARCH_ARM64, KTSTR__ENGINE__ENGINE_QEMU);
	s.kernel_layout = &layout;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -ENOTSUP);
	cr_assert(strstr(why, "monitor"), "%s", why);
	s.kernel_layout = NULL;
	s.monitor = &mon;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -ENOTSUP);
	s.arch = KTSTR__ARCH__ARCH_X86_64;
	s.kernel_layout = &layout;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0, "%s", why);
}
