/* ACPI fixed-hardware PM1a event/control registers (ports in layout.h), so
 * the guest's ACPI power-off (SLP_TYP = S5 with SLP_EN) reaches the worker. */
#ifndef KTSTR_X86_ACPI_PM_H
#define KTSTR_X86_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_pm {
	uint16_t sts, en, cnt;
};

void acpi_pm_init(struct acpi_pm *pm);
bool acpi_pm_owns(uint16_t port);
/* size 1, 2 or 4 bytes at port; data little-endian. */
void acpi_pm_read(struct acpi_pm *pm, uint16_t port, uint8_t *data, unsigned size);
/* Returns true when the write requested power-off (S5). */
bool acpi_pm_write(struct acpi_pm *pm, uint16_t port, const uint8_t *data, unsigned size);

#endif
