/* SRAT and SLIT: which node each vCPU and each RAM range belongs to, and
 * the distances between nodes. Emitted for one node too, so a guest always
 * sees the same table set. */
#include <errno.h>

#include <ktstr/le.h>

#include "acpi.h"
#include "bootparams.h"

int acpi_srat_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + 12 + 24 * m->ncpus + 40 * (uint32_t)m->n_node_ram;
	uint32_t per_llc = m->topo.cores_per_llc * m->topo.threads_per_core;
	uint32_t llcs_per_node = m->topo.llcs / m->topo.numa_nodes;
	uint8_t *t = acpi_alloc(b, len, gpa), *p;

	if (!t)
		return -ENOSPC;
	acpi_header(t, "SRAT", len, 3);
	put_le32(t + 36, 1); /* reserved, 1 for compatibility */
	p = t + 48;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		p[0] = 2; /* processor x2APIC affinity */
		p[1] = 24;
		put_le32(p + 4, c / per_llc / llcs_per_node);
		put_le32(p + 8, m->apic_id[c]);
		put_le32(p + 12, 1); /* enabled */
		p += 24;
	}
	for (size_t i = 0; i < m->n_node_ram; i++) {
		p[0] = 1; /* memory affinity */
		p[1] = 40;
		put_le32(p + 2, m->node_ram[i].node);
		put_le64(p + 8, m->node_ram[i].base);
		put_le64(p + 16, m->node_ram[i].size);
		put_le32(p + 28, 1); /* enabled */
		p += 40;
	}
	acpi_finish(t);
	return 0;
}

int acpi_slit_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa)
{
	uint32_t n = m->topo.numa_nodes;
	uint32_t len = ACPI_HDR_LEN + 8 + n * n;
	uint8_t *t = acpi_alloc(b, len, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, "SLIT", len, 1);
	put_le64(t + 36, n);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++)
			t[44 + i * n + j] = acpi_node_distance(i, j);
	acpi_finish(t);
	return 0;
}
