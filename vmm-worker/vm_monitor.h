/* The host-side monitor as both engines run it (docs/monitor.md): started
 * once guest RAM is mapped, ticked from the engine's watch loop every
 * MonitorSpec.interval_ms, its report handed to main.c with the VM's end.
 * The engine supplies guest-physical access: a read callback (monitor
 * samples) and a write callback used only for sched_ext's watchdog
 * (docs/monitor.md, "The watchdog override"). One thread drives it: the
 * engine's control thread. */
#ifndef KTSTR_VM_MONITOR_H
#define KTSTR_VM_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/kaddr.h>

#include "monitor/monitor.h"
#include "monitor.pb-c.h"
#include "worker.pb-c.h"

/* Write len bytes at guest-physical gpa; 0 or -EFAULT (not RAM). */
typedef int (*vm_monitor_write_fn)(void *ctx, uint64_t gpa, const void *buf, size_t len);

/* Guest RAM mapped in this process (the KVM engines), as the monitor's
 * read and write: lookup gives the host address of [gpa, gpa + len) when it
 * lies inside one RAM region, else NULL (a hole: -EFAULT). No syscall: the
 * monitor's 100 ms reads and its watchdog writes are plain copies. Pass
 * the view as ctx. */
struct vm_ram_view {
	void *(*lookup)(const void *ram, uint64_t gpa, uint64_t len);
	const void *ram;
};
int vm_ram_view_read(void *view, uint64_t gpa, void *buf, size_t len);
int vm_ram_view_write(void *view, uint64_t gpa, const void *buf, size_t len);

struct vm_monitor {
	struct monitor *m;	/* owned; NULL = off (off says why) */
	char off[256];
	uint32_t interval_ms;
	uint64_t next_ns;
	vm_monitor_write_fn write;
	void *ctx;
	uint32_t watchdog_ms;	/* 0 = the kernel's own timeout */
	uint64_t watchdog_writes;	/* 8-byte writes made (monitor_watchdog_plan) */
	struct monitor_wd_state wd;
	char watchdog_note[160];	/* why it was never lowered, "" once lowered,
					 * or that a stalled task forced the ejection */
	bool forced_said;
	bool dump_due, dump_asked;	/* a violation: ask the guest for SysRq-D once */
	/* What sampling costs the worker: thread CPU time of each tick's
	 * sample, judgement and watchdog writes (make bench reports it). */
	uint64_t cost_ticks, cost_ns, cost_max_ns;
};

/* Off, with the reason "no kernel layout" until vm_monitor_start. */
void vm_monitor_init(struct vm_monitor *vm);
/* Start the monitor for this spec (no-op, off with the reason, when the
 * spec carries no kernel layout or the monitor cannot use it). ram_limit:
 * one past the highest guest-physical RAM byte. Never fails the VM. */
void vm_monitor_start(struct vm_monitor *vm, const Ktstr__VmSpec *spec, uint32_t nr_vcpus,
		      kaddr_read_fn read, vm_monitor_write_fn write, void *ctx,
		      uint64_t ram_limit);
/* arm64 guests: vm_monitor_start with guest RAM [ram_base, ram_limit) and
 * the kernel Image loaded at image_pa, where the kernel-image mapping
 * points (an arm64 kernel has no phys_base to read). Off, with the reason,
 * when the layout is not an arm64 one. */
void vm_monitor_start_arm64(struct vm_monitor *vm, const Ktstr__VmSpec *spec, uint32_t nr_vcpus,
			    kaddr_read_fn read, vm_monitor_write_fn write, void *ctx,
			    uint64_t ram_base, uint64_t ram_limit, uint64_t image_pa);
/* Once per engine tick: samples when an interval has passed, then keeps
 * the watchdog timeout written. vcpu_cpu_ns: per vCPU host CPU time so far,
 * or NULL when the engine cannot see it (QEMU). */
void vm_monitor_tick(struct vm_monitor *vm, uint64_t now_ns, const uint64_t *vcpu_cpu_ns);
/* True once, on the tick after the first violation: the engine then asks
 * the guest for a sched_ext debug dump (ring signal byte 'D', served by
 * PID 1 with SysRq-D), which lands on the console the report shows. */
/* A ring message drained at now_ns: a STIMULUS (a scenario step) starts a
 * phase of the monitor's timeline; anything else is ignored. */
void vm_monitor_ring(struct vm_monitor *vm, uint32_t type, const uint8_t *payload, uint32_t len,
		     uint64_t now_ns);
bool vm_monitor_take_dump_request(struct vm_monitor *vm);
/* The report for VmResult.monitor (malloc'd: free_unpacked NULL), or NULL
 * when off (*off_why then says why) or out of memory. */
Ktstr__MonitorReport *vm_monitor_report(struct vm_monitor *vm, const char **off_why);
void vm_monitor_free(struct vm_monitor *vm);

#endif
