/* The guest architecture: the one home for its names and what they map to
 * (proto/common.proto's Arch enum, the ELF e_machine a guest binary must
 * carry). `--arch` of run, list and shell and `kernel fetch --arch` parse
 * through here; reports print ktstr_arch_name. docs/aarch64.md. */
#ifndef KTSTR_ARCH_H
#define KTSTR_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "common.pb-c.h"

/* What --arch accepts, for help and completion ("aarch64" is an alias of
 * "arm64", the name ktstr prints). */
#define KTSTR_ARCH_WORDS "x86_64 arm64 aarch64"
/* A --arch value ktstr_arch_parse refuses, as every command says it (one
 * printf argument: the value). */
#define KTSTR_ARCH_BAD_FMT "--arch takes x86_64 or arm64 (aarch64), got '%s'"

/* "x86_64" -> ARCH_X86_64; "arm64" or "aarch64" -> ARCH_ARM64. Returns 0,
 * or -EINVAL (anything else, NULL included). */
int ktstr_arch_parse(const char *s, Ktstr__Arch *out);
/* "x86_64" or "arm64"; "unknown" for a value outside the enum. */
const char *ktstr_arch_name(Ktstr__Arch a);
/* The ELF e_machine of a's binaries (EM_X86_64, EM_AARCH64); 0 unknown. */
uint16_t ktstr_arch_elf_machine(Ktstr__Arch a);
/* A readable name of an ELF e_machine ("x86_64", "aarch64", "i386", ...);
 * else "machine N" in buf. Returns buf or a constant. */
const char *ktstr_elf_machine_name(unsigned machine, char *buf, size_t len);
/* The architecture this program was built for (the host's). */
Ktstr__Arch ktstr_arch_host(void);

#endif
