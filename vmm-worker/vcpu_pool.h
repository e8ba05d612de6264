/* The vCPU threads of a KVM engine (x86_64: kvm/kvm_vcpu.c; aarch64:
 * aarch64/a64_engine.c): one thread per vCPU, started with the kick signal
 * blocked, each preparing itself (name, performance mode, its own seccomp
 * policy: docs/security.md, "KVM engine") and then waiting at a start gate
 * that the control thread opens once it is confined too. What a vCPU does
 * after the gate (KVM_RUN and the exits) is the engine's.
 *
 * Locking: the pool borrows the engine's lock and condition variable, which
 * also guard the engine's devices; gate_open, the slots' sb_state/sb_err and
 * every wake-up go through them. A stuck thread never hangs the worker:
 * every wait here is bounded (VCPU_POOL_GATE_MS, VCPU_POOL_JOIN_S). */
#ifndef KTSTR_WORKER_VCPU_POOL_H
#define KTSTR_WORKER_VCPU_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* vCPU threads report their policy and wait for the gate at most this
 * long: both take milliseconds; only a stalled host comes near it. */
#define VCPU_POOL_GATE_MS 10000
/* After the VM ended, a vCPU thread has this long to leave KVM_RUN. */
#define VCPU_POOL_JOIN_S 5

struct vcpu_pool_ops {
	/* On the vCPU thread, before the gate: whatever must happen before
	 * its seccomp policy (which allows neither prctl nor affinity calls)
	 * and the policy itself. 0, or -errno with the reason in err: the
	 * thread then reports it and never runs the guest. */
	int (*prepare)(void *ctx, uint32_t index, char *err, size_t len);
	/* On the vCPU thread once the gate opened, with the kick signal
	 * unblocked: run the vCPU until the VM ends or *stop is set. */
	void (*run)(void *ctx, uint32_t index);
};

struct vcpu_slot {
	pthread_t thread;
	bool started;	  /* pthread_create succeeded and the join has not run */
	bool leaked;	  /* did not stop within VCPU_POOL_JOIN_S: its fds must stay */
	atomic_bool done; /* the thread left (its run, or before the gate) */
	/* Under lock: 0 = not yet prepared, 1 = prepared, -errno = failed. */
	int sb_state;
	char sb_err[256];
	struct vcpu_pool *pool;
	uint32_t index;
};

struct vcpu_pool {
	uint32_t n;
	struct vcpu_slot *slot; /* n entries, owned */
	pthread_mutex_t *lock;	/* borrowed from the engine */
	pthread_cond_t *cond;	/* borrowed */
	atomic_bool *stop;	/* borrowed: set when the VM ends */
	bool gate_open;		/* under lock */
	int kick_signal;
	const char *who;	/* "KVM engine": names the engine in messages */
	struct vcpu_pool_ops ops;
	void *ctx;
};

/* 0 or -ENOMEM. Nothing starts yet. */
int vcpu_pool_init(struct vcpu_pool *p, uint32_t n, pthread_mutex_t *lock, pthread_cond_t *cond,
		   atomic_bool *stop, int kick_signal, const char *who,
		   const struct vcpu_pool_ops *ops, void *ctx);
/* Start every thread (the kick signal blocked in them until their run).
 * 0, or -errno with why: the threads already started stay started, so the
 * caller sets *stop, opens the gate and joins. */
int vcpu_pool_start(struct vcpu_pool *p, char *why, size_t len);
/* Bounded wait until every started thread prepared itself: 0, or -errno
 * with why naming the vCPU (its prepare failure) or -ETIMEDOUT. */
int vcpu_pool_wait_prepared(struct vcpu_pool *p, char *why, size_t len);
/* Let the threads run (or, with *stop set, leave). */
void vcpu_pool_open_gate(struct vcpu_pool *p);
/* Signal every started thread still running (it must then see *stop or
 * its immediate_exit, which the engine sets). */
void vcpu_pool_kick(struct vcpu_pool *p);
/* Whether every thread has left. */
bool vcpu_pool_all_done(struct vcpu_pool *p);
/* Each thread's CPU time so far (the monitor's vCPU times), or NULL when a
 * thread's clock cannot be read. */
const uint64_t *vcpu_pool_times(struct vcpu_pool *p, uint64_t *ns);
/* Join every started thread, each bounded by VCPU_POOL_JOIN_S; one that
 * does not stop is logged and marked leaked (the process exits after the
 * result is sent). */
void vcpu_pool_join(struct vcpu_pool *p);
void vcpu_pool_free(struct vcpu_pool *p);

#endif
