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

/* AUTO picks KVM only where the host has hardware KVM of the guest's own
 * architecture: an arm64 guest on an aarch64 host, an x86_64 one on an
 * x86_64 host; anything else runs on QEMU (TCG). Explicit requests stand
 * (engine_arch_check refuses the impossible ones). */
Test(engine_select, auto_picks_kvm_for_the_hosts_own_architecture)
{
	const Ktstr__Engine A = KTSTR__ENGINE__ENGINE_AUTO, K = KTSTR__ENGINE__ENGINE_KVM,
			    Q = KTSTR__ENGINE__ENGINE_QEMU;
	const Ktstr__Arch X = KTSTR__ARCH__ARCH_X86_64, R = KTSTR__ARCH__ARCH_ARM64;

	cr_assert_eq(engine_choose_arch_on("aarch64", true, A, R), K);
	cr_assert_eq(engine_choose_arch_on("aarch64", false, A, R), Q);
	cr_assert_eq(engine_choose_arch_on("aarch64", true, A, X), Q);
	cr_assert_eq(engine_choose_arch_on("x86_64", true, A, X), K);
	cr_assert_eq(engine_choose_arch_on("x86_64", true, A, R), Q);
	cr_assert_eq(engine_choose_arch_on("x86_64", false, A, X), Q);
	cr_assert_eq(engine_choose_arch_on("x86_64", false, K, X), K);
	cr_assert_eq(engine_choose_arch_on("aarch64", true, Q, R), Q);
	/* This host: as engine_choose for its own guests, QEMU for others. */
	cr_assert_eq(engine_choose_arch(A, X),
		     strcmp(engine_host_arch(), "x86_64") ? Q : engine_choose(A));
	cr_assert_eq(engine_choose_arch(A, R),
		     strcmp(engine_host_arch(), "aarch64") ? Q : engine_choose(A));
}

/* Engine KVM for a guest of another architecture than the host's is refused
 * with both architectures and what to use instead; for the host's own
 * architecture it is accepted (the arm64 KVM engine on aarch64 hosts). */
Test(engine_select, kvm_only_for_the_hosts_own_architecture)
{
	Ktstr__VmSpec s;
	char why[512] = "";

	arch_spec(&s, KTSTR__ARCH__ARCH_ARM64, KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_eq(engine_arch_check_on("x86_64", &s, why, sizeof(why)), -ENOTSUP);
	cr_assert(strstr(why, "an arm64 guest on this x86_64 host"), "%s", why);
	cr_assert(strstr(why, "KVM runs only guests of the host's architecture"), "%s", why);
	cr_assert(strstr(why, "use engine QEMU") && strstr(why, "qemu-system-aarch64"), "%s", why);
	cr_assert_eq(engine_arch_check_on("aarch64", &s, why, sizeof(why)), 0, "%s", why);

	arch_spec(&s, KTSTR__ARCH__ARCH_X86_64, KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_eq(engine_arch_check_on("x86_64", &s, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(engine_arch_check_on("aarch64", &s, why, sizeof(why)), -ENOTSUP);
	cr_assert(strstr(why, "an x86_64 guest on this aarch64 host"), "%s", why);
	cr_assert(strstr(why, "qemu-system-x86_64"), "%s", why);

	/* AUTO and QEMU are never refused for either guest on either host. */
	for (int g = 0; g < 2; g++) {
		arch_spec(&s, g ? KTSTR__ARCH__ARCH_ARM64 : KTSTR__ARCH__ARCH_X86_64,
			  KTSTR__ENGINE__ENGINE_AUTO);
		cr_assert_eq(engine_arch_check_on("x86_64", &s, why, sizeof(why)), 0, "%s", why);
		cr_assert_eq(engine_arch_check_on("aarch64", &s, why, sizeof(why)), 0, "%s", why);
		s.engine = KTSTR__ENGINE__ENGINE_QEMU;
		cr_assert_eq(engine_arch_check_on("aarch64", &s, why, sizeof(why)), 0, "%s", why);
	}
	/* This worker's own host. */
#if defined(__x86_64__)
	cr_assert_str_eq(engine_host_arch(), "x86_64");
#elif defined(__aarch64__)
	cr_assert_str_eq(engine_host_arch(), "aarch64");
#endif
	/* An architecture this worker does not know. */
	arch_spec(&s, (Ktstr__Arch)7, KTSTR__ENGINE__ENGINE_QEMU);
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "unknown guest architecture 7"), "%s", why);
}

/* The host-side monitor reads the guest's kernel with a layout derived for
 * that kernel: an arm64 spec with an arm64 layout (and a MonitorSpec) is
 * accepted, a layout of the other architecture is refused with the reason,
 * either way round; an absent layout arch means x86_64. */
Test(engine_select, monitor_layout_arch_must_match_the_guest)
{
	Ktstr__VmSpec s;
	Ktstr__GuestKernelLayout layout = KTSTR__GUEST_KERNEL_LAYOUT__INIT;
	Ktstr__MonitorSpec mon = KTSTR__MONITOR_SPEC__INIT;
	char why[512] = "";

	arch_spec(&s, KTSTR__ARCH__ARCH_ARM64, KTSTR__ENGINE__ENGINE_QEMU);
	s.monitor = &mon;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0, "%s", why);
	s.kernel_layout = &layout;
	layout.has_arch = 1;
	layout.arch = KTSTR__ARCH__ARCH_ARM64;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0, "%s", why);
	/* An x86_64 layout (explicit, or arch absent) for an arm64 guest. */
	layout.arch = KTSTR__ARCH__ARCH_X86_64;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "kernel_layout.arch x86_64") && strstr(why, "arm64 guest"), "%s",
		  why);
	layout.has_arch = 0;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -EINVAL);
	/* And the other way round. */
	s.arch = KTSTR__ARCH__ARCH_X86_64;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), 0, "%s", why);
	layout.has_arch = 1;
	layout.arch = KTSTR__ARCH__ARCH_ARM64;
	why[0] = '\0';
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "kernel_layout.arch arm64") && strstr(why, "x86_64 guest"), "%s",
		  why);
	layout.arch = (Ktstr__Arch)9;
	cr_assert_eq(engine_arch_check(&s, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "unknown"), "%s", why);
}
