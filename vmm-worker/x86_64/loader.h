/* Kernel image loaders: a bzImage (64-bit boot protocol entry) or an ELF
 * vmlinux with a PVH entry note (32-bit entry, no decompression; the fast
 * path under emulation). Both copy the kernel into guest RAM and say where
 * the kernel's boot-time footprint ends so the initrd is placed after it. */
#ifndef KTSTR_X86_LOADER_H
#define KTSTR_X86_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "guestmem.h"

enum x86_kernel_kind { X86_KERNEL_BZIMAGE = 1, X86_KERNEL_PVH = 2 };

struct x86_kernel {
	enum x86_kernel_kind kind;
	uint64_t entry;	   /* GPA of the first instruction */
	uint64_t end;	   /* first GPA past everything the kernel uses to boot */
	uint8_t setup_hdr[0x80]; /* bzImage: bytes 0x1F1.. of the file */
	size_t hdr_len;
	uint32_t init_size;
};

#define XEN_ELFNOTE_PHYS32_ENTRY 18u

/* Detect the format of fd (ELF magic or "HdrS") and load it into ram, which
 * must keep [X86_KERNEL_LOAD, usable_end) free. Reads fd with pread only
 * (fd stays owned by the caller). On error returns -errno and writes what
 * failed and what to do into err. */
int x86_load_kernel(int fd, const struct guest_ram *ram, uint64_t usable_end,
		    struct x86_kernel *k, char *err, size_t errlen);
int x86_load_bzimage(int fd, const struct guest_ram *ram, uint64_t usable_end,
		     struct x86_kernel *k, char *err, size_t errlen);
int x86_load_pvh(int fd, const struct guest_ram *ram, uint64_t usable_end,
		 struct x86_kernel *k, char *err, size_t errlen);

/* Where the initrd goes: page aligned, at least 128 MiB, past the kernel and
 * ending at or below limit. Returns 0 or -ENOMEM (does not fit). */
int x86_initrd_place(const struct x86_kernel *k, uint64_t initrd_size, uint64_t limit,
		     uint64_t *addr);

#endif
