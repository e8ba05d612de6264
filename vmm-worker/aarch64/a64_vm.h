/* The arm64 KVM engine's machine: the VM, its RAM (one memfd-backed slot per
 * NUMA node), the vCPUs (PSCI 0.2, all but vCPU 0 powered off), the in-kernel
 * GICv3, the boot registers, the two ns16550a UARTs on MMIO and the exits.
 * docs/aarch64.md ("The arm64 KVM engine") gives the order and the reasons.
 *
 * Every KVM syscall goes through a64_sys.h. Functions return 0 or -errno and
 * write the reason (what, the value, what to do) into err. One struct a64_vm
 * per VM; a64_vm_close releases everything it owns and is safe on a partly
 * built VM. */
#ifndef KTSTR_A64_VM_H
#define KTSTR_A64_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "arm64-guest/arm64_image.h"
#include "arm64-guest/arm64_layout.h"
#include "kvm/uart16550.h"
#include "ktstr/ring.h"
#include "ktstr/topology.h"

#define A64_MAX_NODES 64u
#define A64_NUARTS 2u /* COM1 (console) at ARM64_UART0_BASE, COM2 (output) at ARM64_UART1_BASE */
/* The 16550's eight byte registers at consecutive byte addresses: the tree's
 * ns16550a nodes carry no reg-shift / reg-io-width, so Linux's 8250 driver
 * uses its defaults (shift 0, 1-byte accesses), as under kvmtool. */
#define A64_UART_REG_SHIFT 0u
/* SPIs the GIC provides: 32 SGIs/PPIs + 64 SPIs (the UARTs use SPI 1, 2). */
#define A64_GIC_NR_IRQS 96u

struct a64_node_ram {
	int memfd;	/* owned; -1 = none */
	uint8_t *host;	/* mapping of size bytes, owned */
	uint64_t gpa, size;
};

/* Where a byte a UART sends goes: port 1 = COM1, 2 = COM2 (the worker's
 * GuestOutput ports). */
typedef void (*a64_out_fn)(void *ctx, unsigned port, uint8_t byte);

struct a64_vm {
	int kvm_fd, vm_fd, gic_fd; /* owned; -1 = none */
	size_t run_size;
	struct ktstr_topo topo;
	uint32_t ncpus;
	int *vcpu_fd;		   /* ncpus entries, owned */
	struct kvm_run **run;	   /* ncpus mappings of run_size, owned */
	uint32_t nnodes;
	struct a64_node_ram node[A64_MAX_NODES];
	uint64_t mem_bytes;
	struct ktstr_ring ring; /* the SHM ring's host view (a64_machine_setup); base NULL = none */
	struct uart16550 uart[A64_NUARTS];
	struct a64_uart_line {
		struct a64_vm *vm;
		unsigned port; /* 1 = COM1, 2 = COM2 */
		uint32_t spi;
	} uart_line[A64_NUARTS]; /* each UART's callback context */
	a64_out_fn out;
	void *out_ctx;
	int irq_err; /* the last KVM_IRQ_LINE failure (-errno), 0 = none; under lock */
	/* The UART models and irq_err are shared by every vCPU thread (and the
	 * control thread's interactive input): lock serialises them. */
	pthread_mutex_t lock;
};

/* The boot placement: the Image at load (arm64_image_place), the initrd at
 * initrd_start (0 = none), the tree at fdt_addr. */
struct a64_boot {
	uint64_t load, image_end;
	uint64_t initrd_start, initrd_end;
	uint64_t fdt_addr;
};

void a64_vm_init(struct a64_vm *vm);
/* Open /dev/kvm, check KVM_GET_API_VERSION, create the VM, read the vCPU
 * mmap size. */
int a64_vm_create(struct a64_vm *vm, const struct ktstr_topo *t, uint64_t mem_bytes, char *err,
		  size_t errlen);
/* One memfd per NUMA node (mem_bytes / nodes, a multiple of ARM64_NODE_ALIGN),
 * mapped shared, registered as KVM memory slot <node> at ARM64_DRAM_BASE +
 * node * size. */
int a64_vm_map_ram(struct a64_vm *vm, char *err, size_t errlen);
/* Host pointer of guest range [gpa, gpa + len), or NULL when it is not all
 * inside one node's RAM. */
void *a64_gpa(const struct a64_vm *vm, uint64_t gpa, uint64_t len);

/* a64_vcpu.c: create every vCPU, ask KVM_ARM_PREFERRED_TARGET once and
 * KVM_ARM_VCPU_INIT each with PSCI 0.2 (POWER_OFF for all but vCPU 0: PSCI
 * CPU_ON starts them), map each kvm_run. */
int a64_vcpus_create(struct a64_vm *vm, char *err, size_t errlen);
/* vCPU 0's boot registers (Linux arm64 booting.rst): PC = load, X0 = the
 * tree, X1..X3 = 0, PSTATE = EL1h with D, A, I, F masked. */
#define A64_BOOT_PSTATE 0x3c5ull
int a64_vcpu_boot_regs(struct a64_vm *vm, uint64_t pc, uint64_t fdt, char *err, size_t errlen);
/* vCPU cpu's PC (KVM_GET_ONE_REG), for error reports: 0 or -errno. */
int a64_vcpu_pc(struct a64_vm *vm, uint32_t cpu, uint64_t *pc);
/* The KVM_SET_ONE_REG id of the 64-bit core register at byte offset off of
 * struct kvm_regs. */
uint64_t a64_core_reg_id(size_t off);

/* a64_gic.c: the in-kernel GICv3, in this order (docs/aarch64.md, "VGIC
 * order"): every vCPU created and KVM_ARM_VCPU_INIT'd first; then
 * KVM_CREATE_DEVICE, the distributor and redistributor base addresses and the
 * IRQ count (a64_gic_create: KVM refuses all three with EBUSY once the GIC is
 * initialised); then KVM_DEV_ARM_VGIC_CTRL_INIT (a64_gic_init), which sizes
 * the redistributors for the vCPUs that exist then (a vCPU created later is
 * refused) and must precede the first KVM_RUN. */
int a64_gic_create(struct a64_vm *vm, char *err, size_t errlen);
int a64_gic_init(struct a64_vm *vm, char *err, size_t errlen);
/* Drive SPI spi's level (KVM_IRQ_LINE, irq = SPI type << 24 | INTID). */
int a64_irq_line(struct a64_vm *vm, uint32_t spi, int level);

/* a64_boot.c: place the Image, the initrd and the tree in RAM below the SHM
 * ring (shm_base; 0 = no ring); copy the image and the initrd. */
int a64_boot_place(const struct a64_vm *vm, const struct arm64_image_info *ii,
		   uint64_t initrd_len, uint64_t fdt_len, uint64_t shm_base, struct a64_boot *b,
		   char *err, size_t errlen);
/* Copy len bytes of src to guest physical gpa. */
int a64_copy_in(struct a64_vm *vm, uint64_t gpa, const void *src, size_t len, char *err,
		size_t errlen);

/* a64_exit.c: the UARTs and the exits. */
void a64_uarts_init(struct a64_vm *vm, a64_out_fn out, void *ctx);
/* Host -> guest bytes into UART port (1 = COM1, 2 = COM2: interactive
 * input), under the lock; the model raises the RX interrupt when enabled.
 * Returns how many fit in the RX FIFO. */
size_t a64_uart_input(struct a64_vm *vm, unsigned port, const uint8_t *data, size_t len);
/* What one KVM_RUN exit means for the VM. */
enum a64_exit_result {
	A64_EXIT_CONTINUE,
	A64_EXIT_POWER_OFF,	/* PSCI SYSTEM_OFF: OUTCOME_POWER_OFF */
	A64_EXIT_RESET,		/* PSCI SYSTEM_RESET: OUTCOME_RESET */
	A64_EXIT_PANIC,		/* SYSTEM_EVENT_CRASH: OUTCOME_GUEST_PANIC */
	A64_EXIT_ERROR,		/* anything else: OUTCOME_KVM_ERROR, reason in err */
};
enum a64_exit_result a64_handle_exit(struct a64_vm *vm, uint32_t cpu, char *err, size_t errlen);
/* One vCPU's run loop (a64_run.c): KVM_RUN and a64_handle_exit until an
 * exit ends the VM (*res, reason in err for A64_EXIT_ERROR) or *stop is set
 * (*res = A64_EXIT_CONTINUE; a signal's EINTR brings the vCPU out of
 * KVM_RUN to see it). 0, or -errno when KVM_RUN itself fails (err says). */
int a64_vcpu_loop(struct a64_vm *vm, uint32_t cpu, const atomic_bool *stop,
		  enum a64_exit_result *res, char *err, size_t errlen);
/* a64_threads.c: the vCPU threads (vmm-worker/vcpu_pool.h, shared with the
 * x86 engine) running a64_vcpu_loop. The first vCPU whose loop ends the VM
 * records it in the runner's end, sets *stop and kicks the others out of
 * KVM_RUN (immediate_exit and A64_KICK_SIGNAL, whose handler must be a
 * no-op installed without SA_RESTART: a64_kick_handler_install). */
#define A64_KICK_SIGNAL SIGRTMIN
struct a64_end {
	bool ended;
	int rc;			  /* a64_vcpu_loop's return (-errno: KVM_RUN failed) */
	enum a64_exit_result res; /* why: A64_EXIT_POWER_OFF, ... */
	uint32_t cpu;		  /* the vCPU that ended it */
	char err[256];		  /* the reason, for A64_EXIT_ERROR */
};
struct vcpu_pool;
struct a64_runner {
	struct a64_vm *vm;
	atomic_bool *stop;
	struct a64_end *end;	 /* under vm->lock */
	struct vcpu_pool *pool;	 /* for the kick */
	pthread_cond_t *cond;	 /* broadcast when the end is recorded; may be NULL */
};
int a64_kick_handler_install(void);
/* vCPU cpu's whole run (a vcpu_pool run callback's body). */
void a64_runner_vcpu(struct a64_runner *r, uint32_t cpu);
/* Stop every vCPU: *stop, immediate_exit on each, the kick signal to each
 * running thread. Callable with or without vm->lock held. */
void a64_runner_stop(struct a64_runner *r);
/* Every vCPU on its own thread until one ends the VM or *stop is set (by
 * another thread, which then calls a64_runner_stop): the standalone run the
 * arm64-kvm lane's cases use; the worker's engine (a64_engine.c) runs the
 * same threads under its watchdog. 0 once every thread is joined, or
 * -errno when a thread could not start (the started ones are stopped). */
int a64_vm_run(struct a64_vm *vm, atomic_bool *stop, struct a64_end *end);
/* The worker's outcome (proto Outcome number) for an exit result. */
int a64_exit_outcome(enum a64_exit_result r);

/* Once the VM is set up: close what a running VM no longer needs and a
 * confined worker must not hold: /dev/kvm (only system ioctls: new VMs) and
 * the RAM memfds (their mappings, which KVM's slots name, stay). */
void a64_vm_drop_setup_fds(struct a64_vm *vm);
void a64_vm_close(struct a64_vm *vm);

#endif
