/* HMAT (only with several nodes): every node is both initiator and memory
 * target; latency and bandwidth follow the SLIT distances so a guest that
 * reads either sees the same ordering. */
#include <errno.h>

#include <ktstr/le.h>

#include "acpi.h"
#include "bootparams.h"

#define HMAT_LAT_BASE_PS 100000ull  /* 100 ns units */
#define HMAT_BW_BASE_MBS 10240ull   /* 10 GiB/s units */

static uint8_t *sllbi(uint8_t *p, uint32_t n, uint8_t data_type, uint64_t base, bool latency)
{
	uint32_t len = 32 + 8 * n + 2 * n * n;
	uint8_t *e;

	len = (len + 3) & ~3u;
	put_le16(p, 1);
	put_le32(p + 4, len);
	p[8] = 0; /* memory (not a memory-side cache level) */
	p[9] = data_type;
	put_le32(p + 12, n);
	put_le32(p + 16, n);
	put_le64(p + 24, base);
	for (uint32_t i = 0; i < n; i++) {
		put_le32(p + 32 + 4 * i, i);
		put_le32(p + 32 + 4 * n + 4 * i, i);
	}
	e = p + 32 + 8 * n;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			uint8_t d = acpi_node_distance(i, j);
			/* latency grows with distance (1 = 100 ns local);
			 * bandwidth shrinks (5 units local, 2 remote). */
			put_le16(e + 2 * (i * n + j), latency ? d / 10 : (d == 10 ? 5 : 2));
		}
	return p + len;
}

int acpi_hmat_write(struct acpi_buf *b, const struct x86_machine *m, uint64_t *gpa)
{
	uint32_t n = m->topo.numa_nodes;
	uint32_t sl = ((32 + 8 * n + 2 * n * n) + 3) & ~3u;
	uint32_t len = ACPI_HDR_LEN + 4 + 40 * n + 2 * sl;
	uint8_t *t = acpi_alloc(b, len, gpa), *p;

	if (!t)
		return -ENOSPC;
	acpi_header(t, "HMAT", len, 2);
	p = t + 40;
	for (uint32_t i = 0; i < n; i++) { /* memory proximity domain attributes */
		put_le16(p, 0);
		put_le32(p + 4, 40);
		put_le16(p + 8, 1); /* initiator proximity domain valid */
		put_le32(p + 12, i);
		put_le32(p + 16, i);
		p += 40;
	}
	p = sllbi(p, n, 0 /* access latency */, HMAT_LAT_BASE_PS, true);
	sllbi(p, n, 3 /* access bandwidth */, HMAT_BW_BASE_MBS, false);
	acpi_finish(t);
	return 0;
}
