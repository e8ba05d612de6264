#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "kvm/i8042.h"
#include "kvm/uart16550.h"
#include "x86_64/acpi_pm.h"
#include "x86_64/layout.h"

static uint8_t txbuf[256];
static size_t ntx;
static int irq, irq_changes;

static void tx(void *ctx, uint8_t b)
{
	(void)ctx;
	txbuf[ntx++] = b;
}

static void set_irq(void *ctx, int level)
{
	(void)ctx;
	irq = level;
	irq_changes++;
}

static struct uart16550 u;

static void setup(void)
{
	ntx = 0;
	irq = irq_changes = 0;
	uart_init(&u, tx, set_irq, NULL);
}

TestSuite(uart, .init = setup);

Test(uart, transmit_and_lsr)
{
	uart_write(&u, UART_THR, 'h');
	uart_write(&u, UART_THR, 'i');
	cr_assert_eq(ntx, 2);
	cr_assert_eq(txbuf[1], 'i');
	cr_assert_eq(uart_read(&u, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
		     UART_LSR_THRE | UART_LSR_TEMT);
}

Test(uart, dlab_switches_divisor_latch)
{
	uart_write(&u, UART_LCR, UART_LCR_DLAB);
	uart_write(&u, UART_DLL, 1);
	uart_write(&u, UART_DLM, 0);
	cr_assert_eq(ntx, 0, "divisor writes are not data");
	cr_assert_eq(uart_read(&u, UART_DLL), 1);
	uart_write(&u, UART_LCR, 3);
	cr_assert_eq(uart_read(&u, UART_LCR), 3);
	uart_write(&u, UART_THR, 'x');
	cr_assert_eq(ntx, 1);
}

Test(uart, thre_interrupt_needs_out2_and_is_acked_by_iir)
{
	uart_write(&u, UART_IER, UART_IER_THRI);
	cr_assert_eq(irq, 0, "OUT2 gates the line");
	uart_write(&u, UART_MCR, UART_MCR_OUT2);
	cr_assert_eq(irq, 1);
	cr_assert_eq(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
	cr_assert_eq(irq, 0, "reading IIR acknowledges THRE");
	cr_assert_eq(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	uart_write(&u, UART_THR, 'a');
	cr_assert_eq(irq, 1, "each transmitted byte re-raises THRE");
}

Test(uart, fifo_receive_and_overrun)
{
	uint8_t in[UART_FIFO_LEN + 4];

	memset(in, 'r', sizeof(in));
	uart_write(&u, UART_FCR, UART_FCR_ENABLE);
	cr_assert_eq(uart_read(&u, UART_IIR) & UART_IIR_FIFO, UART_IIR_FIFO);
	uart_write(&u, UART_IER, UART_IER_RDI);
	uart_write(&u, UART_MCR, UART_MCR_OUT2);
	cr_assert_eq(uart_receive(&u, in, sizeof(in)), UART_FIFO_LEN);
	cr_assert_eq(irq, 1);
	cr_assert_eq(uart_read(&u, UART_IIR) & 0x0f, UART_IIR_RDI);
	for (unsigned i = 0; i < UART_FIFO_LEN; i++)
		cr_assert_eq(uart_read(&u, UART_RBR), 'r');
	cr_assert_eq(uart_read(&u, UART_LSR) & UART_LSR_DR, 0);
	cr_assert_eq(irq, 0);
}

Test(uart, loopback_echoes_and_maps_modem_lines)
{
	uart_write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT1);
	uart_write(&u, UART_THR, 0x5a);
	cr_assert_eq(ntx, 0, "loopback bytes never leave");
	cr_assert(uart_read(&u, UART_LSR) & UART_LSR_DR);
	cr_assert_eq(uart_read(&u, UART_RBR), 0x5a);
	cr_assert_eq(uart_read(&u, UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_RI);
	uart_write(&u, UART_SCR, 0x77);
	cr_assert_eq(uart_read(&u, UART_SCR), 0x77);
}

Test(uart, i8042_reset_and_selftest)
{
	struct i8042 k;

	i8042_init(&k);
	cr_assert_not(i8042_write(&k, I8042_CMD_PORT, 0xAA));
	cr_assert(i8042_read(&k, I8042_CMD_PORT) & 1);
	cr_assert_eq(i8042_read(&k, I8042_DATA_PORT), 0x55);
	cr_assert(i8042_write(&k, I8042_CMD_PORT, I8042_CMD_RESET));
}

Test(uart, acpi_pm_s5_powers_off)
{
	struct acpi_pm pm;
	uint8_t s1[2] = { 0x00, 0x24 }, s5[2] = { 0x00, 0x34 }, rd[2];

	acpi_pm_init(&pm);
	acpi_pm_read(&pm, X86_ACPI_PM1A_CNT, rd, 2);
	cr_assert_eq(rd[0] & 1, 1, "SCI_EN");
	cr_assert_not(acpi_pm_write(&pm, X86_ACPI_PM1A_CNT, s1, 2), "S1 is not power-off");
	cr_assert(acpi_pm_write(&pm, X86_ACPI_PM1A_CNT, s5, 2));
}
