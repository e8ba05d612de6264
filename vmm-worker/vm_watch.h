/* The engine-independent verdicts of a KVM engine's watchdog tick (x86_64
 * kvm/kvm_engine.c, aarch64 aarch64/a64_engine.c): what in the capture,
 * the control socket or the clock ends the VM, and when to ask the guest to
 * finish. The engine runs the loop, drains its devices and records the end
 * (its own lock and end record). */
#ifndef KTSTR_WORKER_VM_WATCH_H
#define KTSTR_WORKER_VM_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "engine.h"
#include "ktstr/ring.h"
#include "vcpu_pool.h"

#define VM_WATCH_TICK_MS 100
/* Ask the guest to finish (ring slot 14) this long before the hard stop. */
#define VM_WATCH_SOFT_STOP_LEAD_MS 3000u

struct vm_watch {
	const struct vm_inputs *in;
	struct vm_capture *cap;
	uint64_t deadline_ms; /* ktstr_now_ms() at init + the spec's timeout */
	bool soft_sent;
};

void vm_watch_init(struct vm_watch *w, const struct vm_inputs *in, struct vm_capture *cap);
/* What ends the VM now, checked in this order: a kernel panic on the
 * console, SCHED_EXIT, a flooding guest, a stop request, the deadline.
 * OUTCOME_UNKNOWN when nothing does; else the outcome with why filled. */
Ktstr__Outcome vm_watch_verdict(struct vm_watch *w, uint64_t now_ms, char *why, size_t len);
/* True once, VM_WATCH_SOFT_STOP_LEAD_MS before the deadline, for a VM with
 * a ring whose timeout leaves room for it: the engine then writes
 * KTSTR_SLOT0_SHUTDOWN into ring slot 14. */
bool vm_watch_soft_stop_due(struct vm_watch *w, uint64_t now_ms, bool have_ring);
/* The error an ending carries (end->error): only KVM errors, emulation
 * failures and a flooding guest are errors; the other outcomes are how a
 * VM ends. kvm_hint: what to do about a KVM error on this engine. */
void vm_watch_note_end(struct vm_end *end, Ktstr__Outcome o, const char *why,
		       const char *kvm_hint);
/* StopVm (or the orchestrator vanishing) arrives on the control socket:
 * service it when readable, without blocking, so a stop takes at most one
 * tick to act on. Call without the engine's lock. */
void vm_watch_service_ctl(const struct vm_inputs *in);

/* Under the engine's lock, on the control thread: drain the SHM ring into
 * the capture (live while the VM runs) and the monitor's stimulus marks,
 * counting frames whose CRC fails; a corrupt header turns the ring off for
 * good (*have_ring = false), said once, naming who. */
void vm_watch_drain_ring(struct ktstr_ring *ring, bool *have_ring, uint32_t *crc_errors,
			 struct vm_monitor *mon, struct vm_capture *cap, bool live, const char *who);
/* Shell mode, on the control thread, without blocking: up to room bytes of
 * the terminal (in->stdin_fd) into buf, only once the guest's shell said it
 * is ready (bytes sent earlier are lost to its port setup, so they wait in
 * the pipe/tty). Returns how many were read (0: none). */
size_t vm_watch_read_stdin(const struct vm_inputs *in, struct vm_capture *cap, size_t room,
			   uint8_t *buf);

/* The watchdog loop itself, on the engine's control thread: every
 * VM_WATCH_TICK_MS (or when a vCPU wakes cond) under lock: drain (serial
 * output, ring), the monitor's tick (with the vCPU threads' CPU times) and
 * its dump request (ring slot 12), a vCPU's own end, the verdicts above,
 * the soft stop (ring slot 14), every vCPU thread gone; then, without the
 * lock, interactive input and the control socket. Returns once *ended. */
struct vm_watch_loop {
	const struct vm_inputs *in;
	struct vm_capture *cap;
	struct vm_monitor *mon;
	struct vcpu_pool *pool;
	uint64_t *vcpu_ns;	 /* pool->n entries: the monitor's vCPU times */
	pthread_mutex_t *lock;	 /* the engine's: guards what the callbacks touch */
	pthread_cond_t *cond;
	const bool *ended;	 /* the engine recorded its end (under lock) */
	struct ktstr_ring *ring; /* valid while *have_ring (under lock) */
	const bool *have_ring;
	void *ctx;
	void (*drain)(void *ctx); /* under lock: serial queues and the ring */
	/* Under lock, may be NULL: true when a vCPU ended the VM and this
	 * recorded that end. */
	bool (*vcpu_end)(void *ctx);
	/* Under lock: record the end (first wins) and stop the vCPUs. */
	void (*end)(void *ctx, Ktstr__Outcome o, const char *why);
	void (*feed_stdin)(void *ctx); /* without the lock, when in->stdin_fd >= 0 */
};
void vm_watch_run(const struct vm_watch_loop *l);

#endif
