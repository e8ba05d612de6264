/* State shared by the KVM engine's files (kvm_engine.c, kvm_boot.c, kvm_vcpu.c,
 * kvm_io.c). One struct kvm_engine per VM, owned by kvm_engine_run. */
#ifndef KTSTR_ENGINE_KVM_PRIV_H
#define KTSTR_ENGINE_KVM_PRIV_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "engine.h"
#include "i8042.h"
#include "ioapic.h"
#include "kvm_vm.h"
#include "uart16550.h"
#include "serial_out.h"
#include "vcpu_pool.h"
#include "x86_64/acpi_pm.h"
#include "x86_64/cpuid.h"
#include "x86_64/loader.h"
#include "x86_64/machine.h"
#include "ktstr/ring.h"

struct kvm_engine;

struct kvm_vcpu {
	struct kvm_engine *eng;
	uint32_t index;		/* CPU number (0 = BSP) */
	int fd;			/* owned */
	struct kvm_run *run;	/* mmap of vm.run_size, owned */
};

struct kvm_engine {
	const struct vm_inputs *in;
	struct vm_capture *cap;
	struct vm_end *end;
	struct x86_machine m;
	struct kvm_vm vm;
	struct x86_kernel kernel;
	struct kvm_vcpu *vcpus;	/* m.ncpus entries, owned */
	struct vcpu_pool pool;	/* their threads (vcpu_pool.h) */
	/* Performance mode, m.ncpus entries, owned: what each vCPU thread
	 * applied to itself before its filter (read after the join). */
	struct perf_thread *vperf;
	uint64_t *vcpu_ns;	/* m.ncpus entries, owned: the monitor's vCPU times */
	struct vm_ram_view ram_view; /* the monitor's reads and writes of guest RAM */

	/* Devices, the capture and the end record are touched by every vCPU
	 * thread and the watchdog: lock serialises them all. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct uart16550 com1, com2;
	struct i8042 kbd;
	struct acpi_pm pm;
	/* Split irqchip only (vm.split_irqchip): the user-space IOAPIC the
	 * serial lines end in, and the MSI routes last given to KVM for its
	 * level-triggered entries (kvm_io.c; under lock). */
	struct ioapic ioapic;
	struct ioapic_msi routes[IOAPIC_PINS];
	uint32_t route_gsi[IOAPIC_PINS];
	unsigned nroutes;
	int route_err; /* last KVM_SET_GSI_ROUTING failure (-errno), 0 = none */
	bool ended;		/* first end wins (under lock) */
	atomic_bool stop;	/* vCPUs must leave KVM_RUN */

	struct ktstr_ring ring;
	bool have_ring;
	uint32_t ring_crc_errors;
	int kick_signal;

	/* COM1 (0) and COM2 (1) output not yet captured (under lock). */
	struct serial_out com_out[2];

	/* Confinement (docs/security.md, "KVM engine"): load the policies
	 * (false only with VmSpec.insecure_no_sandbox). */
	bool confine;
};

/* Record how the VM ended (first call wins) and stop every vCPU. Takes the
 * lock unless locked. fmt describes the cause (may be NULL). */
void kvm_engine_end(struct kvm_engine *e, Ktstr__Outcome outcome, bool locked, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
/* Kick every vCPU out of KVM_RUN (immediate_exit + signal). */
void kvm_engine_kick_all(struct kvm_engine *e);

/* Port I/O and MMIO exits. Return 0 or an outcome was recorded. */
void kvm_io_init(struct kvm_engine *e);
/* Control thread only, under lock: hand buffered serial output to the
 * capture (and, interactive, COM2 to stdout_fd); wakes vCPUs waiting for
 * room. */
void kvm_io_drain_serial(struct kvm_engine *e);
void kvm_io_port(struct kvm_engine *e, struct kvm_run *run);
/* Returns true when a device handled the access (the vCPU runs on), false
 * when the VM ended (no device there). */
bool kvm_io_mmio(struct kvm_engine *e, struct kvm_vcpu *v, struct kvm_run *run);
/* KVM_EXIT_IOAPIC_EOI (split irqchip): the guest's LAPIC EOI'd a vector a
 * level-triggered IOAPIC entry sent. */
void kvm_io_ioapic_eoi(struct kvm_engine *e, uint8_t vector);
/* After the VM ended: warn about IOAPIC messages or routes KVM refused. */
void kvm_io_report(struct kvm_engine *e);

/* vCPUs: create and set up every vCPU; start/join threads. */
int kvm_vcpus_create(struct kvm_engine *e, const struct x86_cpuid *supported,
		     const struct x86_feature_bit *off, size_t noff, struct ktstr_error *err);
/* Start the vCPU threads (vcpu_pool.h): each applies performance mode and
 * its WORKER_VCPU policy, then waits at the gate (e->pool). */
int kvm_vcpus_start(struct kvm_engine *e, struct ktstr_error *err);
void kvm_vcpus_join(struct kvm_engine *e);
void kvm_vcpus_destroy(struct kvm_engine *e);

/* Boot image: kernel, initrd, command line, tables, ring. */
int kvm_boot_setup(struct kvm_engine *e, struct ktstr_error *err);

/* Read guest memory at a linear address through the vCPU's page tables. */
size_t kvm_read_linear(struct kvm_engine *e, const struct kvm_sregs *s, uint64_t linear,
		       uint8_t *buf, size_t len);

#endif
