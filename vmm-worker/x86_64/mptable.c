#include <errno.h>
#include <string.h>

#include <ktstr/le.h>

#include "acpi.h"
#include "apic.h"
#include "bootparams.h"
#include "layout.h"
#include "mptable.h"

#define MPF_LEN 16u
#define MPC_HDR_LEN 44u
#define MP_CPU_LEN 20u
#define MP_ENTRY_LEN 8u
#define MP_APIC_VERSION 0x14u
#define MP_CPU_EN 1u
#define MP_CPU_BSP 2u
/* ISA IRQs routed through the IOAPIC: 0 (to pin 2), 1, 3..15. */
#define MP_ISA_IRQS 15u

static uint32_t mp_cpus(const struct x86_machine *m)
{
	uint32_t n = 0;

	for (uint32_t c = 0; c < m->ncpus; c++)
		n += m->apic_id[c] <= X86_XAPIC_MAX_ID;
	return n;
}

size_t mptable_size(const struct x86_machine *m)
{
	return MPF_LEN + MPC_HDR_LEN + MP_CPU_LEN * mp_cpus(m) +
	       MP_ENTRY_LEN * (1 /* bus */ + 1 /* ioapic */ + MP_ISA_IRQS + 2 /* lint */);
}

static uint8_t *intsrc(uint8_t *p, uint8_t type, uint8_t irq, uint8_t dst_id, uint8_t dst_pin)
{
	p[0] = 3; /* I/O interrupt assignment */
	p[1] = type;
	put_le16(p + 2, 0); /* conforming polarity and trigger */
	p[4] = 0;	    /* source bus: ISA */
	p[5] = irq;
	p[6] = dst_id;
	p[7] = dst_pin;
	return p + MP_ENTRY_LEN;
}

int mptable_write(uint8_t *buf, size_t cap, uint64_t gpa, const struct x86_machine *m)
{
	size_t size = mptable_size(m);
	uint8_t *mpc = buf + MPF_LEN, *p;
	uint16_t entries = 0;

	if (size > cap)
		return -ENOSPC;
	memset(buf, 0, size);
	memcpy(buf, "_MP_", 4);
	put_le32(buf + 4, (uint32_t)(gpa + MPF_LEN));
	buf[8] = 1; /* length in 16-byte units */
	buf[9] = 4; /* spec revision 1.4 */
	buf[12] = 0x80; /* IMCR present: PIC mode can be left for APIC mode */
	acpi_checksum(buf, MPF_LEN, 10);

	memcpy(mpc, "PCMP", 4);
	mpc[6] = 4;
	memcpy(mpc + 8, "KTSTR   ", 8);
	memcpy(mpc + 16, "000000000000", 12);
	put_le32(mpc + 36, (uint32_t)X86_LAPIC_ADDR);
	p = mpc + MPC_HDR_LEN;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		if (m->apic_id[c] > X86_XAPIC_MAX_ID)
			continue;
		p[0] = 0;
		p[1] = (uint8_t)m->apic_id[c];
		p[2] = MP_APIC_VERSION;
		p[3] = MP_CPU_EN | (c == 0 ? MP_CPU_BSP : 0);
		put_le32(p + 4, 0x600);	/* family 6 */
		put_le32(p + 8, 0x201); /* FPU + APIC */
		p += MP_CPU_LEN;
		entries++;
	}
	p[0] = 1; /* bus 0 */
	memcpy(p + 2, "ISA   ", 6);
	p += MP_ENTRY_LEN;
	p[0] = 2; /* IOAPIC, ID 0 as in the MADT */
	p[2] = MP_APIC_VERSION;
	p[3] = 1;
	put_le32(p + 4, (uint32_t)X86_IOAPIC_ADDR);
	p += MP_ENTRY_LEN;
	entries += 2;
	p = intsrc(p, 0, 0, 0, 2);
	p = intsrc(p, 0, 1, 0, 1);
	for (uint8_t irq = 3; irq < 16; irq++)
		p = intsrc(p, 0, irq, 0, irq);
	entries += MP_ISA_IRQS;
	/* Local interrupts: ExtINT on LINT0, NMI on LINT1, every local APIC. */
	p[0] = 4;
	p[1] = 3;
	p[6] = 0xFF;
	p[7] = 0;
	p += MP_ENTRY_LEN;
	p[0] = 4;
	p[1] = 1;
	p[6] = 0xFF;
	p[7] = 1;
	p += MP_ENTRY_LEN;
	entries += 2;

	put_le16(mpc + 4, (uint16_t)(p - mpc));
	put_le16(mpc + 34, entries);
	acpi_checksum(mpc, (size_t)(p - mpc), 7);
	return 0;
}
