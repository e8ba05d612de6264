/* Shared SDT plumbing plus the root tables (RSDP, RSDT, XSDT). */
#include <errno.h>
#include <string.h>

#include <ktstr/le.h>
#include <ktstr/topology.h>

#include "acpi.h"
#include "bootparams.h"

uint8_t *acpi_alloc(struct acpi_buf *b, size_t len, uint64_t *gpa)
{
	size_t off = (b->used + 15) & ~(size_t)15;

	if (off > b->cap || len > b->cap - off)
		return NULL;
	b->used = off + len;
	memset(b->mem + off, 0, len);
	*gpa = b->gpa + off;
	return b->mem + off;
}

void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put_le32(t + 24, 1); /* OEM revision */
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put_le32(t + 32, 1); /* creator revision */
}

void acpi_checksum(uint8_t *t, size_t len, size_t csum_off)
{
	uint8_t sum = 0;

	t[csum_off] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	t[csum_off] = (uint8_t)(0 - sum);
}

void acpi_finish(uint8_t *t)
{
	acpi_checksum(t, get_le32(t + 4), 9);
}

static int root_write(struct acpi_buf *b, const char *sig, unsigned ptr_size,
		      const uint64_t *tables, size_t n, uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + (uint32_t)(ptr_size * n);
	uint8_t *t = acpi_alloc(b, len, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, sig, len, 1);
	for (size_t i = 0; i < n; i++) {
		if (ptr_size == 4)
			put_le32(t + ACPI_HDR_LEN + 4 * i, (uint32_t)tables[i]);
		else
			put_le64(t + ACPI_HDR_LEN + 8 * i, tables[i]);
	}
	acpi_finish(t);
	return 0;
}

int acpi_rsdt_write(struct acpi_buf *b, const uint64_t *tables, size_t n, uint64_t *gpa)
{
	return root_write(b, "RSDT", 4, tables, n, gpa);
}

int acpi_xsdt_write(struct acpi_buf *b, const uint64_t *tables, size_t n, uint64_t *gpa)
{
	return root_write(b, "XSDT", 8, tables, n, gpa);
}

int acpi_rsdp_write(struct acpi_buf *b, uint64_t rsdt, uint64_t xsdt, uint64_t *gpa)
{
	uint8_t *p = acpi_alloc(b, 36, gpa);

	if (!p)
		return -ENOSPC;
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	p[15] = 2; /* revision 2: XSDT present */
	put_le32(p + 16, (uint32_t)rsdt);
	put_le32(p + 20, 36);
	put_le64(p + 24, xsdt);
	acpi_checksum(p, 20, 8);  /* ACPI 1.0 checksum covers the first 20 bytes */
	acpi_checksum(p, 36, 32); /* extended checksum covers all 36 */
	return 0;
}

uint8_t acpi_node_distance(uint32_t a, uint32_t b)
{
	return topo_node_distance(a, b);
}

int acpi_build(struct acpi_buf *b, const struct x86_machine *m, uint64_t *rsdp)
{
	uint64_t dsdt, tables[5], rsdt, xsdt, rsdp_gpa;
	size_t n = 0;
	uint8_t *rsdp_slot;
	int ret;

	/* The RSDP goes first so it sits at the window start (0xE0000), where a
	 * guest that ignores boot_params.acpi_rsdp_addr scans for it. */
	rsdp_slot = acpi_alloc(b, 36, &rsdp_gpa);
	if (!rsdp_slot)
		return -ENOSPC;
	if ((ret = acpi_dsdt_write(b, &dsdt)) || (ret = acpi_fadt_write(b, dsdt, &tables[n++])) ||
	    (ret = acpi_madt_write(b, m, &tables[n++])) ||
	    (ret = acpi_srat_write(b, m, &tables[n++])) ||
	    (ret = acpi_slit_write(b, m, &tables[n++])))
		return ret;
	if (m->topo.numa_nodes > 1 && (ret = acpi_hmat_write(b, m, &tables[n++])))
		return ret;
	if ((ret = acpi_rsdt_write(b, tables, n, &rsdt)) || (ret = acpi_xsdt_write(b, tables, n, &xsdt)))
		return ret;
	{
		/* Fill the reserved slot in place. */
		struct acpi_buf slot = { rsdp_slot, rsdp_gpa, 36, 0 };
		uint64_t g;

		ret = acpi_rsdp_write(&slot, rsdt, xsdt, &g);
	}
	*rsdp = rsdp_gpa;
	return ret;
}
