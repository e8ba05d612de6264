/* ACPI tables for the guest (docs/reference.md, "ACPI tables"): RSDP ->
 * RSDT/XSDT -> FADT (-> DSDT, PM1a blocks for power-off), MADT, SRAT, SLIT
 * and, with several NUMA nodes, HMAT. Tables are written into a host buffer
 * that is the guest's [X86_ACPI_START, X86_ACPI_END) window. One file per
 * table. */
#ifndef KTSTR_X86_ACPI_H
#define KTSTR_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

#define ACPI_HDR_LEN 36u
#define ACPI_OEM_ID "KTSTR "	  /* 6 bytes */
#define ACPI_OEM_TABLE_ID "KTSTRVM " /* 8 bytes */
#define ACPI_CREATOR_ID "KTSR"

/* Bump allocator over the guest's ACPI window. mem is not owned. */
struct acpi_buf {
	uint8_t *mem;
	uint64_t gpa; /* guest address of mem[0] */
	size_t cap, used;
};

/* Reserve len zeroed bytes (16-byte aligned). NULL when the window is full. */
uint8_t *acpi_alloc(struct acpi_buf *b, size_t len, uint64_t *gpa);
/* Standard SDT header; the checksum is filled by acpi_finish. */
void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev);
/* Set byte csum_off so that bytes [0, len) sum to 0 mod 256. */
void acpi_checksum(uint8_t *t, size_t len, size_t csum_off);
/* Checksum an SDT (length from its header). */
void acpi_finish(uint8_t *t);

/* Each writer allocates its table in b and returns 0 or -ENOSPC. */
int acpi_dsdt_write(struct acpi_buf *b, uint64_t *gpa);
int acpi_fadt_write(struct acpi_buf *b, uint64_t dsdt, uint64_t *gpa);
int acpi_madt_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa);
int acpi_srat_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa);
int acpi_slit_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa);
int acpi_hmat_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa);
/* RSDT and XSDT listing tables[0..n). */
int acpi_rsdt_write(struct acpi_buf *b, const uint64_t *tables, size_t n, uint64_t *gpa);
int acpi_xsdt_write(struct acpi_buf *b, const uint64_t *tables, size_t n, uint64_t *gpa);
/* RSDP revision 2 (36 bytes), must be the first allocation (16-aligned). */
int acpi_rsdp_write(struct acpi_buf *b, uint64_t rsdt, uint64_t xsdt, uint64_t *gpa);

/* SLIT distance between two nodes (10 local, 20 remote). */
uint8_t acpi_node_distance(uint32_t a, uint32_t b);

/* Build every table; *rsdp gets the RSDP's guest address. Returns 0, or
 * -ENOSPC when the topology's tables do not fit the window. */
int acpi_build(struct acpi_buf *b, const struct x86_machine *m, uint64_t *rsdp);

#endif
