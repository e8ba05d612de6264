/* The built guests (docs/aarch64.md, "The arm64 guest"): $(BUILD)/bin/arm64/
 * ktstr-guest is a static aarch64 executable that opens the arm64 output
 * port, and the host's $(BUILD)/bin/ktstr-guest opens its own. Read with
 * libelf from the build tree this test binary belongs to. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktstr/guest_contract.h"

/* What the Makefile found missing for the arm64 guest ("" = it was built). */
#ifndef KTSTR_ARM64_GUEST_MISSING
#define KTSTR_ARM64_GUEST_MISSING "the Makefile's KTSTR_ARM64_GUEST_MISSING"
#endif

struct elf_facts {
	unsigned char cls, data;
	GElf_Half type, machine;
	bool interp, dynamic;
	bool has_com2_x86, has_com2_arm64; /* the device paths, in read-only data */
};

/* $(BUILD) from /proc/self/exe ($(BUILD)/tests/unit-guest). */
static void build_path(char *out, size_t len, const char *rel)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	cr_assert_gt(n, 0);
	exe[n] = '\0';
	for (int i = 0; i < 2; i++)
		*strrchr(exe, '/') = '\0';
	cr_assert_lt((size_t)snprintf(out, len, "%s/%s", exe, rel), len, "path too long");
}

static bool section_has(Elf_Scn *scn, const char *s)
{
	Elf_Data *d = NULL;

	while ((d = elf_getdata(scn, d)))
		if (d->d_buf && memmem(d->d_buf, d->d_size, s, strlen(s) + 1))
			return true;
	return false;
}

static void read_facts(const char *path, struct elf_facts *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;
	GElf_Ehdr eh;
	size_t nph;
	Elf_Scn *scn = NULL;

	memset(f, 0, sizeof(*f));
	cr_assert_geq(fd, 0, "%s: not built (make all builds it)", path);
	cr_assert_neq(elf_version(EV_CURRENT), EV_NONE);
	e = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_not_null(e, "%s: %s", path, elf_errmsg(-1));
	cr_assert_eq(elf_kind(e), ELF_K_ELF, "%s is not an ELF file", path);
	cr_assert_not_null(gelf_getehdr(e, &eh));
	f->cls = eh.e_ident[EI_CLASS];
	f->data = eh.e_ident[EI_DATA];
	f->type = eh.e_type;
	f->machine = eh.e_machine;
	cr_assert_eq(elf_getphdrnum(e, &nph), 0);
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		cr_assert_not_null(gelf_getphdr(e, (int)i, &ph));
		f->interp |= ph.p_type == PT_INTERP;
		f->dynamic |= ph.p_type == PT_DYNAMIC;
	}
	/* Allocated, non-executable data: where string constants live. */
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		cr_assert_not_null(gelf_getshdr(scn, &sh));
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    (sh.sh_flags & SHF_EXECINSTR))
			continue;
		f->has_com2_x86 |= section_has(scn, KTSTR_GUEST_COM2_DEV);
		f->has_com2_arm64 |= section_has(scn, KTSTR_GUEST_COM2_DEV_ARM64);
	}
	elf_end(e);
	close(fd);
}

Test(guest_build, arm64_guest_is_a_static_aarch64_executable)
{
	char path[PATH_MAX];
	struct elf_facts f;

	if (KTSTR_ARM64_GUEST_MISSING[0])
		cr_skip_test("the arm64 guest was not built on this host: %s not found "
			     "(`make all` said 'arm64 guest skipped'; scripts/install-deps "
			     "installs the cross compiler and arm64 libraries)",
			     KTSTR_ARM64_GUEST_MISSING);
	build_path(path, sizeof(path), "bin/arm64/ktstr-guest");
	read_facts(path, &f);
	cr_assert_eq(f.cls, ELFCLASS64, "%s: not a 64-bit ELF", path);
	cr_assert_eq(f.data, ELFDATA2LSB, "%s: not little-endian", path);
	cr_assert_eq(f.machine, EM_AARCH64, "%s: e_machine %u, want EM_AARCH64 (%u)", path,
		     f.machine, EM_AARCH64);
	cr_assert_eq(f.type, ET_EXEC, "%s: e_type %u, want ET_EXEC (a static, non-PIE PID 1)",
		     path, f.type);
	cr_assert_not(f.interp, "%s has a program interpreter: not static", path);
	cr_assert_not(f.dynamic, "%s has a dynamic section: not static", path);
	/* Both ports are named (KTSTR_OUTPUT_PORT may pick either); which one
	 * is the default is unit-guest output_port (host build) and integ-arm64_run
	 * (the arm64 guest's lines arrive from hvc0). */
	cr_assert(f.has_com2_arm64 && f.has_com2_x86, "%s does not name both output ports",
		  path);
}

#if defined(__x86_64__)
Test(guest_build, x86_guest_is_a_static_x86_64_executable)
{
	char path[PATH_MAX];
	struct elf_facts f;

	build_path(path, sizeof(path), "bin/ktstr-guest");
	read_facts(path, &f);
	cr_assert_eq(f.machine, EM_X86_64, "%s: e_machine %u, want EM_X86_64", path, f.machine);
	cr_assert_eq(f.type, ET_EXEC, "%s: e_type %u, want ET_EXEC", path, f.type);
	cr_assert_not(f.interp || f.dynamic, "%s is not static", path);
	cr_assert(f.has_com2_x86 && f.has_com2_arm64, "%s does not name both output ports",
		  path);
}
#endif
