/* What the builder needs to know about an ELF file to pack what it loads:
 * PT_INTERP, DT_NEEDED, DT_RPATH, DT_RUNPATH. Parsed with libelf from bytes
 * already read into memory (no second open of the file). */
#ifndef KTSTR_BUILDER_ELFINFO_H
#define KTSTR_BUILDER_ELFINFO_H

#include <stddef.h>
#include <stdint.h>

struct elf_info {
	char *interp;		/* PT_INTERP path or NULL */
	char **needed;		/* DT_NEEDED names in order */
	size_t nneeded;
	char *rpath;		/* DT_RPATH or NULL */
	char *runpath;		/* DT_RUNPATH or NULL */
	int dynamic;		/* has PT_DYNAMIC */
};

/* 1 if buf starts with the ELF magic. */
int elf_is_elf(const uint8_t *buf, size_t len);
/* Parse an ELF64 image for machine (EM_X86_64, EM_AARCH64: the guest's,
 * ktstr_arch_elf_machine). All strings in *out are malloc'd copies (free
 * with elf_info_free). Returns 0, -ENOEXEC (not ELF / other class or
 * machine; why explains), or -EINVAL (damaged). */
int elf_inspect(const uint8_t *buf, size_t len, unsigned machine, struct elf_info *out, char *why,
		size_t whylen);
void elf_info_free(struct elf_info *ei);

#endif
