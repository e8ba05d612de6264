#include <string.h>

#include "acpi_pm.h"
#include "layout.h"

#define PM1_CNT_SCI_EN 0x0001u
#define PM1_CNT_SLP_EN 0x2000u

void acpi_pm_init(struct acpi_pm *pm)
{
	memset(pm, 0, sizeof(*pm));
	pm->cnt = PM1_CNT_SCI_EN; /* always in ACPI mode (FADT smi_cmd = 0) */
}

bool acpi_pm_owns(uint16_t port)
{
	return port >= X86_ACPI_PM1A_EVT && port < X86_ACPI_PM1A_CNT + 2;
}

/* The block as bytes: 0-1 status, 2-3 enable, 4-5 control. */
static uint8_t get_byte(const struct acpi_pm *pm, unsigned off)
{
	uint16_t w = off < 2 ? pm->sts : off < 4 ? pm->en : pm->cnt;

	return (uint8_t)(w >> ((off & 1) * 8));
}

void acpi_pm_read(struct acpi_pm *pm, uint16_t port, uint8_t *data, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned off = port - X86_ACPI_PM1A_EVT + i;

		data[i] = off < 6 ? get_byte(pm, off) : 0xff;
	}
}

bool acpi_pm_write(struct acpi_pm *pm, uint16_t port, const uint8_t *data, unsigned size)
{
	bool off_req = false;

	for (unsigned i = 0; i < size; i++) {
		unsigned off = port - X86_ACPI_PM1A_EVT + i;
		unsigned sh = (off & 1) * 8;
		uint16_t v = (uint16_t)(data[i] << sh), mask = (uint16_t)(0xff << sh);

		if (off < 2)
			pm->sts &= (uint16_t)~v; /* write one to clear */
		else if (off < 4)
			pm->en = (uint16_t)((pm->en & ~mask) | v);
		else if (off < 6)
			pm->cnt = (uint16_t)((pm->cnt & ~mask) | v);
	}
	if (pm->cnt & PM1_CNT_SLP_EN) {
		off_req = ((pm->cnt >> 10) & 7) == X86_ACPI_SLP_TYP_S5;
		pm->cnt &= (uint16_t)~PM1_CNT_SLP_EN; /* SLP_EN reads as zero */
	}
	return off_req;
}
