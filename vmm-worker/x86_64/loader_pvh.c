/* ELF vmlinux with a Xen PVH entry note: segments go to their physical
 * addresses and we enter the 32-bit PVH entry with a hvm_start_info. Parsing
 * uses libelf, which bounds-checks the headers for us. */
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"

static int find_pvh_entry(Elf *elf, const GElf_Phdr *ph, uint64_t *entry)
{
	Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!d)
		return -ENOENT;
	while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)d->d_buf + name_off;

		if (nh.n_type != XEN_ELFNOTE_PHYS32_ENTRY || nh.n_namesz != 4 || memcmp(name, "Xen", 4))
			continue;
		if (nh.n_descsz == 4) {
			uint32_t v;

			memcpy(&v, (const char *)d->d_buf + desc_off, 4);
			*entry = v;
		} else if (nh.n_descsz == 8) {
			memcpy(entry, (const char *)d->d_buf + desc_off, 8);
		} else {
			continue;
		}
		return 0;
	}
	return -ENOENT;
}

int x86_load_pvh(int fd, const struct guest_ram *ram, uint64_t usable_end,
		 struct x86_kernel *k, char *err, size_t errlen)
{
	size_t nph;
	Elf *elf;
	int ret = 0;
	bool have_entry = false;

	memset(k, 0, sizeof(*k));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf initialisation failed: %s", elf_errmsg(-1));
		return -ENOSYS;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 ||
	    elf_getphdrnum(elf, &nph)) {
		snprintf(err, errlen, "kernel ELF: not a readable ELF64 file (%s)", elf_errmsg(-1));
		ret = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		uint8_t *dst;
		ssize_t n;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			snprintf(err, errlen, "kernel ELF: program header %zu unreadable: %s", i, elf_errmsg(-1));
			ret = -ENOEXEC;
			goto out;
		}
		if (ph.p_type == PT_NOTE && !have_entry)
			have_entry = !find_pvh_entry(elf, &ph, &k->entry);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_paddr < X86_KERNEL_LOAD ||
		    ph.p_paddr + ph.p_memsz > usable_end ||
		    !(dst = guest_ptr(ram, ph.p_paddr, ph.p_memsz))) {
			snprintf(err, errlen, "kernel ELF segment %zu [0x%llx, +0x%llx) lies outside usable guest RAM [1 MiB, 0x%llx); raise memory_mb or check the image",
				 i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
				 (unsigned long long)usable_end);
			ret = -ENOMEM;
			goto out;
		}
		n = pread(fd, dst, ph.p_filesz, (off_t)ph.p_offset);
		if (n != (ssize_t)ph.p_filesz) {
			snprintf(err, errlen, "kernel ELF segment %zu: read failed: %s", i,
				 n < 0 ? strerror(errno) : "short read");
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > k->end)
			k->end = ph.p_paddr + ph.p_memsz;
	}
	if (!have_entry) {
		snprintf(err, errlen, "kernel ELF has no PVH entry note (Xen note type 18); build with CONFIG_PVH=y or pass the bzImage");
		ret = -ENOEXEC;
		goto out;
	}
	k->kind = X86_KERNEL_PVH;
out:
	if (elf)
		elf_end(elf);
	return ret;
}
