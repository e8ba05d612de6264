/* Port I/O and MMIO exits: COM1, COM2, the i8042 and the ACPI PM block. Any
 * other port reads as all-ones and ignores writes, as on a PC with nothing
 * decoded there; MMIO outside RAM has no device and ends the VM. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "engine_kvm_priv.h"
#include "ktstr/util.h"

#define COM1_BASE 0x3f8u
#define COM2_BASE 0x2f8u
#define COM1_IRQ 4u
#define COM2_IRQ 3u

/* Called under lock by a vCPU thread (uart_write): queue the byte for the
 * control thread. kvm_io_port made room before the exit was handled, so a
 * byte is only dropped after the VM ended (counted, never silent). */
static void serial_out(struct kvm_engine *e, unsigned port, uint8_t b)
{
	struct kvm_serial_out *o = &e->com_out[port];

	if (o->len == sizeof(o->buf)) {
		o->dropped++;
		return;
	}
	o->buf[o->len++] = b;
	/* Interactive: a line should reach the terminal now, not at the
	 * next tick. Otherwise wake the control thread once enough waits. */
	if (o->len >= KVM_SERIAL_HIGH || (port == 1 && b == '\n' && e->in->stdout_fd >= 0))
		pthread_cond_broadcast(&e->cond);
}

static void com1_tx(void *ctx, uint8_t b)
{
	serial_out(ctx, 0, b);
}

static void com2_tx(void *ctx, uint8_t b)
{
	serial_out(ctx, 1, b);
}

void kvm_io_drain_serial(struct kvm_engine *e)
{
	struct kvm_serial_out *c1 = &e->com_out[0], *c2 = &e->com_out[1];

	if (c1->len)
		capture_com1(e->cap, c1->buf, c1->len);
	/* Shell mode: the capture also writes COM2 to stdout_fd (its mirror,
	 * set by engine_kvm_run as the QEMU engine does). */
	if (c2->len)
		capture_com2(e->cap, c2->buf, c2->len);
	if (c1->len || c2->len)
		pthread_cond_broadcast(&e->cond); /* vCPUs waiting for room */
	c1->len = c2->len = 0;
}

static void com1_irq(void *ctx, int level)
{
	kvm_vm_irq_line(&((struct kvm_engine *)ctx)->vm, COM1_IRQ, level);
}

static void com2_irq(void *ctx, int level)
{
	kvm_vm_irq_line(&((struct kvm_engine *)ctx)->vm, COM2_IRQ, level);
}

void kvm_io_init(struct kvm_engine *e)
{
	uart_init(&e->com1, com1_tx, com1_irq, e);
	uart_init(&e->com2, com2_tx, com2_irq, e);
	i8042_init(&e->kbd);
	acpi_pm_init(&e->pm);
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
	 * any device state changes (the wait drops the lock). Bounded: the
	 * control thread drains every tick, and once the VM ended nothing
	 * waits. */
	while (write && !e->ended && !atomic_load(&e->stop) && need &&
	       (KVM_SERIAL_BUF - e->com_out[0].len < need || KVM_SERIAL_BUF - e->com_out[1].len < need)) {
		struct timespec ts;

		pthread_cond_broadcast(&e->cond);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	for (uint32_t n = 0; n < run->io.count; n++)
		port_access(e, run->io.port, data + (size_t)n * run->io.size, run->io.size, write);
	pthread_mutex_unlock(&e->lock);
}

void kvm_io_mmio(struct kvm_engine *e, struct kvm_vcpu *v, struct kvm_run *run)
{
	pthread_mutex_lock(&e->lock);
	if (!e->ended) {
		kvm_engine_end(e, KTSTR__OUTCOME__OUTCOME_KVM_ERROR, true,
			       "vCPU %u %s %u bytes at guest physical 0x%llx, where no RAM or device is",
			       v->index, run->mmio.is_write ? "wrote" : "read", run->mmio.len,
			       (unsigned long long)run->mmio.phys_addr);
		e->end->kvm_exit_reason = KVM_EXIT_MMIO;
	}
	pthread_mutex_unlock(&e->lock);
}
