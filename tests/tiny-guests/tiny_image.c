/* Kernel images around the tiny guest code: a minimal bzImage (boot sector
 * + one setup sector with the boot protocol header, then the protected-mode
 * code whose +0x200 is the 64-bit entry) and a minimal PVH ELF (one PT_LOAD
 * at 1 MiB, one PT_NOTE with XEN_ELFNOTE_PHYS32_ENTRY). */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktstr/le.h"
#include "ktstr/ring.h"
#include "ktstr/util.h"
#include "tiny.h"

/* The code blob with its params filled: scenario and a complete ring
 * message (16-byte header with the payload's CRC, then the payload). */
static uint8_t *blob(enum tiny_format fmt, unsigned scenario, uint32_t type, const char *payload,
		     size_t *len)
{
	const uint8_t *s = fmt == TINY_BZIMAGE ? tiny64_start : tiny32_start;
	const uint8_t *p = fmt == TINY_BZIMAGE ? tiny64_params : tiny32_params;
	const uint8_t *e = fmt == TINY_BZIMAGE ? tiny64_end : tiny32_end;
	size_t plen = payload ? strlen(payload) : 0, off = (size_t)(p - s);
	uint8_t *b;

	if (plen + KTSTR_RING_MSG_HDR_SIZE > TINY_RING_MAX)
		return NULL;
	*len = (size_t)(e - s);
	b = malloc(*len);
	if (!b)
		return NULL;
	memcpy(b, s, *len);
	put_le32(b + off, scenario);
	if (payload) {
		uint8_t *m = b + off + 16;

		put_le32(b + off + 4, (uint32_t)(KTSTR_RING_MSG_HDR_SIZE + plen));
		put_le32(m, type);
		put_le32(m + 4, (uint32_t)plen);
		put_le32(m + 8, ktstr_crc32(payload, plen));
		put_le32(m + 12, 0);
		memcpy(m + 16, payload, plen);
	}
	return b;
}

static uint8_t *pvh_elf(const uint8_t *code, size_t clen, size_t *len)
{
	const size_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr), load_off = 0x1000;
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { { 0 } };
	uint8_t *img;

	*len = load_off + 0x200 + clen;
	img = calloc(1, *len);
	if (!img)
		return NULL;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = TINY_BASE;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = load_off,
			      .p_vaddr = 0x100000, .p_paddr = 0x100000, .p_filesz = 0x200 + clen,
			      .p_memsz = 0x200 + clen, .p_align = 0x1000 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = note_off,
			      .p_filesz = 12 + 4 + 4, .p_memsz = 12 + 4 + 4, .p_align = 4 };
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	put_le32(img + note_off, 4);	/* namesz */
	put_le32(img + note_off + 4, 4);	/* descsz */
	put_le32(img + note_off + 8, 18);	/* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(img + note_off + 12, "Xen", 4);
	put_le32(img + note_off + 16, TINY_BASE);
	memset(img + load_off, 0xf4, 0x200);
	memcpy(img + load_off + 0x200, code, clen);
	return img;
}

int tiny_image(enum tiny_format fmt, unsigned scenario, uint32_t ring_type, const char *payload)
{
	size_t clen, ilen;
	uint8_t *code = blob(fmt, scenario, ring_type, payload, &clen), *img;
	int fd, r;

	if (!code)
		return -EINVAL;
	img = fmt == TINY_BZIMAGE ? tiny_bzimage(code, clen, &ilen) : pvh_elf(code, clen, &ilen);
	free(code);
	if (!img)
		return -ENOMEM;
	fd = memfd_create("ktstr-tiny-kernel", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(img);
		return r;
	}
	r = write_full(fd, img, ilen);
	free(img);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}
