/* Port I/O and MMIO exits: COM1, COM2, the i8042, the ACPI PM block and, in
 * split-irqchip mode, the user-space IOAPIC (MMIO) that the serial
 * interrupt lines end in. Any other port reads as all-ones and ignores
 * writes, as on a PC with nothing decoded there; other MMIO outside RAM has
 * no device and ends the VM. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "kvm_priv.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "x86_64/layout.h"

#define COM1_BASE 0x3f8u
#define COM2_BASE 0x2f8u
#define COM1_IRQ 4u
#define COM2_IRQ 3u

/* Called under lock by a vCPU thread (uart_write): queue the byte for the
 * control thread. kvm_io_port made room before the exit was handled, so a
 * byte is only dropped after the VM ended (counted, never silent). */
static void queue_serial(struct kvm_engine *e, unsigned port, uint8_t b)
{
	serial_out_put(&e->com_out[port], port, b, e->in->stdout_fd >= 0, &e->cond);
}

static void com1_tx(void *ctx, uint8_t b)
{
	queue_serial(ctx, 0, b);
}

static void com2_tx(void *ctx, uint8_t b)
{
	queue_serial(ctx, 1, b);
}

void kvm_io_drain_serial(struct kvm_engine *e)
{
	serial_out_drain(e->com_out, e->cap, &e->cond);
}

/* An ISA interrupt line (under lock). In-kernel irqchip: KVM's PIC and
 * IOAPIC (GSI routing in kvm_vm.c). Split irqchip: our IOAPIC, ISA IRQ n on
 * pin n except IRQ0 on pin 2, as the MADT's override says. Called from vCPU
 * threads (port exits) and the control thread (interactive COM2 input). */
static void isa_irq(struct kvm_engine *e, uint32_t irq, int level)
{
	if (e->vm.split_irqchip)
		ioapic_set_irq(&e->ioapic, irq == 0 ? 2 : irq, level);
	else
		kvm_vm_irq_line(&e->vm, irq, level);
}

static void com1_irq(void *ctx, int level)
{
	isa_irq(ctx, COM1_IRQ, level);
}

static void com2_irq(void *ctx, int level)
{
	isa_irq(ctx, COM2_IRQ, level);
}

static int ioapic_deliver(void *ctx, const struct ioapic_msi *m)
{
	struct kvm_engine *e = ctx;

	return kvm_vm_signal_msi(&e->vm, m->address_lo, m->address_hi, m->data);
}

/* The guest changed a level-triggered unmasked entry: KVM exits with
 * KVM_EXIT_IOAPIC_EOI only for vectors its MSI routes on the first 24 GSIs
 * mark level-triggered, so mirror those entries there (before the entry's
 * first message: write_rte calls this first). Skipped when nothing changed:
 * KVM_SET_GSI_ROUTING waits for an SRCU grace period. */
static void ioapic_routes_changed(void *ctx)
{
	struct kvm_engine *e = ctx;
	struct ioapic_msi m[IOAPIC_PINS];
	uint32_t gsi[IOAPIC_PINS], lo[IOAPIC_PINS], hi[IOAPIC_PINS], data[IOAPIC_PINS];
	unsigned n = ioapic_level_routes(&e->ioapic, m, gsi);
	int r;

	if (n == e->nroutes && !memcmp(gsi, e->route_gsi, n * sizeof(gsi[0])) &&
	    !memcmp(m, e->routes, n * sizeof(m[0])))
		return;
	for (unsigned i = 0; i < n; i++) {
		lo[i] = m[i].address_lo;
		hi[i] = m[i].address_hi;
		data[i] = m[i].data;
	}
	r = kvm_vm_set_msi_routes(&e->vm, gsi, lo, hi, data, n);
	if (r) {
		e->route_err = r; /* reported after the run (kvm_io_report) */
		return;
	}
	memcpy(e->routes, m, n * sizeof(m[0]));
	memcpy(e->route_gsi, gsi, n * sizeof(gsi[0]));
	e->nroutes = n;
}

void kvm_io_init(struct kvm_engine *e)
{
	static const struct ioapic_ops ops = { ioapic_deliver, ioapic_routes_changed };

	uart_init(&e->com1, com1_tx, com1_irq, e);
	uart_init(&e->com2, com2_tx, com2_irq, e);
	i8042_init(&e->kbd);
	acpi_pm_init(&e->pm);
	/* Used only in split mode, where the CPUID advertises
	 * KVM_FEATURE_MSI_EXT_DEST_ID (x86_64/cpuid.c): entry bits 49-55 are
	 * then destination bits 8-14, how Linux reaches APIC IDs above 255. */
	ioapic_init(&e->ioapic, true, &ops, e);
}

void kvm_io_ioapic_eoi(struct kvm_engine *e, uint8_t vector)
{
	pthread_mutex_lock(&e->lock);
	if (e->vm.split_irqchip)
		ioapic_eoi(&e->ioapic, vector);
	pthread_mutex_unlock(&e->lock);
}

void kvm_io_report(struct kvm_engine *e)
{
	const struct ioapic *io = &e->ioapic;

	if (!e->vm.split_irqchip)
		return;
	if (io->failed)
		kwarn("KVM engine: IOAPIC: KVM_SIGNAL_MSI failed %llu time(s), last: %s; the guest "
		      "lost those interrupts (check dmesg for KVM errors)",
		      (unsigned long long)io->failed, strerror(-io->last_err));
	if (e->route_err)
		kwarn("KVM engine: IOAPIC: KVM_SET_GSI_ROUTING failed: %s; level-triggered "
		      "interrupts may not see their EOI (check dmesg for KVM errors)",
		      strerror(-e->route_err));
	kdbg("KVM engine: IOAPIC: %llu message(s) accepted, %llu refused by the LAPICs",
	     (unsigned long long)io->sent, (unsigned long long)io->refused);
}

static void port_access(struct kvm_engine *e, uint16_t port, uint8_t *data, unsigned size,
			bool write)
{
	if (acpi_pm_owns(port)) {
		if (!write)
			acpi_pm_read(&e->pm, port, data, size);
		else if (acpi_pm_write(&e->pm, port, data, size))
			kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_POWER_OFF, true, "ACPI S5 (PM1a_CNT)");
		return;
	}
	for (unsigned i = 0; i < size; i++, port++) {
		struct uart16550 *u = NULL;
		unsigned off = 0;

		if (port >= COM1_BASE && port < COM1_BASE + 8) {
			u = &e->com1;
			off = port - COM1_BASE;
		} else if (port >= COM2_BASE && port < COM2_BASE + 8) {
			u = &e->com2;
			off = port - COM2_BASE;
		}
		if (u) {
			if (write)
				uart_write(u, off, data[i]);
			else
				data[i] = uart_read(u, off);
		} else if (port == I8042_DATA_PORT || port == I8042_CMD_PORT) {
			if (!write)
				data[i] = i8042_read(&e->kbd, port);
			else if (i8042_write(&e->kbd, port, data[i]))
				kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_RESET, true, "i8042 reset (0xFE)");
		} else if (!write) {
			data[i] = 0xff;
		}
	}
}

void kvm_io_port(struct kvm_engine *e, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;

	uint16_t port = run->io.port;
	bool com = (port >= COM1_BASE && port < COM1_BASE + 8) || (port >= COM2_BASE && port < COM2_BASE + 8);
	size_t need = com ? (size_t)run->io.count * run->io.size : 0;

	pthread_mutex_lock(&e->lock);
	/* Room for every byte this exit can emit on COM1/COM2, taken before
	 * any device state changes (the wait drops the lock). */
	if (write && !e->ended)
		serial_out_wait_room(e->com_out, need, &e->lock, &e->cond, &e->stop);
	for (uint32_t n = 0; n < run->io.count; n++)
		port_access(e, run->io.port, data + (size_t)n * run->io.size, run->io.size, write);
	pthread_mutex_unlock(&e->lock);
}

bool kvm_io_mmio(struct kvm_engine *e, struct kvm_vcpu *v, struct kvm_run *run)
{
	uint64_t gpa = run->mmio.phys_addr;

	if (e->vm.split_irqchip && ioapic_owns(gpa) && run->mmio.len <= sizeof(run->mmio.data)) {
		pthread_mutex_lock(&e->lock);
		if (run->mmio.is_write)
			ioapic_mmio_write(&e->ioapic, gpa - X86_IOAPIC_ADDR, run->mmio.data, run->mmio.len);
		else
			ioapic_mmio_read(&e->ioapic, gpa - X86_IOAPIC_ADDR, run->mmio.data, run->mmio.len);
		pthread_mutex_unlock(&e->lock);
		return true;
	}
	pthread_mutex_lock(&e->lock);
	if (!e->ended) {
		kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_KVM_ERROR, true,
			       "vCPU %u %s %u bytes at guest physical 0x%llx, where no RAM or device is",
			       v->index, run->mmio.is_write ? "wrote" : "read", run->mmio.len,
			       (unsigned long long)run->mmio.phys_addr);
		e->end->kvm_exit_reason = KVM_EXIT_MMIO;
	}
	pthread_mutex_unlock(&e->lock);
	return false;
}
