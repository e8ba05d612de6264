/* A guest file's architecture, from its header, so a run refuses an x86
 * kernel or binary in an arm64 guest (and the reverse) before any boot,
 * with the file, what it is and what the run wants (docs/aarch64.md). */
#ifndef KTSTR_ORCH_KERNEL_ARCH_H
#define KTSTR_ORCH_KERNEL_ARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common.pb-c.h"

/* The architecture a kernel image at path is for: an arm64 Image (magic
 * "ARM\x64" at offset 56, Linux booting.rst), an x86 bzImage ("HdrS" at
 * 0x202, the x86 boot protocol), an ELF vmlinux (its e_machine), read as
 * raw bytes at fixed offsets (safe as root: nothing is parsed). Returns
 * 1 with *arch set, 0 when the header says nothing ktstr knows (a gzip'd
 * Image, a vmlinuz of another format: the worker's own parser decides),
 * -EINVAL with why for an ELF of another machine (a kernel for no guest
 * ktstr runs), -errno when the file cannot be read. */
int kernel_image_arch(const char *path, Ktstr__Arch *arch, char *why, size_t whylen);

/* Refuse (-EINVAL, err naming the file, what it is and the run's
 * architecture) a kernel image whose header says another architecture
 * than want. An unknown format passes. */
int kernel_check_arch(const char *path, Ktstr__Arch want, char *err, size_t errlen);

/* The ELF e_machine of the file at path, read with libelf: 1 with
 * *machine set, 0 when the file is not ELF, -errno (err says why) when it
 * cannot be read or its header is damaged. */
int elf_file_machine(const char *path, unsigned *machine, char *err, size_t errlen);

/* what (e.g. "scheduler 'scx_simple' binary") at path goes into a guest
 * of architecture want: if it is an ELF file, its machine must be want's.
 * Returns 0 (ELF of want's machine, or not ELF: a script or data file), or
 * -ENOEXEC with err naming the file, its machine and the run's
 * architecture, or -errno. */
int elf_check_arch(const char *what, const char *path, Ktstr__Arch want, char *err,
		   size_t errlen);

#endif
