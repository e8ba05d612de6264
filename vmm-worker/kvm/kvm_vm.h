/* A KVM VM and its memory: /dev/kvm, the VM fd, the irqchip, and the host
 * mappings of guest RAM. Owns every fd and mapping it creates; kvm_vm_close
 * releases them all (safe on a partly set up VM). */
#ifndef KTSTR_KVM_VM_H
#define KTSTR_KVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/error.h>

#include "perf.h"
#include "x86_64/guestmem.h"
#include "x86_64/machine.h"


struct kvm_vm {
	int kvm_fd, vm_fd;	/* owned */
	size_t run_size;	/* KVM_GET_VCPU_MMAP_SIZE */
	struct guest_ram ram;	/* mappings owned */
	bool split_irqchip;	/* IOAPIC/PIC in user space (x2APIC topologies) */
	uint32_t max_vcpu_id;
	/* Performance mode (perf.h): set before kvm_vm_create, NULL = off.
	 * Borrowed (the engine's vm_end). With it: no halt-poll setting,
	 * PAUSE/HLT exits disabled where KVM allows, hugepage-backed RAM. */
	struct perf_report *perf;
	bool huge;			/* RAM is MAP_HUGETLB */
	uint64_t low_map, high_map;	/* mapped sizes (>= ram sizes when huge) */
};

void kvm_vm_init(struct kvm_vm *vm);
/* Open /dev/kvm, check the API and the capabilities we rely on, create the
 * VM (retrying EINTR), set the TSS/identity-map addresses, the irqchip (full
 * in-kernel + PIT2, or split with x2APIC API) and halt polling. */
int kvm_vm_create(struct kvm_vm *vm, const struct x86_machine *m, struct ktstr_error *e);
/* Map guest RAM (not yet registered with KVM: loaders fill it first). */
int kvm_vm_map_ram(struct kvm_vm *vm, const struct x86_machine *m, struct ktstr_error *e);
/* Register the RAM regions as KVM memory slots. */
int kvm_vm_register_ram(struct kvm_vm *vm, struct ktstr_error *e);
/* Drive an ISA interrupt line (in-kernel irqchip only: in split mode the
 * lines end in the user-space IOAPIC, see kvm_io.c). */
int kvm_vm_irq_line(struct kvm_vm *vm, uint32_t irq, int level);
/* Split irqchip: send one MSI (KVM_SIGNAL_MSI, X2APIC_API address format).
 * Returns > 0 delivered, 0 no LAPIC accepted it, -errno. */
int kvm_vm_signal_msi(struct kvm_vm *vm, uint32_t address_lo, uint32_t address_hi, uint32_t data);
/* Split irqchip: replace KVM's GSI routes with n MSI routes (gsis[i] ->
 * address_lo/hi[i], data[i]); KVM derives from the level-triggered ones
 * which vectors end in KVM_EXIT_IOAPIC_EOI. n <= 24. Returns 0 or -errno. */
int kvm_vm_set_msi_routes(struct kvm_vm *vm, const uint32_t *gsis, const uint32_t *address_lo,
			  const uint32_t *address_hi, const uint32_t *data, unsigned n);
void kvm_vm_close(struct kvm_vm *vm);
/* The KVM engine's shorthand for ktstr_error_set() (ktstr/error.h) with no
 * `where`: the engine's steps name their device in `what`. Returns -err. */
int kvm_err_set(struct ktstr_error *e, int err, const char *what, const char *why,
		const char *hint);

/* Fill e; returns -err. */

#endif
