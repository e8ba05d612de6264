/* Guest files' architectures from their headers (kernel_arch.h). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/arch.h>

#include "kernel_arch.h"

/* arm64 Image header (Documentation/arch/arm64/booting.rst): magic at 56. */
#define ARM64_IMAGE_MAGIC_OFF 56
static const char arm64_magic[4] = { 'A', 'R', 'M', 0x64 };
/* x86 boot protocol: "HdrS" at 0x202 of a bzImage. */
#define BZIMAGE_MAGIC_OFF 0x202
static const char bzimage_magic[4] = { 'H', 'd', 'r', 'S' };

int elf_file_machine(const char *path, unsigned *machine, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	Elf *e;
	int fd, ret;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	/* ELF_C_READ_MMAP: libelf maps the file; only the header is read. */
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		ret = 0; /* not ELF (or nothing libelf can open as one) */
		goto out;
	}
	if (!gelf_getehdr(e, &eh)) {
		snprintf(err, errlen, "%s: damaged ELF header: %s", path, elf_errmsg(-1));
		ret = -EINVAL;
		goto out;
	}
	*machine = eh.e_machine;
	ret = 1;
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

int elf_check_arch(const char *what, const char *path, Ktstr__Arch want, char *err,
		   size_t errlen)
{
	char mbuf[32];
	unsigned m = 0;
	int ret = elf_file_machine(path, &m, err, errlen);

	if (ret <= 0)
		return ret;
	if (m == ktstr_arch_elf_machine(want))
		return 0;
	snprintf(err, errlen,
		 "%s %s is an ELF file for %s, but the run's guest is %s (--arch %s): build it "
		 "for %s (docs/aarch64.md) or run with the matching --arch",
		 what, path, ktstr_elf_machine_name(m, mbuf, sizeof(mbuf)), ktstr_arch_name(want),
		 ktstr_arch_name(want), ktstr_arch_name(want));
	return -ENOEXEC;
}

/* The kernel's header is read as raw bytes at fixed offsets, never handed
 * to a parser: resolution runs as root, and a kernel image is untrusted
 * input that is parsed only as the dropped user (kernel_layout.h). */
int kernel_image_arch(const char *path, Ktstr__Arch *arch, char *why, size_t whylen)
{
	unsigned char h[BZIMAGE_MAGIC_OFF + sizeof(bzimage_magic)];
	char mbuf[32];
	unsigned m;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	n = pread(fd, h, sizeof(h), 0);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	/* ELF: e_ident, then e_type (16 bits), e_machine (16 bits, the
	 * file's byte order; every kernel ktstr boots is little-endian). */
	if (n >= EI_NIDENT + 4 && !memcmp(h, ELFMAG, SELFMAG) && h[EI_DATA] == ELFDATA2LSB) {
		m = (unsigned)h[EI_NIDENT + 2] | (unsigned)h[EI_NIDENT + 3] << 8;
		if (m == ktstr_arch_elf_machine(KTSTR__ARCH__ARCH_X86_64)) {
			*arch = KTSTR__ARCH__ARCH_X86_64;
		} else if (m == ktstr_arch_elf_machine(KTSTR__ARCH__ARCH_ARM64)) {
			*arch = KTSTR__ARCH__ARCH_ARM64;
		} else {
			snprintf(why, whylen, "%s is an ELF kernel for %s, which ktstr cannot boot",
				 path, ktstr_elf_machine_name(m, mbuf, sizeof(mbuf)));
			return -EINVAL;
		}
		return 1;
	}
	if (n >= ARM64_IMAGE_MAGIC_OFF + 4 &&
	    !memcmp(h + ARM64_IMAGE_MAGIC_OFF, arm64_magic, sizeof(arm64_magic))) {
		*arch = KTSTR__ARCH__ARCH_ARM64;
		return 1;
	}
	if (n == (ssize_t)sizeof(h) &&
	    !memcmp(h + BZIMAGE_MAGIC_OFF, bzimage_magic, sizeof(bzimage_magic))) {
		*arch = KTSTR__ARCH__ARCH_X86_64;
		return 1;
	}
	return 0;
}

int kernel_check_arch(const char *path, Ktstr__Arch want, char *err, size_t errlen)
{
	Ktstr__Arch got;
	int ret = kernel_image_arch(path, &got, err, errlen);

	if (ret <= 0)
		return ret == -EINVAL ? ret : 0; /* unreadable: the open that follows says why */
	if (got == want)
		return 0;
	snprintf(err, errlen,
		 "kernel %s is an %s kernel (%s), but the run's guest is %s (--arch %s): pass an "
		 "%s kernel (%s) or --arch %s",
		 path, ktstr_arch_name(got),
		 got == KTSTR__ARCH__ARCH_ARM64 ? "arm64 Image header" : "x86 bzImage or vmlinux",
		 ktstr_arch_name(want), ktstr_arch_name(want), ktstr_arch_name(want),
		 want == KTSTR__ARCH__ARCH_ARM64 ? "`ktstr-orch kernel fetch --arch arm64`, or an "
						   "arm64 Image"
						 : "a bzImage or vmlinux",
		 ktstr_arch_name(got));
	return -EINVAL;
}
