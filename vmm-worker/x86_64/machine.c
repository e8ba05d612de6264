#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apic.h"
#include "layout.h"
#include "machine.h"

/* Smallest guest that can hold the low tables, a kernel and some heap. */
#define X86_MIN_USABLE (8ull << 20)

static uint64_t ram_off_to_gpa(const struct x86_machine *m, uint64_t off)
{
	return off < m->low_end ? off : X86_MMIO_GAP_END + (off - m->low_end);
}

/* Append the GPA ranges of RAM offsets [a, b) for node, splitting at the
 * MMIO gap. */
static int add_node_range(struct x86_machine *m, uint64_t a, uint64_t b, uint32_t node)
{
	while (a < b) {
		uint64_t stop = (a < m->low_end && b > m->low_end) ? m->low_end : b;

		if (m->n_node_ram == X86_MAX_RAM_RANGES)
			return -EINVAL;
		m->node_ram[m->n_node_ram++] =
			(struct x86_ram_range){ ram_off_to_gpa(m, a), stop - a, node };
		a = stop;
	}
	return 0;
}

int x86_machine_init(struct x86_machine *m, const struct ktstr_topo *t, uint64_t mem_bytes,
		     uint32_t shm_size, char *err, size_t errlen)
{
	uint64_t top, last_size;

	memset(m, 0, sizeof(*m));
	if (t->numa_nodes == 0 || t->llcs == 0 || t->cores_per_llc == 0 ||
	    t->threads_per_core == 0 || t->llcs % t->numa_nodes) {
		snprintf(err, errlen, "topology %u,%u,%u,%u: every dimension must be >= 1 and llcs a multiple of numa_nodes",
			 t->numa_nodes, t->llcs, t->cores_per_llc, t->threads_per_core);
		return -EINVAL;
	}
	if (t->numa_nodes > X86_MAX_NODES) {
		snprintf(err, errlen, "%u NUMA nodes: the x86 machine model supports at most %u",
			 t->numa_nodes, X86_MAX_NODES);
		return -EINVAL;
	}
	m->topo = *t;
	m->ncpus = t->llcs * t->cores_per_llc * t->threads_per_core;
	if (m->ncpus > KTSTR_TOPO_MAX_CPUS) {
		snprintf(err, errlen, "%u CPUs: at most %u are supported", m->ncpus, KTSTR_TOPO_MAX_CPUS);
		return -EINVAL;
	}
	m->thread_bits = x86_field_bits(t->threads_per_core);
	m->core_bits = x86_field_bits(t->cores_per_llc);
	for (uint32_t c = 0; c < m->ncpus; c++) {
		m->apic_id[c] = x86_apic_id(t, c);
		if (m->apic_id[c] > m->max_apic_id)
			m->max_apic_id = m->apic_id[c];
	}
	m->x2apic = m->max_apic_id > X86_XAPIC_MAX_ID;

	if (shm_size % 4096) {
		snprintf(err, errlen, "shm_size %u is not a multiple of 4096", shm_size);
		return -EINVAL;
	}
	if (mem_bytes % (1u << 20) || mem_bytes < (uint64_t)shm_size + X86_MIN_USABLE) {
		snprintf(err, errlen,
			 "guest memory %llu bytes: must be whole MiB and leave >= %llu MiB beside the %u-byte SHM ring",
			 (unsigned long long)mem_bytes, X86_MIN_USABLE >> 20, shm_size);
		return -EINVAL;
	}
	m->ram_bytes = mem_bytes;
	m->low_end = mem_bytes < X86_MMIO_GAP_START ? mem_bytes : X86_MMIO_GAP_START;
	m->high_end = mem_bytes > m->low_end ? X86_MMIO_GAP_END + (mem_bytes - m->low_end) : 0;
	top = m->high_end ? m->high_end : m->low_end;
	last_size = m->high_end ? m->high_end - X86_MMIO_GAP_END : m->low_end;
	if (shm_size > last_size) {
		snprintf(err, errlen, "SHM ring of %u bytes does not fit in the top RAM region (%llu bytes)",
			 shm_size, (unsigned long long)last_size);
		return -EINVAL;
	}
	m->shm_size = shm_size;
	m->shm_base = shm_size ? top - shm_size : 0;

	/* Equal shares per node in RAM order, 2 MiB aligned so huge pages and
	 * the guest's memblock never straddle nodes. */
	for (uint32_t n = 0; n < t->numa_nodes; n++) {
		uint64_t a = (mem_bytes / t->numa_nodes * n) & ~((2ull << 20) - 1);
		uint64_t b = n + 1 == t->numa_nodes ? mem_bytes
			     : (mem_bytes / t->numa_nodes * (n + 1)) & ~((2ull << 20) - 1);
		if (add_node_range(m, a, b, n)) {
			snprintf(err, errlen, "too many RAM ranges for %u nodes", t->numa_nodes);
			return -EINVAL;
		}
	}
	return 0;
}

uint64_t x86_low_usable_end(const struct x86_machine *m)
{
	if (m->shm_size && !m->high_end)
		return m->shm_base;
	return m->low_end;
}
