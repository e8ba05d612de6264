/* Guest architecture names (guest_arch.h). */
#include "guest_arch.h"

#include <errno.h>
#include <string.h>

int guest_arch_parse(const char *s, Ktstr__Arch *out)
{
	if (!s || !strcmp(s, "x86_64"))
		*out = KTSTR__ARCH__ARCH_X86_64;
	else if (!strcmp(s, "arm64") || !strcmp(s, "aarch64"))
		*out = KTSTR__ARCH__ARCH_ARM64;
	else
		return -EINVAL;
	return 0;
}

const char *guest_arch_name(Ktstr__Arch a)
{
	return a == KTSTR__ARCH__ARCH_ARM64 ? "arm64" : "x86_64";
}

const char *guest_arch_deb(Ktstr__Arch a)
{
	return a == KTSTR__ARCH__ARCH_ARM64 ? "arm64" : "amd64";
}
