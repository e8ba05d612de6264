/* Guest architecture names (guest_arch.h): ktstr's own names and the enum
 * are common/arch.c's (ktstr/arch.h); Debian's package architecture is
 * added here. */
#include "guest_arch.h"

#include <errno.h>
#include <string.h>

#include <ktstr/arch.h>

int guest_arch_parse(const char *s, Ktstr__Arch *out)
{
	return ktstr_arch_parse(s ? s : "x86_64", out);
}

const char *guest_arch_name(Ktstr__Arch a)
{
	return ktstr_arch_name(a);
}

const char *guest_arch_deb(Ktstr__Arch a)
{
	return a == KTSTR__ARCH__ARCH_ARM64 ? "arm64" : "amd64";
}
