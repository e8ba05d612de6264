#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "x86_64/apic.h"
#include "x86_64/machine.h"

Test(apic, field_bits_round_up_to_power_of_two)
{
	cr_assert_eq(x86_field_bits(1), 0);
	cr_assert_eq(x86_field_bits(2), 1);
	cr_assert_eq(x86_field_bits(3), 2);
	cr_assert_eq(x86_field_bits(9), 4);
	cr_assert_eq(x86_field_bits(16), 4);
}

Test(apic, ids_pack_llc_core_thread)
{
	struct ktstr_topo t = { 1, 3, 3, 2 }; /* core field 2 bits, thread 1 bit */

	cr_assert_eq(x86_apic_id(&t, 0), 0);
	cr_assert_eq(x86_apic_id(&t, 1), 1);  /* SMT sibling */
	cr_assert_eq(x86_apic_id(&t, 2), 2);  /* core 1 */
	cr_assert_eq(x86_apic_id(&t, 5), 5);  /* core 2 thread 1 */
	cr_assert_eq(x86_apic_id(&t, 6), 8);  /* LLC 1 starts at 1 << 3 */
	cr_assert_eq(x86_apic_id(&t, 17), 21); /* LLC 2, core 2, thread 1 */
}

Test(apic, x2apic_needed_above_254)
{
	struct x86_machine m;
	struct ktstr_topo small = { 1, 14, 9, 2 }, big = { 1, 15, 8, 2 };
	char err[256];

	/* max-cpu preset: 14 LLCs << 5 bits: highest ID 13*32+17 = 433 */
	cr_assert_eq(x86_machine_init(&m, &small, 4096ull << 20, 16 << 20, err, sizeof(err)), 0, "%s", err);
	cr_assert(m.x2apic);
	cr_assert_eq(x86_machine_init(&m, &big, 4096ull << 20, 16 << 20, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.max_apic_id, (14u << 4) | (7u << 1) | 1u);
	cr_assert(!m.x2apic, "max ID %u fits xAPIC", m.max_apic_id);
}
