/* The arm64 KVM engine's exits (a64_vm.h): MMIO to the two ns16550a UARTs
 * (the x86 engine's 16550 register model, kvm/uart16550.c, one register per
 * byte, 1-byte accesses, as the tree's ns16550a nodes without reg-shift say), PSCI's system events, and a
 * clear error for anything else. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "a64_vm.h"
#include "worker.pb-c.h"

static void uart_tx(void *ctx, uint8_t byte)
{
	struct a64_uart_line *l = ctx;
	if (l->vm->out)
		l->vm->out(l->vm->out_ctx, l->port, byte);
}

static void uart_irq(void *ctx, int level)
{
	struct a64_uart_line *l = ctx;
	/* A failure is kept in irq_err (a64_irq_line) for the run loop to
	 * report: the UART model has no error path. */
	a64_irq_line(l->vm, l->spi, level);
}

void a64_uarts_init(struct a64_vm *vm, a64_out_fn out, void *ctx)
{
	static const uint32_t spi[A64_NUARTS] = { ARM64_UART0_SPI, ARM64_UART1_SPI };
	vm->out = out;
	vm->out_ctx = ctx;
	for (unsigned i = 0; i < A64_NUARTS; i++) {
		vm->uart_line[i] = (struct a64_uart_line){ .vm = vm, .port = i + 1, .spi = spi[i] };
		uart_init(&vm->uart[i], uart_tx, uart_irq, &vm->uart_line[i]);
	}
}

size_t a64_uart_input(struct a64_vm *vm, unsigned port, const uint8_t *data, size_t len)
{
	if (port < 1 || port > A64_NUARTS)
		return 0;
	pthread_mutex_lock(&vm->lock);
	size_t n = uart_receive(&vm->uart[port - 1], data, len);
	pthread_mutex_unlock(&vm->lock);
	return n;
}

/* One MMIO access to UART u at byte offset off: 0, or -EINVAL when the
 * access is not one the tree's reg-shift/reg-io-width allows. */
static int uart_mmio(struct uart16550 *u, uint64_t off, struct kvm_run *run)
{
	unsigned reg = (unsigned)(off >> A64_UART_REG_SHIFT);
	if ((off & ((1u << A64_UART_REG_SHIFT) - 1)) || run->mmio.len != 1)
		return -EINVAL;
	if (reg >= UART_NREGS) {
		/* The rest of the UART's page: reads as zero, writes ignored
		 * (as an unused register of a real device would). */
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
		return 0;
	}
	if (run->mmio.is_write) {
		uart_write(u, reg, run->mmio.data[0]);
	} else {
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		run->mmio.data[0] = uart_read(u, reg);
	}
	return 0;
}

static enum a64_exit_result handle(struct a64_vm *vm, uint32_t cpu, char *err, size_t errlen);

enum a64_exit_result a64_handle_exit(struct a64_vm *vm, uint32_t cpu, char *err, size_t errlen)
{
	enum a64_exit_result r = handle(vm, cpu, err, errlen);
	if (r == A64_EXIT_ERROR) {
		/* Where the guest was: the instruction that made the access. */
		uint64_t pc = 0;
		size_t n = strlen(err);
		if (a64_vcpu_pc(vm, cpu, &pc) == 0 && n < errlen)
			snprintf(err + n, errlen - n, " (guest PC 0x%llx)", (unsigned long long)pc);
	}
	return r;
}

static enum a64_exit_result handle(struct a64_vm *vm, uint32_t cpu, char *err, size_t errlen)
{
	struct kvm_run *run = vm->run[cpu];
	static const uint64_t base[A64_NUARTS] = { ARM64_UART0_BASE, ARM64_UART1_BASE };
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO: {
		uint64_t a = run->mmio.phys_addr;
		for (unsigned i = 0; i < A64_NUARTS; i++) {
			if (a < base[i] || a - base[i] >= ARM64_UART_SIZE)
				continue;
			pthread_mutex_lock(&vm->lock);
			int rc = uart_mmio(&vm->uart[i], a - base[i], run), irq_err = vm->irq_err;
			pthread_mutex_unlock(&vm->lock);
			if (rc < 0) {
				snprintf(err, errlen,
					 "vCPU %u: %u-byte MMIO %s at 0x%llx (UART%u + 0x%llx): the "
					 "ns16550a takes 1-byte accesses (reg-shift 0)",
					 cpu, run->mmio.len, run->mmio.is_write ? "write" : "read",
					 (unsigned long long)a, i, (unsigned long long)(a - base[i]));
				return A64_EXIT_ERROR;
			}
			if (irq_err) {
				snprintf(err, errlen, "vCPU %u: UART%u interrupt (KVM_IRQ_LINE): %s", cpu,
					 i, strerror(-irq_err));
				return A64_EXIT_ERROR;
			}
			return A64_EXIT_CONTINUE;
		}
		snprintf(err, errlen,
			 "vCPU %u: %u-byte MMIO %s at 0x%llx, where the arm64 KVM engine has no "
			 "device (the guest's device tree describes none there)",
			 cpu, run->mmio.len, run->mmio.is_write ? "write" : "read",
			 (unsigned long long)a);
		return A64_EXIT_ERROR;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			return A64_EXIT_POWER_OFF;
		case KVM_SYSTEM_EVENT_RESET:
			return A64_EXIT_RESET;
		case KVM_SYSTEM_EVENT_CRASH:
			return A64_EXIT_PANIC;
		default:
			snprintf(err, errlen, "vCPU %u: unknown system event %u", cpu,
				 run->system_event.type);
			return A64_EXIT_ERROR;
		}
	default:
		snprintf(err, errlen, "vCPU %u: unexpected KVM exit reason %u", cpu,
			 run->exit_reason);
		return A64_EXIT_ERROR;
	}
}

int a64_exit_outcome(enum a64_exit_result r)
{
	switch (r) {
	case A64_EXIT_POWER_OFF:
		return KTSTR__OUTCOME__OUTCOME_POWER_OFF;
	case A64_EXIT_RESET:
		return KTSTR__OUTCOME__OUTCOME_RESET;
	case A64_EXIT_PANIC:
		return KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	case A64_EXIT_ERROR:
		return KTSTR__OUTCOME__OUTCOME_KVM_ERROR;
	case A64_EXIT_CONTINUE:
		break;
	}
	return KTSTR__OUTCOME__OUTCOME_UNKNOWN;
}
