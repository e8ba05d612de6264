/* The contract between ktstr-vmm-worker's protocol layer (main.c) and its two
 * engines (kvm/kvm_engine.c, qemu/qemu_engine.c). Both engines take the same inputs,
 * honour the same guest contract and feed the same capture, so a report never
 * depends on which engine ran except for the engine field itself.
 *
 * Guest contract (both engines):
 *   - COM1 (0x3f8, IRQ4) = kernel console; COM2 (0x2f8, IRQ3) = guest output
 *     and fallback results (sentinels, KTSTR_EXIT=N).
 *   - SHM ring in the top spec->shm_size bytes of guest RAM, excluded from
 *     usable RAM, at guest physical address shm_base; the guest learns it from
 *     KTSTR_SHM_BASE=0x... KTSTR_SHM_SIZE=0x... on the command line and maps
 *     it through /dev/mem (iomem=relaxed).
 *   - initrd = base image (FD_INITRD) followed by spec->initrd_suffix.
 *   - Kernel command line = guest_cmdline_build() + spec->cmdline_extra.
 * An arm64 guest (spec->arch, docs/aarch64.md): under QEMU, COM1 = the PL011
 * (ttyAMA0) and COM2 = a virtio console (/dev/hvc0); under the arm64 KVM
 * engine (aarch64 hosts), COM1 and COM2 = two ns16550a UARTs on MMIO
 * (ttyS0, ttyS1). Either way the ring is the top of RAM, reserved by the
 * device tree and announced by the same words. */
#ifndef KTSTR_WORKER_ENGINE_H
#define KTSTR_WORKER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ktstr/error.h>
#include <ktstr/topology.h>

#include "perf.h"
#include "vm_monitor.h"
#include "worker.pb-c.h"

struct vm_capture; /* capture.h */

struct vm_inputs {
	const Ktstr__VmSpec *spec;
	int kernel_fd;		/* owned by main.c; engines must not close it */
	int initrd_fd;		/* sealed memfd or -1; owned by main.c */
	int stdin_fd;		/* interactive only, else -1; owned by main.c */
	int stdout_fd;		/* interactive only, else -1; owned by main.c */
	int ctl_sock;		/* to the orchestrator, for live events */
	uint64_t worker_start_us; /* ktstr_now_us() at worker start */
	/* Set by main.c from the control socket: the orchestrator asked to stop.
	 * Engines poll it (with ctl_sock readable) and end with OUTCOME_STOPPED. */
	volatile int *stop_requested;
};

/* What an engine reports besides the capture. */
struct vm_end {
	Ktstr__Outcome outcome;
	Ktstr__Engine engine;
	char engine_detail[32];	/* "kvm", "qemu-tcg", "qemu-kvm" */
	/* ENGINE_ERROR, KVM errors, a flooding guest: what went wrong
	 * (ktstr/error.h); unset for a VM that simply ended. */
	struct ktstr_error error;
	/* The host-side monitor (vm_monitor.h): started by the engine once
	 * guest RAM exists, reported by main.c. */
	struct vm_monitor monitor;
	uint64_t setup_us;	/* worker start -> first KVM_RUN / qemu exec */
	uint64_t engine_start_us; /* ktstr_now_us() when the guest started */
	uint64_t end_us;
	/* KVM error details */
	bool has_fault;
	uint64_t fault_rip;
	uint8_t fault_insn[16];
	uint32_t fault_insn_len;
	uint32_t kvm_exit_reason;
	uint32_t kvm_suberror;
	bool sandboxed;
	/* QEMU engine: QEMU ran under its Landlock ruleset (sandbox_qemu_landlock). */
	bool qemu_landlock;
	/* Performance mode: what was applied (perf.requested = asked). */
	struct perf_report perf;
};

/* Run one VM to its end. Returns 0 when the VM ran and ended (whatever the
 * outcome, filled into *end), or -errno when the engine could not start at
 * all (then *end still carries outcome ENGINE_ERROR and a precise error). */
int kvm_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end);
int qemu_engine_run(const struct vm_inputs *in, struct vm_capture *cap, struct vm_end *end);

/* What /dev/kvm is for this worker: ktstr_kvm_kind() (include/ktstr/hostkvm.h),
 * or "no-access" when it is hardware KVM this process cannot open. */
const char *kvm_engine_kind(void);
/* Resolve ENGINE_AUTO. */
Ktstr__Engine engine_choose(Ktstr__Engine requested);
/* Resolve ENGINE_AUTO for a guest architecture: KVM where the host has
 * hardware KVM of the guest's architecture (an arm64 guest on an aarch64
 * host, an x86_64 one on an x86_64 host), else QEMU (docs/aarch64.md). The
 * _on form takes the host ("x86_64"/"aarch64") and its KVM, for tests. */
Ktstr__Engine engine_choose_arch(Ktstr__Engine requested, Ktstr__Arch arch);
Ktstr__Engine engine_choose_arch_on(const char *host, bool hardware_kvm, Ktstr__Engine requested,
				    Ktstr__Arch arch);
/* Whether this worker can run the spec's guest architecture as asked: 0, or
 * -ENOTSUP / -EINVAL with why naming the host and guest architecture and what
 * to do (engine KVM for a guest of another architecture than the host's;
 * the monitor for an arm64 guest; an unknown arch). main.c's validate_spec
 * refuses the RunVm with it. The _on form takes the host, for tests. */
int engine_arch_check(const Ktstr__VmSpec *spec, char *why, size_t len);
int engine_arch_check_on(const char *host, const Ktstr__VmSpec *spec, char *why, size_t len);
/* "x86_64" / "aarch64": the architecture this worker was built for. */
const char *engine_host_arch(void);
/* "x86_64" / "arm64": a guest architecture's name in messages. */
const char *engine_guest_arch(Ktstr__Arch arch);

/* Guest physical layout shared by the engines (x86_64). */
#define GUEST_MMIO_GAP_START 0xC0000000ull
/* Where the SHM region goes is each engine's: the KVM engine's E820 hole at
 * the top of RAM (x86_64/machine.c), QEMU's below the initrd its loader puts
 * there (qemu/qemu_shm_place.c). */

/* The spec's topology as the topology model's struct (validated by main.c
 * before any engine runs). */
struct ktstr_topo vm_spec_topo(const Ktstr__VmSpec *spec);

/* The engine-independent part of the guest command line (console, panic,
 * reboot, iomem=relaxed, memmap/SHM announcement, rdinit, ...). Engine-specific
 * words are passed in extra_engine (may be NULL). Returns 0 or -ENOSPC. */
int guest_cmdline_build(const Ktstr__VmSpec *spec, uint64_t shm_base, bool shm_via_memmap,
			const char *extra_engine, char *buf, size_t len);
/* The same for an arm64 guest under the arm64 KVM engine (vmm-worker/aarch64/):
 * console=ttyS0 and KTSTR_OUTPUT_PORT=ttyS1 (its two ns16550a UARTs) in place
 * of the QEMU engine's PL011 console. -EINVAL for a spec that is not arm64. */
int guest_cmdline_build_arm64_kvm(const Ktstr__VmSpec *spec, uint64_t shm_base,
				  const char *extra_engine, char *buf, size_t len);

/* ---- Control socket service ---------------------------------------------
 * Control socket service for engines (worker_ctl.c). An engine that polls
 * in->ctl_sock calls this when it is readable (or at least every 100 ms): it
 * reads the pending WorkerRequest without blocking for long and sets
 * *in->stop_requested on StopVm, on EOF (orchestrator gone), on garbage and
 * on a second RunVm (refused: the worker runs exactly one VM). Returns 0, or
 * -errno when the socket is unusable (stop is then requested too). Engines
 * that never poll ctl_sock still stop: SIGTERM/SIGINT set *stop_requested. */
int worker_ctl_service(const struct vm_inputs *in);

/* Size reserved for firmware at the top of guest RAM under QEMU: SeaBIOS puts
 * its high tables (ACPI, SMBIOS) and QEMU its ACPI data (160 KiB) in the last
 * few hundred KiB of RAM below 4 GiB, so the QEMU engine places the initrd's
 * window and the SHM region below this reserve (qemu/qemu_shm_place.c; the
 * guest learns the address from KTSTR_SHM_BASE either way). */
#define GUEST_QEMU_FW_RESERVE (2ull << 20)

#endif
