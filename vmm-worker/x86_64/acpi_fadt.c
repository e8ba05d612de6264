/* FADT and DSDT. The FADT points at a fixed-hardware PM1a block (emulated
 * by the worker, acpi_pm.c) and the DSDT carries a \_S5 package, which
 * together let the guest power off through ACPI with a distinct outcome. */
#include <errno.h>

#include <ktstr/le.h>

#include "acpi.h"
#include "bootparams.h"
#include "layout.h"

#define FADT_LEN 276u
#define FADT_FLAG_WBINVD (1u << 0)
#define FADT_FLAG_PWR_BUTTON (1u << 4) /* no fixed power button */
#define FADT_FLAG_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_BOOT_NO_CMOS_RTC (1u << 5)

/* AML: Name (_S5, Package (4) { 5, 5, 0, 0 }) -- SLP_TYP for S5. */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, X86_ACPI_SLP_TYP_S5,
	0x0A, X86_ACPI_SLP_TYP_S5, 0x00, 0x00,
};

int acpi_dsdt_write(struct acpi_buf *b, uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + sizeof(dsdt_aml);
	uint8_t *t = acpi_alloc(b, len, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, "DSDT", len, 2);
	for (size_t i = 0; i < sizeof(dsdt_aml); i++)
		t[ACPI_HDR_LEN + i] = dsdt_aml[i];
	acpi_finish(t);
	return 0;
}

/* Generic Address Structure for an I/O port block. */
static void gas_io(uint8_t *g, uint8_t bits, uint8_t access, uint64_t port)
{
	g[0] = 1; /* system I/O */
	g[1] = bits;
	g[2] = 0;
	g[3] = access;
	put_le64(g + 4, port);
}

int acpi_fadt_write(struct acpi_buf *b, uint64_t dsdt, uint64_t *gpa)
{
	uint8_t *t = acpi_alloc(b, FADT_LEN, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, "FACP", FADT_LEN, 6);
	put_le32(t + 40, (uint32_t)dsdt);
	put_le16(t + 46, X86_ACPI_SCI_IRQ);
	/* smi_cmd (48) = 0: the platform is always in ACPI mode. */
	put_le32(t + 56, X86_ACPI_PM1A_EVT);
	put_le32(t + 64, X86_ACPI_PM1A_CNT);
	t[88] = 4; /* PM1_EVT_LEN */
	t[89] = 2; /* PM1_CNT_LEN */
	put_le16(t + 109, FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_NO_CMOS_RTC);
	put_le32(t + 112, FADT_FLAG_WBINVD | FADT_FLAG_PWR_BUTTON | FADT_FLAG_SLP_BUTTON |
				  FADT_FLAG_RESET_REG_SUP);
	/* Reset register: the i8042 command port, value 0xFE (pulse reset). */
	gas_io(t + 116, 8, 1, 0x64);
	t[128] = 0xFE;
	t[131] = 5; /* FADT minor version: ACPI 6.5 */
	put_le64(t + 140, dsdt);
	gas_io(t + 148, 32, 2, X86_ACPI_PM1A_EVT);
	gas_io(t + 172, 16, 2, X86_ACPI_PM1A_CNT);
	acpi_finish(t);
	return 0;
}
