/* A user-space 82093AA IOAPIC (version 0x20: with the EOI register), used by
 * the KVM engine in split-irqchip mode (APIC IDs above 254), where KVM keeps
 * the LAPICs and leaves the IOAPIC to the VMM.
 *
 * Registers (MMIO at X86_IOAPIC_ADDR): IOREGSEL (+0x00), IOWIN (+0x10), EOI
 * (+0x40); indirect ID (0), VER (1), ARB (2), 24 redirection entries
 * (0x10 + 2*pin low dword, +1 high dword). Reset: ID 0, every entry masked.
 *
 * Pins carry "asserted" levels: devices say 1 while they request service,
 * whatever the polarity bit says (our ISA devices are active high and the
 * MADT says so; honouring a guest's active-low bit on a line that idles at 0
 * would only storm). Edge pins send one message per rising edge while
 * unmasked (a masked edge is dropped, as the 82093AA datasheet says). Level
 * pins send while asserted, unmasked and remote IRR clear; an accepted
 * level message sets remote IRR, and an EOI for its vector (LAPIC broadcast
 * through KVM_EXIT_IOAPIC_EOI, or the EOI register) clears it and sends
 * again if the pin is still asserted.
 *
 * Messages are MSIs in KVM's X2APIC_API format: destination bits 0-7 in
 * address_lo[19:12], bits 8-31 in address_hi[31:8]. With ext_dest (the
 * guest was told KVM_FEATURE_MSI_EXT_DEST_ID), entry bits 49-55 are
 * destination bits 8-14, which is how Linux addresses x2APIC IDs up to
 * 32767 through an IOAPIC without interrupt remapping.
 *
 * Not thread-safe: the engine serialises every call (its device lock). */
#ifndef KTSTR_IOAPIC_H
#define KTSTR_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_PINS 24u
#define IOAPIC_VERSION 0x20u
#define IOAPIC_MMIO_SIZE 0x1000u /* the page the MADT's address names */

/* MMIO offsets and indirect register indexes. */
#define IOAPIC_IOREGSEL 0x00u
#define IOAPIC_IOWIN 0x10u
#define IOAPIC_EOI 0x40u
#define IOAPIC_REG_ID 0x00u
#define IOAPIC_REG_VER 0x01u
#define IOAPIC_REG_ARB 0x02u
#define IOAPIC_REG_RTE0 0x10u

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR 0xffull
#define IOAPIC_RTE_DELMODE_SHIFT 8
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIVS (1ull << 12)	 /* read-only */
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_EXT_DEST_SHIFT 49 /* 7 bits: destination bits 8-14 */
#define IOAPIC_RTE_DEST_SHIFT 56     /* 8 bits: destination bits 0-7 */

/* What the guest may write: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask; destination bits 49-63. Reserved and
 * read-only bits read as the model keeps them. */
#define IOAPIC_RTE_WRITABLE (0x1afffull | (0x7fffull << IOAPIC_RTE_EXT_DEST_SHIFT))

/* MSI message (x86 layout) for KVM_SIGNAL_MSI / an MSI GSI route. */
#define IOAPIC_MSI_ADDR_BASE 0xfee00000u
#define IOAPIC_MSI_DATA_LEVEL_ASSERT (1u << 14)
#define IOAPIC_MSI_DATA_LEVEL (1u << 15)
struct ioapic_msi {
	uint32_t address_lo, address_hi, data;
};

/* deliver: send one message; returns > 0 when a LAPIC accepted it, 0 when
 * none did (e.g. the destination's LAPIC is software-disabled), -errno on
 * failure. Only an accepted level message sets remote IRR (as KVM's own
 * IOAPIC does), so a refused one is sent again on the next unmask or EOI
 * instead of leaving the pin stuck.
 * routes_changed: the set of level-triggered unmasked entries changed; the
 * engine mirrors them into KVM's GSI routes, which is how KVM learns which
 * vectors need KVM_EXIT_IOAPIC_EOI. May be NULL. */
struct ioapic_ops {
	int (*deliver)(void *ctx, const struct ioapic_msi *msg);
	void (*routes_changed)(void *ctx);
};

struct ioapic {
	uint32_t id;	   /* bits 24-27 of the ID register */
	uint32_t ioregsel; /* low 8 bits significant */
	uint64_t rte[IOAPIC_PINS];
	uint32_t asserted; /* pin levels (bit per pin) as the devices drive them */
	bool ext_dest;
	struct ioapic_ops ops;
	void *ctx;
	/* Counters for diagnostics: messages accepted, refused, failed;
	 * last_err is the last -errno from deliver. */
	uint64_t sent, refused, failed;
	int last_err;
};

void ioapic_init(struct ioapic *io, bool ext_dest, const struct ioapic_ops *ops, void *ctx);
/* True when gpa falls in the IOAPIC's MMIO page. */
bool ioapic_owns(uint64_t gpa);
/* Guest MMIO at offset off (gpa - X86_IOAPIC_ADDR), len 1, 2, 4 or 8 bytes
 * (little-endian, data[0..len)). Registers are 32-bit: a narrower access
 * reads/writes the low bytes of the register it starts in; offsets with no
 * register read as 0 and ignore writes. */
void ioapic_mmio_read(struct ioapic *io, uint64_t off, uint8_t *data, unsigned len);
void ioapic_mmio_write(struct ioapic *io, uint64_t off, const uint8_t *data, unsigned len);
/* A device drives pin (0..23) to level (non-zero = asserted). Out-of-range
 * pins are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
/* End of interrupt for vector: LAPIC EOI broadcast or the EOI register. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
/* The message pin's entry sends, whatever its mask. */
void ioapic_msi_of(const struct ioapic *io, unsigned pin, struct ioapic_msi *msg);
/* Fill msgs[] with the messages of unmasked level-triggered entries and
 * gsis[] with their pins; returns how many (at most IOAPIC_PINS). */
unsigned ioapic_level_routes(const struct ioapic *io, struct ioapic_msi *msgs, uint32_t *gsis);

#endif
