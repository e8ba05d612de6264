/* One description of the machine the guest sees, computed once from the
 * VmSpec and read by every table writer (E820, ACPI, MP, CPUID, boot
 * params), so the tables can never disagree with each other. */
#ifndef KTSTR_X86_MACHINE_H
#define KTSTR_X86_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/topology.h"

#define X86_MAX_NODES 64u
#define X86_MAX_RAM_RANGES (2u * X86_MAX_NODES + 2u)

struct x86_ram_range {
	uint64_t base, size;
	uint32_t node;
};

struct x86_machine {
	struct ktstr_topo topo;
	uint32_t ncpus;
	uint32_t thread_bits, core_bits; /* APIC ID field widths */
	uint32_t apic_id[KTSTR_TOPO_MAX_CPUS];
	uint32_t max_apic_id;
	bool x2apic; /* some APIC ID > 254: x2APIC MADT entries, split irqchip */

	uint64_t ram_bytes;	/* guest RAM including the SHM region */
	uint64_t low_end;	/* RAM [0, low_end), low_end <= MMIO gap */
	uint64_t high_end;	/* RAM [4 GiB, high_end) or 0 when none */
	uint64_t shm_base;	/* top shm_size bytes of RAM, 0 size = none */
	uint32_t shm_size;
	/* RAM split by NUMA node in guest-physical order (SRAT), SHM included. */
	struct x86_ram_range node_ram[X86_MAX_RAM_RANGES];
	size_t n_node_ram;
	/* Performance mode: CPUID 0x4000_0001.EDX bit 0 (KVM_HINTS_REALTIME)
	 * tells the guest its vCPUs are never preempted (it then polls in
	 * haltpoll cpuidle and skips PV spinlock yielding). Set by the engine
	 * after x86_machine_init. */
	bool realtime_hint;
};

/* Fill m from a topology and memory size. Guest RAM is mem_bytes; it is laid
 * out as [0, min(mem, 3 GiB)) plus [4 GiB, ...) for the rest, so no RAM is
 * lost under the MMIO gap. The SHM ring takes the top shm_size bytes.
 * Returns 0, or -EINVAL with a message in err (bad topology, SHM larger than
 * RAM, RAM too small to boot, too many nodes). */
int x86_machine_init(struct x86_machine *m, const struct ktstr_topo *t, uint64_t mem_bytes,
		     uint32_t shm_size, char *err, size_t errlen);

/* End of usable (non-SHM) RAM in the low region; the initrd must end below. */
uint64_t x86_low_usable_end(const struct x86_machine *m);

#endif
