/* The user-space 82093AA IOAPIC of split-irqchip mode (see ioapic.h for the
 * semantics and the message format). */
#include <string.h>

#include "ioapic.h"
#include "x86_64/layout.h"

#define DEST_BITS_EXT (0x7full << IOAPIC_RTE_EXT_DEST_SHIFT)

void ioapic_init(struct ioapic *io, bool ext_dest, const struct ioapic_ops *ops, void *ctx)
{
	memset(io, 0, sizeof(*io));
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		io->rte[p] = IOAPIC_RTE_MASKED; /* 82093AA reset state */
	io->ext_dest = ext_dest;
	if (ops)
		io->ops = *ops;
	io->ctx = ctx;
}

bool ioapic_owns(uint64_t gpa)
{
	return gpa >= X86_IOAPIC_ADDR && gpa - X86_IOAPIC_ADDR < IOAPIC_MMIO_SIZE;
}

void ioapic_msi_of(const struct ioapic *io, unsigned pin, struct ioapic_msi *msg)
{
	uint64_t e = io->rte[pin];
	uint32_t dest = (uint32_t)(e >> IOAPIC_RTE_DEST_SHIFT) & 0xff;
	bool level = e & IOAPIC_RTE_LEVEL;

	if (io->ext_dest)
		dest |= (uint32_t)((e & DEST_BITS_EXT) >> IOAPIC_RTE_EXT_DEST_SHIFT) << 8;
	/* KVM_X2APIC_API_USE_32BIT_IDS: destination bits 8-31 travel in
	 * address_hi[31:8]; its low byte must stay 0 or KVM rejects it. */
	msg->address_lo = IOAPIC_MSI_ADDR_BASE | ((dest & 0xff) << 12) |
			  ((e & IOAPIC_RTE_DEST_LOGICAL) ? 1u << 2 : 0);
	msg->address_hi = dest & 0xffffff00u;
	msg->data = (uint32_t)(e & IOAPIC_RTE_VECTOR) |
		    (uint32_t)(((e >> IOAPIC_RTE_DELMODE_SHIFT) & 7) << 8) |
		    (level ? IOAPIC_MSI_DATA_LEVEL | IOAPIC_MSI_DATA_LEVEL_ASSERT : 0);
}

/* Send pin's message; a level message a LAPIC accepted sets remote IRR. */
static void send(struct ioapic *io, unsigned pin)
{
	struct ioapic_msi msg;
	int r;

	if (!io->ops.deliver)
		return;
	ioapic_msi_of(io, pin, &msg);
	r = io->ops.deliver(io->ctx, &msg);
	if (r > 0) {
		io->sent++;
		if (io->rte[pin] & IOAPIC_RTE_LEVEL)
			io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	} else if (r == 0) {
		io->refused++;
	} else {
		io->failed++;
		io->last_err = r;
	}
}

/* A level pin that is asserted, unmasked and not waiting for its EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
	    (io->asserted & (1u << pin)))
		send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
	uint32_t bit, was;

	if (pin >= IOAPIC_PINS)
		return; /* before the shift: 1u << pin is undefined from 32 on */
	bit = 1u << pin;
	was = io->asserted & bit;
	if (level)
		io->asserted |= bit;
	else
		io->asserted &= ~bit;
	if (io->rte[pin] & IOAPIC_RTE_LEVEL)
		service_level(io, pin);
	else if (level && !was && !(io->rte[pin] & IOAPIC_RTE_MASKED))
		send(io, pin); /* rising edge */
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned p = 0; p < IOAPIC_PINS; p++) {
		uint64_t *e = &io->rte[p];

		if ((*e & IOAPIC_RTE_VECTOR) != vector || !(*e & IOAPIC_RTE_LEVEL) ||
		    !(*e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*e &= ~IOAPIC_RTE_REMOTE_IRR;
		service_level(io, p); /* still asserted: the device wants more */
	}
}

unsigned ioapic_level_routes(const struct ioapic *io, struct ioapic_msi *msgs, uint32_t *gsis)
{
	unsigned n = 0;

	for (unsigned p = 0; p < IOAPIC_PINS; p++) {
		uint64_t e = io->rte[p];

		if (!(e & IOAPIC_RTE_LEVEL) || (e & IOAPIC_RTE_MASKED))
			continue;
		ioapic_msi_of(io, p, &msgs[n]);
		gsis[n++] = p;
	}
	return n;
}

static uint64_t writable(const struct ioapic *io)
{
	return io->ext_dest ? IOAPIC_RTE_WRITABLE : IOAPIC_RTE_WRITABLE & ~DEST_BITS_EXT;
}

/* Does this entry take part in KVM's EOI-exit routes? */
static bool routed(uint64_t e)
{
	return (e & IOAPIC_RTE_LEVEL) && !(e & IOAPIC_RTE_MASKED);
}

static void write_rte(struct ioapic *io, unsigned pin, bool high, uint32_t v)
{
	uint64_t old = io->rte[pin], e = old, keep = ~writable(io);

	if (high)
		e = (e & 0xffffffffull) | ((uint64_t)v << 32);
	else
		e = (e & ~0xffffffffull) | v;
	/* Read-only and reserved bits keep the model's value. */
	e = (e & writable(io)) | (old & keep);
	/* An edge entry has no EOI to wait for (QEMU and KVM do the same). */
	if (!(e & IOAPIC_RTE_LEVEL))
		e &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = e;
	if ((routed(old) || routed(e)) && old != e && io->ops.routes_changed)
		io->ops.routes_changed(io->ctx);
	/* Unmasking (or turning level) an asserted level pin delivers now;
	 * edges need a new edge. */
	service_level(io, pin);
}

static uint32_t read_reg(const struct ioapic *io)
{
	uint32_t sel = io->ioregsel & 0xff;

	switch (sel) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB: /* the arbitration ID follows the ID, as in KVM and QEMU */
		return (io->id & 0xf) << 24;
	case IOAPIC_REG_VER:
		return IOAPIC_VERSION | ((IOAPIC_PINS - 1) << 16);
	default:
		if (sel >= IOAPIC_REG_RTE0 && sel < IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS) {
			uint64_t e = io->rte[(sel - IOAPIC_REG_RTE0) / 2];

			return (sel & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
		}
		return 0xffffffffu; /* no register: floating bus, as KVM answers */
	}
}

static void write_reg(struct ioapic *io, uint32_t v)
{
	uint32_t sel = io->ioregsel & 0xff;

	if (sel == IOAPIC_REG_ID)
		io->id = (v >> 24) & 0xf;
	else if (sel >= IOAPIC_REG_RTE0 && sel < IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS)
		write_rte(io, (sel - IOAPIC_REG_RTE0) / 2, sel & 1, v);
	/* VER and ARB are read-only; other indexes decode nothing. */
}

void ioapic_mmio_read(struct ioapic *io, uint64_t off, uint8_t *data, unsigned len)
{
	uint32_t v = 0;
	uint64_t reg = off & ~3ull;

	if (reg == IOAPIC_IOREGSEL)
		v = io->ioregsel;
	else if (reg == IOAPIC_IOWIN)
		v = read_reg(io);
	/* EOI is write-only; anything else decodes nothing: 0. */
	v >>= 8 * (off & 3);
	for (unsigned i = 0; i < len && i < 8; i++)
		data[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0;
}

void ioapic_mmio_write(struct ioapic *io, uint64_t off, const uint8_t *data, unsigned len)
{
	uint32_t v = 0, mask = 0;

	if (off & 3)
		return; /* Linux and the datasheet only use aligned dword accesses */
	for (unsigned i = 0; i < len && i < 4; i++) {
		v |= (uint32_t)data[i] << (8 * i);
		mask |= 0xffu << (8 * i);
	}
	switch (off) {
	case IOAPIC_IOREGSEL:
		io->ioregsel = ((io->ioregsel & ~mask) | v) & 0xff;
		break;
	case IOAPIC_IOWIN: /* a narrow write keeps the register's other bytes */
		write_reg(io, (read_reg(io) & ~mask) | v);
		break;
	case IOAPIC_EOI:
		ioapic_eoi(io, (uint8_t)v);
		break;
	default:
		break;
	}
}
