/* MADT: one local APIC (or x2APIC above ID 254) per vCPU, the IOAPIC, the
 * ISA overrides matching our GSI routing (IRQ0 -> GSI2, SCI level) and the
 * LINT1 NMI wiring. */
#include <errno.h>

#include <ktstr/le.h>

#include "acpi.h"
#include "apic.h"
#include "bootparams.h"
#include "layout.h"

#define MADT_PCAT_COMPAT 1u

static uint32_t madt_len(const struct x86_machine *m)
{
	uint32_t len = ACPI_HDR_LEN + 8 + 12 /* IOAPIC */ + 2 * 10 /* ISOs */;
	bool any_x = false, any_l = false;

	for (uint32_t c = 0; c < m->ncpus; c++) {
		if (m->apic_id[c] <= X86_XAPIC_MAX_ID) {
			len += 8;
			any_l = true;
		} else {
			len += 16;
			any_x = true;
		}
	}
	return len + (any_l ? 6 : 0) + (any_x ? 12 : 0);
}

static uint8_t *iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = 2;
	p[1] = 10;
	p[2] = 0; /* ISA bus */
	p[3] = irq;
	put_le32(p + 4, gsi);
	put_le16(p + 8, flags);
	return p + 10;
}

int acpi_madt_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa)
{
	uint32_t len = madt_len(m);
	uint8_t *t = acpi_alloc(b, len, gpa), *p;
	bool any_x = false, any_l = false;

	if (!t)
		return -ENOSPC;
	acpi_header(t, "APIC", len, 3);
	put_le32(t + 36, (uint32_t)X86_LAPIC_ADDR);
	put_le32(t + 40, MADT_PCAT_COMPAT);
	p = t + 44;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		if (m->apic_id[c] <= X86_XAPIC_MAX_ID) {
			p[0] = 0;
			p[1] = 8;
			p[2] = (uint8_t)c; /* ACPI processor UID */
			p[3] = (uint8_t)m->apic_id[c];
			put_le32(p + 4, 1); /* enabled */
			p += 8;
			any_l = true;
		} else {
			p[0] = 9;
			p[1] = 16;
			put_le32(p + 4, m->apic_id[c]);
			put_le32(p + 8, 1);
			put_le32(p + 12, c);
			p += 16;
			any_x = true;
		}
	}
	/* IOAPIC ID 0: the in-kernel IOAPIC's ID register resets to 0 and the MP
	 * table says the same, so the guest sees one consistent ID. */
	p[0] = 1;
	p[1] = 12;
	p[2] = 0;
	put_le32(p + 4, (uint32_t)X86_IOAPIC_ADDR);
	put_le32(p + 8, 0); /* GSI base */
	p += 12;
	p = iso(p, 0, 2, 0); /* the PIT is wired to IOAPIC pin 2 (kvm_irq.c) */
	p = iso(p, X86_ACPI_SCI_IRQ, X86_ACPI_SCI_IRQ, 0x000D); /* active high, level */
	if (any_l) { /* LAPIC NMI on LINT1 for all processors */
		p[0] = 4;
		p[1] = 6;
		p[2] = 0xFF;
		put_le16(p + 3, 0);
		p[5] = 1;
		p += 6;
	}
	if (any_x) {
		p[0] = 0xA;
		p[1] = 12;
		put_le16(p + 2, 0);
		put_le32(p + 4, 0xFFFFFFFFu);
		p[8] = 1;
		p += 12;
	}
	acpi_finish(t);
	return 0;
}
