/* Shared between the three parts of the layout deriver (kernel_layout.c:
 * the image and the message; kernel_layout_syms.c: symbol addresses;
 * kernel_layout_btf.c: struct offsets). Not for other modules. */
#ifndef KTSTR_ORCH_KERNEL_LAYOUT_PRIV_H
#define KTSTR_ORCH_KERNEL_LAYOUT_PRIV_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor.pb-c.h"

struct btf;

#define KL_CONFIG_MAX (4u << 20) /* a kernel config: ~150 KiB in practice */
#define KL_BTF_MAX (256u << 20)	 /* a vmlinux's BTF: ~6 MiB in practice */

/* A kernel image in memory: an ELF vmlinux (elf set), or a flat one (an
 * arm64 Image: elf NULL, the whole file is one region linked at vaddr).
 * data is borrowed from the caller for the image's life; elf is owned
 * (elf_end in kl_image_close). kaddr_min: the lowest address a
 * kallsyms_relative_base may hold (a kernel-image address of this arch). */
struct kl_image {
	const uint8_t *data;
	size_t len;
	Elf *elf;
	size_t shstrndx;
	uint64_t vaddr;
	uint64_t kaddr_min;
};

/* A section whose bytes lie wholly inside the file (checked). */
struct kl_section {
	const char *name; /* points into the ELF's string table */
	uint64_t addr;    /* link-time virtual address */
	const uint8_t *bytes;
	uint64_t size;
	Elf_Scn *scn;
	uint32_t type;
};

/* 0, -EINVAL (not an ELF64 x86_64 image) with err. */
int kl_image_open(struct kl_image *im, const uint8_t *data, size_t len, char *err, size_t errlen);
/* A flat image of len bytes whose first byte is linked at vaddr: no
 * sections, no .symtab; kallsyms is searched in the whole of it. */
void kl_image_open_flat(struct kl_image *im, const uint8_t *data, size_t len, uint64_t vaddr,
			uint64_t kaddr_min);
void kl_image_close(struct kl_image *im);
/* Where the kallsyms tables may lie: .rodata of an ELF, all of a flat
 * image. 0 or -ENOENT. */
int kl_kallsyms_area(const struct kl_image *im, struct kl_section *out);
/* The named section: 0, -ENOENT, or -EINVAL when it claims bytes outside
 * the file (a NOBITS section, which has none, is -ENOENT here). A flat
 * image has none: -ENOENT. */
int kl_section(const struct kl_image *im, const char *name, struct kl_section *out);
/* The file bytes behind [kva, kva + len) in an allocated section with file
 * contents, or NULL. */
const uint8_t *kl_kva_bytes(const struct kl_image *im, uint64_t kva, uint64_t len);

/* The value the kernel writes at kva when it relocates itself: a flat
 * arm64 Image, linked with --no-apply-dynamic-relocs, holds 0 in such a
 * pointer and an R_AARCH64_RELATIVE entry (Elf64_Rela) naming the slot in
 * its own .rela.dyn. 0 or -ENOENT (none, or not a flat image). */
int kl_reloc_value(const struct kl_image *im, uint64_t kva, uint64_t *val);

/* A symbol the deriver wants; found/addr filled by the lookups. An
 * ambiguous name (two addresses) counts as not found. */
struct kl_sym {
	const char *name;
	uint64_t addr;
	bool found;
	bool ambiguous;
};

/* Look every wanted symbol up in .symtab: 0 (some may stay unfound),
 * -ENOENT (no .symtab), -EINVAL (a damaged one) with err. */
int kl_syms_from_symtab(const struct kl_image *im, struct kl_sym *syms, size_t n, char *err,
			size_t errlen);

/* Bounds on the kallsyms tables: more symbols than this is garbage (a
 * distro kernel has ~200k). */
#define KL_KALLSYMS_MAX_SYMS (4u << 20)

/* Look every wanted symbol up in the kernel's kallsyms tables, found by
 * their structure in .rodata: 0, -ENOENT (no tables recognised), -EINVAL
 * (tables that do not hold together) with err. Addresses are validated
 * against linux_banner by the caller. */
int kl_syms_from_kallsyms(const struct kl_image *im, struct kl_sym *syms, size_t n, char *err,
			  size_t errlen);

/* Everything after the image and its BTF are in hand (kernel_layout.c):
 * the symbols (.symtab, else kallsyms), the banner and runqueues checks,
 * the BTF layouts, HZ (from cfg, a config's text, else the config beside
 * the vmlinux at path), what is missing. l->arch set to ARCH_ARM64 asks
 * for arm64's symbols (memstart_addr; none of x86's page_offset_base,
 * phys_base, init_top_pgt). 0, -ENODATA (l->missing and err say what),
 * -EINVAL, -ENOMEM with err. */
int kl_derive(Ktstr__GuestKernelLayout *l, const struct kl_image *im, const struct btf *btf,
	      const char *path, const char *cfg, char *err, size_t errlen);

/* The value of "NAME=" at the start of a line of cfg (a config's
 * NUL-terminated text), or NULL. */
const char *kl_config_value(const char *cfg, const char *name);

/* ---- arm64 (kernel_layout_arm64.c) ---- */

/* What an arm64 kernel's config says that the layout needs. */
struct kl_arm64_config {
	unsigned va_bits;     /* CONFIG_ARM64_VA_BITS */
	unsigned major, minor; /* from "# Linux/arm64 X.Y.Z Kernel Configuration" */
	bool kallsyms_all;    /* CONFIG_KALLSYMS_ALL: data symbols in kallsyms */
	bool pages_16k;	      /* CONFIG_ARM64_16K_PAGES: VA_BITS_MIN 47 for 52 */
};

/* Parse cfg (NUL-terminated): 0 or -EINVAL (no or a foreign VA_BITS, no
 * version header) with err. */
int kl_arm64_config(const char *cfg, struct kl_arm64_config *out, char *err, size_t errlen);
/* KIMAGE_VADDR, the link address of _text, for that version and VA_BITS. */
uint64_t kl_arm64_kimage_vaddr(const struct kl_arm64_config *c);
/* The Image's own relocations (RELA or RELR) must place it at va, size
 * bytes long: 0 or -EINVAL with err. Bounded by len; one pass each. */
int kl_arm64_link_check(const uint8_t *data, size_t len, uint64_t va, uint64_t size, char *err,
			size_t errlen);

/* A struct member's place, found through anonymous struct/union members
 * at any depth. 0, -ENOENT (no such struct or member), -EINVAL (a
 * bitfield, or a member whose size BTF cannot resolve). */
int kl_btf_member(const struct btf *btf, const char *st, const char *member, uint32_t *offset,
		  uint32_t *size);
/* sizeof(struct st): 0 or -ENOENT. */
int kl_btf_struct_size(const struct btf *btf, const char *st, uint32_t *size);
/* Offset of a per-CPU variable in the .data..percpu DATASEC: 0 or -ENOENT. */
int kl_btf_percpu_var(const struct btf *btf, const char *var, uint32_t *offset);
/* Call fn for every named, byte-aligned member of struct st (bitfields
 * skipped); stops at fn's first non-zero return. 0, -ENOENT or fn's. */
int kl_btf_each_member(const struct btf *btf, const char *st,
		       int (*fn)(void *ctx, const char *name, uint32_t offset, uint32_t size),
		       void *ctx);
/* The value of enumerator val of enum en: 0 or -ENOENT. */
int kl_btf_enum_value(const struct btf *btf, const char *en, const char *val, int64_t *out);

#endif
