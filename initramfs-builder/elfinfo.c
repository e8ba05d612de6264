/* libelf does the bounds checking of headers, sections and string tables;
 * PT_INTERP is read from its program header and checked here. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/arch.h>

#include "elfinfo.h"

int elf_is_elf(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

void elf_info_free(struct elf_info *ei)
{
	size_t i;

	free(ei->interp);
	for (i = 0; i < ei->nneeded; i++)
		free(ei->needed[i]);
	free(ei->needed);
	free(ei->rpath);
	free(ei->runpath);
	memset(ei, 0, sizeof(*ei));
}

static int elf_push_needed(struct elf_info *ei, const char *name)
{
	char **nv = realloc(ei->needed, (ei->nneeded + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	ei->needed = nv;
	nv[ei->nneeded] = strdup(name);
	if (!nv[ei->nneeded])
		return -ENOMEM;
	ei->nneeded++;
	return 0;
}

/* Walk SHT_DYNAMIC sections; string values live in the section named by
 * sh_link. */
static int elf_read_dynamic(Elf *e, struct elf_info *ei, char *why, size_t whylen)
{
	Elf_Scn *scn = NULL;
	int found = 0;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		found = 1;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Dyn dyn;
			const char *s;
			char **slot = NULL;

			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH &&
			    dyn.d_tag != DT_RUNPATH)
				continue;
			s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
			if (!s) {
				snprintf(why, whylen, "dynamic entry %zu points outside the string table", i);
				return -EINVAL;
			}
			if (dyn.d_tag == DT_NEEDED) {
				if (elf_push_needed(ei, s))
					return -ENOMEM;
				continue;
			}
			slot = dyn.d_tag == DT_RPATH ? &ei->rpath : &ei->runpath;
			if (*slot)	/* first one wins, like ld.so */
				continue;
			*slot = strdup(s);
			if (!*slot)
				return -ENOMEM;
		}
	}
	if (ei->dynamic && !found) {
		snprintf(why, whylen, "has PT_DYNAMIC but no section headers (sstripped?); "
			 "cannot list its libraries");
		return -EINVAL;
	}
	return 0;
}

int elf_inspect(const uint8_t *buf, size_t len, unsigned machine, struct elf_info *out, char *why,
		size_t whylen)
{
	GElf_Ehdr eh;
	size_t phnum, i;
	Elf *e;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!elf_is_elf(buf, len)) {
		snprintf(why, whylen, "not an ELF file (no \\x7fELF magic)");
		return -ENOEXEC;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(why, whylen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	/* elf_memory only reads the image for ELF_C_READ use. */
	e = elf_memory((char *)buf, len);
	if (!e) {
		snprintf(why, whylen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	if (!gelf_getehdr(e, &eh)) {
		snprintf(why, whylen, "bad ELF header: %s", elf_errmsg(-1));
		ret = -EINVAL;
		goto out;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != machine) {
		char mb[2][32];

		snprintf(why, whylen, "ELF for another architecture (class %u, %s); the guest is %s",
			 eh.e_ident[EI_CLASS], ktstr_elf_machine_name(eh.e_machine, mb[0], sizeof(mb[0])),
			 ktstr_elf_machine_name(machine, mb[1], sizeof(mb[1])));
		ret = -ENOEXEC;
		goto out;
	}
	if (elf_getphdrnum(e, &phnum)) {
		snprintf(why, whylen, "bad program headers: %s", elf_errmsg(-1));
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_DYNAMIC)
			out->dynamic = 1;
		if (ph.p_type != PT_INTERP || out->interp)
			continue;
		if (ph.p_offset >= len || ph.p_filesz == 0 || ph.p_filesz > len - ph.p_offset ||
		    ph.p_filesz > 4096 || buf[ph.p_offset + ph.p_filesz - 1] != '\0') {
			snprintf(why, whylen, "PT_INTERP is damaged");
			ret = -EINVAL;
			goto out;
		}
		out->interp = strdup((const char *)buf + ph.p_offset);
		if (!out->interp) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = elf_read_dynamic(e, out, why, whylen);
out:
	elf_end(e);
	if (ret)
		elf_info_free(out);
	return ret;
}
