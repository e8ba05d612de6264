#include <string.h>

#include "uart16550.h"

/* Modem status when not in loopback: a terminal is attached (CTS, DSR,
 * DCD), so the guest's flow control never blocks transmission. */
#define UART_MSR_IDLE (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

void uart_init(struct uart16550 *u, void (*tx)(void *, uint8_t), void (*set_irq)(void *, int),
	       void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->msr = UART_MSR_IDLE;
	u->dll = 12; /* 9600 baud, the reset divisor */
	u->tx = tx;
	u->set_irq = set_irq;
	u->ctx = ctx;
}

static uint8_t iir(const struct uart16550 *u)
{
	uint8_t fifo = (u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_RLSI) && (u->lsr_err & UART_LSR_OE))
		return fifo | UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_len)
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_int_pending)
		return fifo | UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

static void update_irq(struct uart16550 *u)
{
	/* OUT2 gates the interrupt line on PC serial ports. */
	bool level = !(iir(u) & UART_IIR_NO_INT) && (u->mcr & UART_MCR_OUT2);

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->set_irq)
			u->set_irq(u->ctx, level);
	}
}

size_t uart_rx_room(const struct uart16550 *u)
{
	return UART_FIFO_LEN - u->rx_len;
}

static void rx_push(struct uart16550 *u, uint8_t b)
{
	if (u->rx_len == UART_FIFO_LEN) {
		u->lsr_err |= UART_LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_len) % UART_FIFO_LEN] = b;
	u->rx_len++;
}

size_t uart_receive(struct uart16550 *u, const uint8_t *data, size_t len)
{
	size_t n = 0;

	if (u->mcr & UART_MCR_LOOP)
		return 0; /* the line is disconnected in loopback */
	for (; n < len && u->rx_len < UART_FIFO_LEN; n++)
		rx_push(u, data[n]);
	update_irq(u);
	return n;
}

/* In loopback the modem outputs feed the modem inputs. */
static uint8_t loop_msr(uint8_t mcr)
{
	return (uint8_t)(((mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
			 ((mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			 ((mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
			 ((mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

static void set_msr(struct uart16550 *u, uint8_t status)
{
	uint8_t delta = (uint8_t)(((u->msr ^ status) >> 4) & 0x0f);

	/* Trailing-edge RI only sets TERI; keep it simple: any change is a delta. */
	u->msr = (uint8_t)(status | (u->msr & 0x0f) | delta);
}

uint8_t uart_read(struct uart16550 *u, unsigned off)
{
	uint8_t v = 0;

	switch (off & 7) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB)
			return u->dll;
		if (u->rx_len) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_LEN;
			u->rx_len--;
		}
		break;
	case UART_IER:
		return (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR:
		v = iir(u);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((v & 0x0f) == UART_IIR_THRI)
			u->thr_int_pending = false;
		break;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | (u->rx_len ? UART_LSR_DR : 0) |
			      u->lsr_err);
		u->lsr_err = 0; /* error bits clear on read */
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= 0xf0; /* deltas clear on read */
		break;
	case UART_SCR:
		return u->scr;
	}
	update_irq(u);
	return v;
}

void uart_write(struct uart16550 *u, unsigned off, uint8_t v)
{
	switch (off & 7) {
	case UART_THR:
		if (u->lcr & UART_LCR_DLAB) {
			u->dll = v;
			return;
		}
		if (u->mcr & UART_MCR_LOOP)
			rx_push(u, v);
		else if (u->tx)
			u->tx(u->ctx, v);
		u->thr_int_pending = true; /* transmitted at once: THR empty again */
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling THRI while THR is empty raises the interrupt at once,
		 * as on a real 16550 (Linux's 8250 driver relies on it). */
		if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thr_int_pending = true;
		u->ier = v & 0x0f;
		break;
	case UART_FCR:
		u->fcr = v & (UART_FCR_ENABLE | 0xC0);
		if (v & UART_FCR_CLEAR_RX) {
			u->rx_head = u->rx_len = 0;
		}
		break;
	case UART_LCR:
		u->lcr = v;
		return;
	case UART_MCR:
		u->mcr = v & 0x1f;
		set_msr(u, (u->mcr & UART_MCR_LOOP) ? loop_msr(u->mcr) : UART_MSR_IDLE);
		break;
	case UART_LSR:
	case UART_MSR:
		return; /* read-only */
	case UART_SCR:
		u->scr = v;
		return;
	}
	update_irq(u);
}
