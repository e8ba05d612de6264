#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <ktstr/le.h>

#include "x86_64/bootparams.h"
#include "x86_64/layout.h"
#include "x86_64/mptable.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

Test(mptable, floating_pointer_and_config_table)
{
	static uint8_t buf[0x40400];
	struct ktstr_topo t = { 1, 2, 2, 1 };
	struct x86_machine m;
	uint8_t *mpc = buf + 16, *p;
	char err[256];
	uint32_t cpus = 0, bsp = 0, intsrc = 0;

	cr_assert_eq(x86_machine_init(&m, &t, 256ull << 20, 16 << 20, err, sizeof(err)), 0);
	cr_assert_eq(mptable_write(buf, sizeof(buf), X86_MPTABLE, &m), 0);
	cr_assert(!memcmp(buf, "_MP_", 4));
	cr_assert_eq(get_le32(buf + 4), X86_MPTABLE + 16);
	cr_assert_eq(sum(buf, 16), 0);
	cr_assert(!memcmp(mpc, "PCMP", 4));
	cr_assert_eq(sum(mpc, get_le16(mpc + 4)), 0);
	cr_assert_eq(get_le32(mpc + 36), 0xFEE00000u);
	p = mpc + 44;
	for (uint16_t i = 0; i < get_le16(mpc + 34); i++) {
		if (p[0] == 0) {
			cpus++;
			bsp += (p[3] & 2) != 0;
			cr_assert_eq(p[1], m.apic_id[cpus - 1]);
			p += 20;
			continue;
		}
		if (p[0] == 3) {
			intsrc++;
			if (p[5] == 0)
				cr_assert_eq(p[7], 2, "IRQ0 on pin 2 as in the MADT");
		}
		p += 8;
	}
	cr_assert_eq(cpus, 4);
	cr_assert_eq(bsp, 1);
	cr_assert_eq(intsrc, 15);
	cr_assert_eq(p - mpc, get_le16(mpc + 4));
	cr_assert_eq(mptable_size(&m), (size_t)(p - buf));
}

Test(mptable, too_small_buffer)
{
	uint8_t buf[32];
	struct ktstr_topo t = { 1, 1, 1, 1 };
	struct x86_machine m;
	char err[256];

	cr_assert_eq(x86_machine_init(&m, &t, 256ull << 20, 0, err, sizeof(err)), 0);
	cr_assert_eq(mptable_write(buf, sizeof(buf), X86_MPTABLE, &m), -ENOSPC);
}
