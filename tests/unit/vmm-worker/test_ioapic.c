/* The user-space IOAPIC of split-irqchip mode (vmm-worker/kvm/ioapic.c): its
 * registers through MMIO, masking, edge vs level with remote IRR, EOI (the
 * LAPIC broadcast and the version-0x20 EOI register) and the MSI messages it
 * sends, including x2APIC destinations above 255. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/le.h>

#include "kvm/ioapic.h"
#include "x86_64/layout.h"

static struct ioapic io;
static struct ioapic_msi sent[64];
static unsigned nsent, nroutes_changed;
static int deliver_result; /* what the fake KVM_SIGNAL_MSI answers */

static int deliver(void *ctx, const struct ioapic_msi *m)
{
	(void)ctx;
	if (nsent < 64)
		sent[nsent] = *m;
	nsent++;
	return deliver_result;
}

static void routes_changed(void *ctx)
{
	(void)ctx;
	nroutes_changed++;
}

static const struct ioapic_ops ops = { deliver, routes_changed };

static void setup(void)
{
	ioapic_init(&io, true, &ops, NULL);
	nsent = nroutes_changed = 0;
	deliver_result = 1;
}

TestSuite(ioapic, .init = setup);

static void mmio_w32(uint64_t off, uint32_t v)
{
	uint8_t d[4];

	put_le32(d, v);
	ioapic_mmio_write(&io, off, d, 4);
}

static uint32_t mmio_r32(uint64_t off)
{
	uint8_t d[4];

	ioapic_mmio_read(&io, off, d, 4);
	return get_le32(d);
}

static uint32_t reg_read(uint32_t idx)
{
	mmio_w32(IOAPIC_IOREGSEL, idx);
	return mmio_r32(IOAPIC_IOWIN);
}

static void reg_write(uint32_t idx, uint32_t v)
{
	mmio_w32(IOAPIC_IOREGSEL, idx);
	mmio_w32(IOAPIC_IOWIN, v);
}

static void rte_write(unsigned pin, uint64_t e)
{
	reg_write(IOAPIC_REG_RTE0 + 2 * pin + 1, (uint32_t)(e >> 32));
	reg_write(IOAPIC_REG_RTE0 + 2 * pin, (uint32_t)e);
}

static uint64_t rte_read(unsigned pin)
{
	return reg_read(IOAPIC_REG_RTE0 + 2 * pin) |
	       (uint64_t)reg_read(IOAPIC_REG_RTE0 + 2 * pin + 1) << 32;
}

Test(ioapic, owns_its_page_only)
{
	cr_expect(ioapic_owns(X86_IOAPIC_ADDR));
	cr_expect(ioapic_owns(X86_IOAPIC_ADDR + 0xfff));
	cr_expect(!ioapic_owns(X86_IOAPIC_ADDR - 1));
	cr_expect(!ioapic_owns(X86_IOAPIC_ADDR + 0x1000));
	cr_expect(!ioapic_owns(X86_LAPIC_ADDR));
}

Test(ioapic, id_ver_arb_and_ioregsel)
{
	cr_expect_eq(reg_read(IOAPIC_REG_ID), 0, "ID resets to 0, as the MADT and MP table say");
	cr_expect_eq(reg_read(IOAPIC_REG_VER), 0x00170020u, "version 0x20, 24 entries (max index 23)");
	reg_write(IOAPIC_REG_ID, 0xffffffffu);
	cr_expect_eq(reg_read(IOAPIC_REG_ID), 0x0f000000u, "only ID bits 24-27 are writable");
	cr_expect_eq(reg_read(IOAPIC_REG_ARB), 0x0f000000u, "ARB follows the ID");
	reg_write(IOAPIC_REG_VER, 0);
	reg_write(IOAPIC_REG_ARB, 0);
	cr_expect_eq(reg_read(IOAPIC_REG_VER), 0x00170020u, "VER is read-only");
	mmio_w32(IOAPIC_IOREGSEL, 0x1234u);
	cr_expect_eq(mmio_r32(IOAPIC_IOREGSEL), 0x34u, "IOREGSEL keeps 8 bits");
	cr_expect_eq(reg_read(0x03), 0xffffffffu, "no register at index 3");
	cr_expect_eq(reg_read(IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS), 0xffffffffu, "past the last entry");
	cr_expect_eq(mmio_r32(IOAPIC_EOI), 0, "EOI is write-only");
	cr_expect_eq(mmio_r32(0x20), 0, "no register at +0x20");
}

Test(ioapic, narrow_accesses)
{
	uint8_t b = 1, d[8];

	ioapic_mmio_write(&io, IOAPIC_IOREGSEL, &b, 1);
	ioapic_mmio_read(&io, IOAPIC_IOWIN + 2, d, 1);
	cr_expect_eq(d[0], 0x17, "byte 2 of VER: max redirection entry");
	ioapic_mmio_read(&io, IOAPIC_IOWIN, d, 8);
	cr_expect_eq(d[0], 0x20);
	cr_expect_eq(d[4], 0, "an 8-byte read has nothing above the register");
	/* A byte write to IOWIN changes that byte only (here: the vector). */
	rte_write(7, 0x0001a0ddull);
	reg_write(IOAPIC_REG_ID, 0); /* IOREGSEL -> ID, then back to entry 7 */
	mmio_w32(IOAPIC_IOREGSEL, IOAPIC_REG_RTE0 + 14);
	b = 0x42;
	ioapic_mmio_write(&io, IOAPIC_IOWIN, &b, 1);
	cr_expect_eq(rte_read(7), 0x0001a042ull);
}

Test(ioapic, entries_reset_masked_and_keep_read_only_bits)
{
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		cr_expect_eq(rte_read(p), IOAPIC_RTE_MASKED, "entry %u resets masked", p);
	rte_write(10, 0xffffffffffffffffull);
	/* Writable: vector, delivery mode, dest mode, polarity, trigger,
	 * mask; dest bits 49-63. Delivery status, remote IRR, reserved: 0. */
	cr_expect_eq(rte_read(10), 0xfffe00000001afffull);

	struct ioapic plain;
	ioapic_init(&plain, false, &ops, NULL);
	io = plain;
	rte_write(10, 0xffffffffffffffffull);
	cr_expect_eq(rte_read(10), 0xff0000000001afffull,
		     "without the extended destination ID, bits 49-55 are reserved");
}

Test(ioapic, masked_pins_send_nothing)
{
	ioapic_set_irq(&io, 4, 1);
	ioapic_set_irq(&io, 4, 0);
	ioapic_set_irq(&io, 9, 1);
	cr_expect_eq(nsent, 0, "reset state: every pin masked");
	/* A masked edge is dropped, not held (82093AA datasheet). */
	rte_write(4, 0x30 | IOAPIC_RTE_MASKED);
	ioapic_set_irq(&io, 4, 1);
	rte_write(4, 0x30);
	cr_expect_eq(nsent, 0, "unmasking does not replay an edge");
	ioapic_set_irq(&io, 4, 0);
	ioapic_set_irq(&io, 4, 1);
	cr_expect_eq(nsent, 1, "the next rising edge is sent");
	/* Out-of-range pins are ignored. */
	ioapic_set_irq(&io, 24, 1);
	ioapic_set_irq(&io, 1000, 1);
	cr_expect_eq(nsent, 1);
}

Test(ioapic, edge_sends_once_per_rising_edge_without_remote_irr)
{
	rte_write(4, 0x31); /* fixed, physical, edge, dest 0 */
	ioapic_set_irq(&io, 4, 1);
	ioapic_set_irq(&io, 4, 1); /* still high: no new edge */
	cr_expect_eq(nsent, 1);
	cr_expect_eq(sent[0].data, 0x31, "edge: vector, fixed, no level bits");
	cr_expect_eq(rte_read(4) & IOAPIC_RTE_REMOTE_IRR, 0, "edge entries never set remote IRR");
	ioapic_set_irq(&io, 4, 0);
	ioapic_set_irq(&io, 4, 1);
	cr_expect_eq(nsent, 2);
	ioapic_eoi(&io, 0x31);
	cr_expect_eq(nsent, 2, "EOI does not replay an edge");
}

Test(ioapic, level_uses_remote_irr_until_eoi)
{
	rte_write(9, 0x41 | IOAPIC_RTE_LEVEL);
	cr_expect_eq(nroutes_changed, 1, "a new unmasked level entry changes KVM's EOI routes");
	ioapic_set_irq(&io, 9, 1);
	cr_expect_eq(nsent, 1);
	cr_expect_eq(sent[0].data, 0x41 | IOAPIC_MSI_DATA_LEVEL | IOAPIC_MSI_DATA_LEVEL_ASSERT);
	cr_expect(rte_read(9) & IOAPIC_RTE_REMOTE_IRR, "accepted level message sets remote IRR");
	/* Remote IRR blocks a re-send while the guest handles it. */
	ioapic_set_irq(&io, 9, 0);
	ioapic_set_irq(&io, 9, 1);
	cr_expect_eq(nsent, 1, "no new message before the EOI");
	/* EOI for another vector: nothing. */
	ioapic_eoi(&io, 0x42);
	cr_expect(rte_read(9) & IOAPIC_RTE_REMOTE_IRR);
	/* EOI with the line still asserted: cleared, then sent again. */
	ioapic_eoi(&io, 0x41);
	cr_expect_eq(nsent, 2, "still asserted at EOI: delivered again");
	cr_expect(rte_read(9) & IOAPIC_RTE_REMOTE_IRR);
	/* Device done, then the EOI register (version 0x20): clear, quiet. */
	ioapic_set_irq(&io, 9, 0);
	mmio_w32(IOAPIC_EOI, 0x41);
	cr_expect_eq(rte_read(9) & IOAPIC_RTE_REMOTE_IRR, 0, "EOI register clears remote IRR");
	cr_expect_eq(nsent, 2, "deasserted at EOI: nothing sent");
}

Test(ioapic, level_asserted_while_masked_is_sent_on_unmask)
{
	rte_write(9, 0x41 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
	cr_expect_eq(nroutes_changed, 0, "masked entries need no EOI route");
	ioapic_set_irq(&io, 9, 1);
	cr_expect_eq(nsent, 0);
	rte_write(9, 0x41 | IOAPIC_RTE_LEVEL);
	cr_expect_eq(nsent, 1, "a level still asserted is delivered when unmasked");
	cr_expect_eq(nroutes_changed, 1);
	/* Re-writing the same entry does not touch KVM's routes again and
	 * remote IRR survives the write (it is read-only). */
	rte_write(9, 0x41 | IOAPIC_RTE_LEVEL);
	cr_expect_eq(nroutes_changed, 1);
	cr_expect_eq(nsent, 1);
	cr_expect(rte_read(9) & IOAPIC_RTE_REMOTE_IRR);
	/* Turning it edge drops remote IRR (nothing would EOI it). */
	rte_write(9, 0x41);
	cr_expect_eq(rte_read(9) & IOAPIC_RTE_REMOTE_IRR, 0);
	cr_expect_eq(nroutes_changed, 2, "no longer level: the route goes");
}

Test(ioapic, refused_level_message_is_retried_at_the_next_eoi_or_unmask)
{
	deliver_result = 0; /* e.g. the destination LAPIC is software-disabled */
	rte_write(3, 0x50 | IOAPIC_RTE_LEVEL);
	ioapic_set_irq(&io, 3, 1);
	cr_expect_eq(nsent, 1);
	cr_expect_eq(rte_read(3) & IOAPIC_RTE_REMOTE_IRR, 0, "not accepted: remote IRR stays clear");
	cr_expect_eq(io.refused, 1);
	deliver_result = 1;
	rte_write(3, 0x50 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
	rte_write(3, 0x50 | IOAPIC_RTE_LEVEL);
	cr_expect_eq(nsent, 2, "unmask retries the asserted level");
	cr_expect(rte_read(3) & IOAPIC_RTE_REMOTE_IRR);
	deliver_result = -EINVAL;
	ioapic_eoi(&io, 0x50);
	cr_expect_eq(io.failed, 1);
	cr_expect_eq(io.last_err, -EINVAL);
}

Test(ioapic, msi_for_an_xapic_destination)
{
	struct ioapic_msi m;

	/* Lowest priority (1), logical, level, vector 0x61, dest 0x0f. */
	rte_write(5, 0x0full << 56 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_DEST_LOGICAL | 1u << 8 | 0x61);
	ioapic_msi_of(&io, 5, &m);
	cr_expect_eq(m.address_lo, 0xfee0f004u, "dest in [19:12], logical in bit 2");
	cr_expect_eq(m.address_hi, 0);
	cr_expect_eq(m.data, 0xc161u, "vector, delivery mode 1, level + assert");
	/* NMI delivery mode (4), edge. */
	rte_write(6, 0x02ull << 56 | 4u << 8);
	ioapic_msi_of(&io, 6, &m);
	cr_expect_eq(m.address_lo, 0xfee02000u);
	cr_expect_eq(m.data, 0x400u);
}

Test(ioapic, msi_for_x2apic_destinations_above_255)
{
	struct ioapic_msi m;

	/* APIC ID 433 (0x1b1: the highest of the 1,14,9,2 preset): bits 0-7
	 * in entry bits 56-63, bits 8-14 in entry bits 49-55 (Linux's
	 * virt_destid_8_14 under KVM_FEATURE_MSI_EXT_DEST_ID). */
	uint32_t id = 433;
	rte_write(4, (uint64_t)(id & 0xff) << 56 | (uint64_t)(id >> 8) << 49 | 0x34);
	ioapic_msi_of(&io, 4, &m);
	cr_expect_eq(m.address_lo, 0xfee00000u | (id & 0xff) << 12);
	cr_expect_eq(m.address_hi, 0x100u,
		     "X2APIC_API 32-bit IDs: dest bits 8-31 in address_hi[31:8], low byte 0");
	cr_expect_eq(m.data, 0x34u);
	ioapic_set_irq(&io, 4, 1);
	cr_expect_eq(nsent, 1);
	cr_expect_eq(sent[0].address_hi, 0x100u);

	/* The widest: 15 bits (32767). */
	rte_write(4, 0xffull << 56 | 0x7full << 49 | 0x34);
	ioapic_msi_of(&io, 4, &m);
	cr_expect_eq(m.address_lo, 0xfeeff000u);
	cr_expect_eq(m.address_hi, 0x7f00u);

	/* Without ext_dest (guest not told): bits 49-55 are ignored. */
	struct ioapic plain;
	ioapic_init(&plain, false, &ops, NULL);
	plain.rte[4] = 0xb1ull << 56 | 0x1ull << 49 | 0x34;
	ioapic_msi_of(&plain, 4, &m);
	cr_expect_eq(m.address_hi, 0);
	cr_expect_eq(m.address_lo, 0xfeeb1000u);
}

Test(ioapic, level_routes_list_unmasked_level_entries)
{
	struct ioapic_msi m[IOAPIC_PINS];
	uint32_t gsi[IOAPIC_PINS];

	cr_expect_eq(ioapic_level_routes(&io, m, gsi), 0);
	rte_write(9, 0x41 | IOAPIC_RTE_LEVEL | (uint64_t)0x2 << 49);	/* dest 0x200 */
	rte_write(4, 0x34);						/* edge */
	rte_write(11, 0x45 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);	/* masked */
	rte_write(20, 0x50 | IOAPIC_RTE_LEVEL | 0x07ull << 56);
	cr_assert_eq(ioapic_level_routes(&io, m, gsi), 2);
	cr_expect_eq(gsi[0], 9);
	cr_expect_eq(m[0].data & 0xff, 0x41);
	cr_expect(m[0].data & IOAPIC_MSI_DATA_LEVEL, "KVM keys EOI exits on the level bit");
	cr_expect_eq(m[0].address_hi, 0x200u);
	cr_expect_eq(gsi[1], 20);
	cr_expect_eq(m[1].address_lo, 0xfee07000u);
}

Test(ioapic, no_callbacks_is_safe)
{
	ioapic_init(&io, true, NULL, NULL);
	rte_write(1, 0x30 | IOAPIC_RTE_LEVEL);
	ioapic_set_irq(&io, 1, 1);
	ioapic_eoi(&io, 0x30);
	cr_expect_eq(rte_read(1) & IOAPIC_RTE_REMOTE_IRR, 0, "nothing was accepted");
}
