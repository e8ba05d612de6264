#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ktstr/le.h>

#include "x86_64/acpi.h"
#include "x86_64/bootparams.h"
#include "x86_64/layout.h"
#include "test_env.h"

static uint8_t win[X86_ACPI_END - X86_ACPI_START];

static uint8_t *at(uint64_t gpa)
{
	return win + (gpa - X86_ACPI_START);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void build(struct x86_machine *m, struct ktstr_topo t, uint64_t *rsdp)
{
	struct acpi_buf b = { win, X86_ACPI_START, sizeof(win), 0 };
	char err[256];

	cr_assert_eq(x86_machine_init(m, &t, 4096ull << 20, 16 << 20, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(acpi_build(&b, m, rsdp), 0);
}

/* Find a table by signature through the XSDT. */
static uint8_t *table(uint64_t rsdp, const char *sig)
{
	uint8_t *x = at(get_le64(at(rsdp) + 24));
	uint32_t n = (get_le32(x + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t *t = at(get_le64(x + 36 + 8 * i));

		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

Test(acpi, rsdp_and_checksums)
{
	struct x86_machine m;
	uint64_t rsdp;
	const char *sigs[] = { "FACP", "APIC", "SRAT", "SLIT" };

	build(&m, (struct ktstr_topo){ 1, 2, 2, 2 }, &rsdp);
	cr_assert_eq(rsdp, X86_ACPI_START);
	cr_assert(!memcmp(at(rsdp), "RSD PTR ", 8));
	cr_assert_eq(sum(at(rsdp), 20), 0);
	cr_assert_eq(sum(at(rsdp), 36), 0);
	cr_assert_eq(at(rsdp)[15], 2);
	for (size_t i = 0; i < 4; i++) {
		uint8_t *t = table(rsdp, sigs[i]);

		cr_assert_not_null(t, "%s missing", sigs[i]);
		cr_assert_eq(sum(t, get_le32(t + 4)), 0, "%s checksum", sigs[i]);
	}
	cr_assert_null(table(rsdp, "HMAT"), "HMAT only with several nodes");
	cr_assert_eq(get_le32(table(rsdp, "FACP") + 4), 276);
}

Test(acpi, madt_lists_every_cpu_and_ioapic)
{
	struct x86_machine m;
	uint64_t rsdp;
	uint8_t *t, *p, *end;
	uint32_t cpus = 0, ioapics = 0, isos = 0;

	build(&m, (struct ktstr_topo){ 1, 3, 3, 1 }, &rsdp);
	t = table(rsdp, "APIC");
	cr_assert_eq(get_le32(t + 36), 0xFEE00000u);
	for (p = t + 44, end = t + get_le32(t + 4); p < end; p += p[1]) {
		cr_assert_gt(p[1], 0);
		if (p[0] == 0) {
			cr_assert_eq(p[3], m.apic_id[p[2]]);
			cpus++;
		}
		ioapics += p[0] == 1;
		if (p[0] == 2 && p[3] == 0)
			cr_assert_eq(get_le32(p + 4), 2, "IRQ0 -> GSI2");
		isos += p[0] == 2;
	}
	cr_assert_eq(cpus, 9);
	cr_assert_eq(ioapics, 1);
	cr_assert_eq(isos, 2);
	cr_assert_eq(p, end);
}

Test(acpi, x2apic_entries_above_254)
{
	struct x86_machine m;
	uint64_t rsdp;
	uint8_t *t, *p, *end;
	uint32_t x2 = 0, l = 0;

	build(&m, (struct ktstr_topo){ 1, 14, 9, 2 }, &rsdp);
	t = table(rsdp, "APIC");
	for (p = t + 44, end = t + get_le32(t + 4); p < end; p += p[1]) {
		if (p[0] == 9) {
			cr_assert_gt(get_le32(p + 4), 254);
			x2++;
		}
		l += p[0] == 0;
	}
	cr_assert_eq(x2 + l, 252);
	cr_assert_gt(x2, 0);
}

Test(acpi, srat_slit_hmat_numa)
{
	struct x86_machine m;
	uint64_t rsdp;
	uint8_t *srat, *slit, *p;
	uint32_t node1_cpus = 0;

	build(&m, (struct ktstr_topo){ 2, 4, 2, 1 }, &rsdp);
	srat = table(rsdp, "SRAT");
	for (p = srat + 48; p < srat + get_le32(srat + 4); p += p[1])
		if (p[0] == 2 && get_le32(p + 4) == 1)
			node1_cpus++;
	cr_assert_eq(node1_cpus, 4);
	slit = table(rsdp, "SLIT");
	cr_assert_eq(get_le64(slit + 36), 2);
	cr_assert_eq(slit[44], 10);
	cr_assert_eq(slit[45], 20);
	cr_assert_not_null(table(rsdp, "HMAT"));
}

/* acpica's disassembler is the independent check that the tables parse. */
Test(acpi, iasl_disassembles_every_table)
{
	struct x86_machine m;
	char dir[] = "/tmp/ktstr-acpi-XXXXXX", cmd[1024], path[512];
	const char *sigs[] = { "FACP", "APIC", "SRAT", "SLIT", "HMAT" };
	uint64_t rsdp;

	if (access("/usr/bin/iasl", X_OK))
		test_missing("iasl (acpica-tools) is not installed");
	build(&m, (struct ktstr_topo){ 2, 4, 2, 2 }, &rsdp);
	cr_assert_not_null(mkdtemp(dir));
	for (size_t i = 0; i < 6; i++) {
		uint8_t *t = i < 5 ? table(rsdp, sigs[i]) : at(get_le32(table(rsdp, "FACP") + 40));
		const char *name = i < 5 ? sigs[i] : "DSDT";
		FILE *f;

		cr_assert_not_null(t, "%s", name);
		snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
		f = fopen(path, "w");
		cr_assert_not_null(f);
		fwrite(t, 1, get_le32(t + 4), f);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && iasl -d %s.dat > %s.log 2>&1 && ! grep -qiE 'error|warning|invalid|incorrect' %s.dsl %s.log",
			 dir, name, name, name, name);
		cr_expect_eq(system(cmd), 0, "iasl -d %s failed; see %s/%s.log", name, dir, name);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}
