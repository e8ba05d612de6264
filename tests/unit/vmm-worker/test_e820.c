#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "x86_64/e820.h"
#include "x86_64/layout.h"

static void machine(struct x86_machine *m, uint64_t mb, uint32_t shm, uint32_t nodes)
{
	struct ktstr_topo t = { nodes, nodes, 2, 1 };
	char err[256];

	cr_assert_eq(x86_machine_init(m, &t, mb << 20, shm, err, sizeof(err)), 0, "%s", err);
}

Test(e820, small_vm_leaves_shm_as_a_hole)
{
	struct x86_machine m;
	struct e820_entry e[8];
	size_t n;

	machine(&m, 256, 16 << 20, 1);
	n = e820_build(&m, e, 8);
	cr_assert_eq(n, 3);
	cr_assert_eq(e[0].addr, 0);
	cr_assert_eq(e[0].size, X86_EBDA_START);
	cr_assert_eq(e[0].type, E820_RAM);
	cr_assert_eq(e[1].type, E820_RESERVED);
	cr_assert_eq(e[2].addr, 0x100000);
	cr_assert_eq(e[2].addr + e[2].size, (256ull - 16) << 20);
	cr_assert_eq(m.shm_base, (256ull - 16) << 20);
}

Test(e820, large_vm_keeps_all_ram_above_4g)
{
	struct x86_machine m;
	struct e820_entry e[8];
	size_t n;

	machine(&m, 4096, 16 << 20, 1);
	n = e820_build(&m, e, 8);
	cr_assert_eq(n, 4);
	cr_assert_eq(e[2].addr + e[2].size, X86_MMIO_GAP_START);
	cr_assert_eq(e[3].addr, X86_MMIO_GAP_END);
	/* 1 GiB moved above 4 GiB, SHM at the very top */
	cr_assert_eq(m.high_end, X86_MMIO_GAP_END + (1ull << 30));
	cr_assert_eq(e[3].addr + e[3].size, m.shm_base);
	cr_assert_eq(m.shm_base + (16 << 20), m.high_end);
}

Test(e820, numa_ranges_cover_ram_split_at_gap)
{
	struct x86_machine m;
	uint64_t total = 0;

	machine(&m, 4096, 16 << 20, 2);
	for (size_t i = 0; i < m.n_node_ram; i++)
		total += m.node_ram[i].size;
	cr_assert_eq(total, 4096ull << 20);
	cr_assert_eq(m.n_node_ram, 3); /* node 1 straddles the gap */
	cr_assert_eq(m.node_ram[1].node, 1);
	cr_assert_eq(m.node_ram[2].node, 1);
	cr_assert_eq(m.node_ram[2].base, X86_MMIO_GAP_END);
}

Test(e820, rejects_shm_larger_than_ram)
{
	struct x86_machine m;
	struct ktstr_topo t = { 1, 1, 1, 1 };
	char err[256];

	cr_assert_eq(x86_machine_init(&m, &t, 16ull << 20, 16 << 20, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "SHM") || strstr(err, "MiB"), "%s", err);
}
