/* engine_select.c: which engine runs, and where the SHM region sits. */
#include <criterion/criterion.h>
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
