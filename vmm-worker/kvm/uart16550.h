/* A 16550A UART register model (one instance per COM port): 64-byte RX
 * FIFO, IER/IIR/FCR/LCR with DLAB/MCR with loopback/LSR/MSR/SCR. Transmit
 * is instantaneous (a byte written to THR leaves at once through tx), so
 * THRE is always set and the THRE interrupt fires right after each write
 * when enabled. The interrupt output is a level: set_irq(ctx, 1) while any
 * enabled condition is pending. Not thread-safe: the engine serialises port
 * accesses. */
#ifndef KTSTR_UART16550_H
#define KTSTR_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_FIFO_LEN 64u
#define UART_NREGS 8u

struct uart16550 {
	uint8_t ier, lcr, mcr, lsr_err, msr, scr, fcr, dll, dlm;
	bool thr_int_pending; /* THRE interrupt raised and not yet acknowledged */
	bool irq_level;
	uint8_t rx[UART_FIFO_LEN];
	unsigned rx_head, rx_len;
	void (*tx)(void *ctx, uint8_t byte); /* byte leaving the port */
	void (*set_irq)(void *ctx, int level); /* may be NULL (polled use) */
	void *ctx;
};

void uart_init(struct uart16550 *u, void (*tx)(void *, uint8_t), void (*set_irq)(void *, int),
	       void *ctx);
/* Guest access to register off (0..7, port - base). */
uint8_t uart_read(struct uart16550 *u, unsigned off);
void uart_write(struct uart16550 *u, unsigned off, uint8_t v);
/* Host -> guest bytes (interactive input). Returns how many fit. */
size_t uart_receive(struct uart16550 *u, const uint8_t *data, size_t len);
/* Free room in the RX FIFO. */
size_t uart_rx_room(const struct uart16550 *u);

/* Register offsets and bits the tests and tiny guests use. */
#define UART_RBR 0
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI 0x08
#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_FIFO 0xC0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_DCTS 0x01
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#endif
