/* The guest kernel's layout for the worker's host-side monitor, derived on
 * the host from the kernel's vmlinux (docs/monitor.md): symbol addresses
 * from the ELF .symtab or, in a stripped vmlinux such as the one inside a
 * Debian bzImage, from the kernel's own kallsyms tables; struct offsets from
 * .BTF through libbpf. The result travels to the worker as a
 * GuestKernelLayout (proto/monitor.proto), so the confined worker parses no
 * kernel image.
 *
 * A kernel image is untrusted input: the file is bounded (KERNEL_LAYOUT_FILE_MAX),
 * every table inside it is bounds-checked, and garbage is an error with a
 * reason, never a crash. */
#ifndef KTSTR_ORCH_KERNEL_LAYOUT_H
#define KTSTR_ORCH_KERNEL_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common.pb-c.h"
#include "monitor.pb-c.h"

#define KERNEL_LAYOUT_FILE_MAX (1ull << 30) /* larger vmlinux files are refused */

/* Derive the layout of the kernel at path: an ELF vmlinux, a directory
 * holding one ("vmlinux"), or a bzImage (then the "vmlinux" beside it, else
 * the one decompressed from it). On 0 or -ENODATA *out is a malloc'd message
 * the caller frees with ktstr__guest_kernel_layout__free_unpacked(*out,
 * NULL); on any other error *out is NULL.
 *
 * Returns 0 when the monitor can run (out->missing may still name optional
 * pieces: sched_ext's on a kernel without it); -ENODATA when something it
 * cannot run without is missing (no BTF, no symbols, no struct rq): err
 * says what and what the user can do, and (*out)->missing lists it all;
 * -ENOENT/-EACCES (no file), -EFBIG (over 1 GiB), -EINVAL (not a kernel
 * image, or one whose tables do not hold together), -ENOMEM. */
int kernel_layout_from_vmlinux(const char *path, Ktstr__GuestKernelLayout **out, char *err,
			       size_t errlen);

/* The layout of an arm64 kernel cache entry: dir holds "Image" (the raw
 * arm64 Image, not ELF; at most KERNEL_LAYOUT_ARM64_IMAGE_MAX bytes),
 * "config" (required: CONFIG_ARM64_VA_BITS and the version place the
 * image) and "vmlinux.btf" (the BTF cut out of the Image; without it the
 * layout lacks BTF). Symbols come from the Image's kallsyms tables, whose
 * addresses rest on image_vaddr = KIMAGE_VADDR as arch/arm64's memory.h
 * computes it, checked against the Image's own relocations. Sets arch,
 * image_vaddr, image_size, va_bits, memstart_addr and every field the
 * x86_64 derivation fills that arm64 has (never page_offset_base,
 * phys_base, init_top_pgt). Returns and owns *out as
 * kernel_layout_from_vmlinux does: 0; -ENODATA (e.g. a kernel whose
 * kallsyms lacks data symbols: CONFIG_KALLSYMS_ALL off) with *out and the
 * reason; -ENOENT/-EACCES (no Image or config), -EFBIG (Image over the
 * bound), -EINVAL (not an arm64 Image, a config without VA_BITS, an Image
 * not linked where the formula says, tables that do not hold together),
 * -ENOMEM. */
#define KERNEL_LAYOUT_ARM64_IMAGE_MAX (256ull << 20)
int kernel_layout_from_arm64_entry(const char *dir, Ktstr__GuestKernelLayout **out, char *err,
				   size_t errlen);

/* What `run` and `shell` do with it, once per kernel and as the dropped
 * user (a kernel image is untrusted input, never parsed as root): derive
 * the layout of image, the kernel of a guest of arch (arm64: the entry's
 * Image, or its directory, through kernel_layout_from_arm64_entry), and
 * say once on stderr whether the monitor is on ("monitor: on for kernel
 * K", or what it lacks) or off and why ("monitor: off for kernel K: why";
 * the VMs then run unmonitored). Returns the layout (free with
 * ktstr__guest_kernel_layout__free_unpacked), or NULL: off. An arm64
 * image's layout comes from its cache entry (kernel_layout_from_arm64_entry). */
Ktstr__GuestKernelLayout *kernel_layout_for_monitor(const char *image, Ktstr__Arch arch);

#endif
