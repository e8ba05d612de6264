/* Shared between the three parts of the layout deriver (kernel_layout.c:
 * the image and the message; kernel_layout_syms.c: symbol addresses;
 * kernel_layout_btf.c: struct offsets). Not for other modules. */
#ifndef KTSTR_ORCH_KERNEL_LAYOUT_PRIV_H
#define KTSTR_ORCH_KERNEL_LAYOUT_PRIV_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

/* A vmlinux in memory. data is borrowed from the caller for the image's
 * life; elf is owned (elf_end in kl_image_close). */
struct kl_image {
	const uint8_t *data;
	size_t len;
	Elf *elf;
	size_t shstrndx;
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
void kl_image_close(struct kl_image *im);
/* The named section: 0, -ENOENT, or -EINVAL when it claims bytes outside
 * the file (a NOBITS section, which has none, is -ENOENT here). */
int kl_section(const struct kl_image *im, const char *name, struct kl_section *out);
/* The file bytes behind [kva, kva + len) in an allocated section with file
 * contents, or NULL. */
const uint8_t *kl_kva_bytes(const struct kl_image *im, uint64_t kva, uint64_t len);

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
