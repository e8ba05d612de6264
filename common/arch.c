/* Guest architecture names (ktstr/arch.h). */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ktstr/arch.h"

int ktstr_arch_parse(const char *s, Ktstr__Arch *out)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "x86_64"))
		*out = KTSTR__ARCH__ARCH_X86_64;
	else if (!strcmp(s, "arm64") || !strcmp(s, "aarch64"))
		*out = KTSTR__ARCH__ARCH_ARM64;
	else
		return -EINVAL;
	return 0;
}

const char *ktstr_arch_name(Ktstr__Arch a)
{
	switch (a) {
	case KTSTR__ARCH__ARCH_X86_64:
		return "x86_64";
	case KTSTR__ARCH__ARCH_ARM64:
		return "arm64";
	default:
		return "unknown";
	}
}

uint16_t ktstr_arch_elf_machine(Ktstr__Arch a)
{
	switch (a) {
	case KTSTR__ARCH__ARCH_X86_64:
		return EM_X86_64;
	case KTSTR__ARCH__ARCH_ARM64:
		return EM_AARCH64;
	default:
		return 0;
	}
}

const char *ktstr_elf_machine_name(unsigned machine, char *buf, size_t len)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64";
	case EM_AARCH64:
		return "aarch64";
	case EM_386:
		return "i386";
	case EM_ARM:
		return "arm (32-bit)";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390";
	default:
		snprintf(buf, len, "machine %u", machine);
		return buf;
	}
}

Ktstr__Arch ktstr_arch_host(void)
{
#if defined(__aarch64__)
	return KTSTR__ARCH__ARCH_ARM64;
#else
	return KTSTR__ARCH__ARCH_X86_64;
#endif
}
