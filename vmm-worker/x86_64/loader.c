#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"

int x86_load_kernel(int fd, const struct guest_ram *ram, uint64_t usable_end,
		    struct x86_kernel *k, char *err, size_t errlen)
{
	uint8_t magic[4];
	ssize_t n = pread(fd, magic, sizeof(magic), 0);

	if (n != (ssize_t)sizeof(magic)) {
		snprintf(err, errlen, "kernel image: cannot read its first bytes (%s); pass a bzImage or a vmlinux ELF",
			 n < 0 ? strerror(errno) : "file too short");
		return n < 0 ? -errno : -ENOEXEC;
	}
	if (!memcmp(magic, "\x7f" "ELF", 4))
		return x86_load_pvh(fd, ram, usable_end, k, err, errlen);
	return x86_load_bzimage(fd, ram, usable_end, k, err, errlen);
}

int x86_initrd_place(const struct x86_kernel *k, uint64_t initrd_size, uint64_t limit,
		     uint64_t *addr)
{
	uint64_t a = (k->end + (2ull << 20) - 1) & ~((2ull << 20) - 1);

	if (a < X86_INITRD_MIN)
		a = X86_INITRD_MIN;
	if (a > limit || initrd_size > limit - a)
		return -ENOMEM;
	*addr = a;
	return 0;
}
