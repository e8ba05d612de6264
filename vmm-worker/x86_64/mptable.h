/* The legacy Intel MultiProcessor table (docs/reference.md, "MP table"), for
 * guests booted with acpi=off. It can only name 8-bit APIC IDs, so with
 * x2APIC IDs it lists the CPUs it can and the guest must use ACPI. */
#ifndef KTSTR_X86_MPTABLE_H
#define KTSTR_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* Size the table needs for m. */
size_t mptable_size(const struct x86_machine *m);
/* Write the MPF + MPC at guest address gpa into buf[0..cap). Returns 0 or
 * -ENOSPC. */
int mptable_write(uint8_t *buf, size_t cap, uint64_t gpa, const struct x86_machine *m);

#endif
