/* Group work types synchronised through a futex word in a shared page
 * (struct work_group, one per group, mapped MAP_SHARED by PID 1 before it
 * forks the group, hence shared rather than _PRIVATE futex ops). Every wait
 * is bounded by WORK_WAIT_NS and re-checks the stop flag, so a group whose
 * partner stopped, died or never runs still stops promptly. */
#include <limits.h>

#include "work_types.h"

/* FutexFanOut (fan_out 4, spin_iters 1024, group fan_out+1: docs/reference.md,
 * "Work-type defaults"). Side 0 is the messenger: spin, stamp, bump the generation, wake every
 * receiver. The messenger never waits for its receivers (as in the
 * reference); a receiver that falls behind coalesces the generations it
 * missed into one. Receivers wait for a new generation, then spin; their
 * wake latency is messenger stamp -> receiver running, sampled only when
 * the receiver really slept. */
static void fan_out_messenger(const struct work_cfg *c, volatile sig_atomic_t *stop,
			      struct telem *t)
{
	struct work_group *g = c->grp;

	while (!*stop) {
		spin(c->spin_iters);
		__atomic_store_n(&g->stamp_ns, now_ns(), __ATOMIC_RELEASE);
		__atomic_add_fetch(&g->word, 1, __ATOMIC_RELEASE);
		futex_wake(&g->word, INT_MAX);
		checkpoint(t, c->spin_iters);
	}
}

static void fan_out_receiver(const struct work_cfg *c, volatile sig_atomic_t *stop,
			     struct telem *t)
{
	struct work_group *g = c->grp;
	uint32_t seen = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);

	while (!*stop) {
		uint32_t now = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);

		if (now == seen) {
			/* 0: woken by FUTEX_WAKE; anything else (timeout, EINTR,
			 * EAGAIN because the generation moved) re-checks. */
			if (futex_wait(&g->word, seen, WORK_WAIT_NS) == 0 &&
			    __atomic_load_n(&g->word, __ATOMIC_ACQUIRE) != seen)
				wake_sample(t, now_ns() - __atomic_load_n(&g->stamp_ns,
									  __ATOMIC_ACQUIRE));
			continue;
		}
		seen = now;
		spin(c->spin_iters);
		checkpoint(t, c->spin_iters);
	}
}

void work_run_fan_out(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t)
{
	if (c->side == 0)
		fan_out_messenger(c, stop, t);
	else
		fan_out_receiver(c, stop, t);
}

/* The three-state futex mutex (Drepper, "Futexes Are Tricky", mutex 2):
 * 0 free, 1 held, 2 held and maybe contended. Lock: CAS 0->1; otherwise
 * mark 2 and sleep until an exchange to 2 finds it free. Unlock: a holder
 * that sees 2 clears it and wakes one waiter (CAS + FUTEX_WAIT/WAKE(1), as in
 * the reference: docs/reference.md, "Work-type defaults"). Not a pthread
 * mutex: the guest is static and the workers are processes, and a bounded
 * wait needs the raw futex anyway.
 * Returns 1 with the lock held, 0 when *stop was set first; *slept tells
 * whether the caller blocked (its wake latency is then meaningful). */
static int mutex_lock(uint32_t *w, volatile sig_atomic_t *stop, int *slept)
{
	uint32_t v = 0;

	*slept = 0;
	if (__atomic_compare_exchange_n(w, &v, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 1;
	if (v != 2)
		v = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	while (v != 0) {
		if (*stop)
			return 0;
		if (futex_wait(w, 2, WORK_WAIT_NS) == 0)
			*slept = 1;
		v = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	}
	return 1;
}

static void mutex_unlock(uint32_t *w)
{
	if (__atomic_fetch_sub(w, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(w, 0, __ATOMIC_RELEASE);
		futex_wake(w, 1);
	}
}

/* MutexContention (contenders 4, hold 256, work 1024, group contenders:
 * docs/reference.md, "Work-type defaults"): every worker of a group loops
 * lock, hold_iters spins inside, unlock, spin_iters spins outside. One work unit per acquisition, so a
 * group's units add up to its acquisitions. The holder count and the plain
 * (non-atomic) acquisition counter are the lock's self-check: a second
 * holder shows up in overlaps, lost updates in acquisitions. */
void work_run_mutex(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t)
{
	struct work_group *g = c->grp;
	volatile uint64_t *acq = &g->acquisitions;

	while (!*stop) {
		int slept;

		if (!mutex_lock(&g->word, stop, &slept))
			break;
		if (slept)
			wake_sample(t, now_ns() - __atomic_load_n(&g->stamp_ns, __ATOMIC_ACQUIRE));
		if (__atomic_fetch_add(&g->holders, 1, __ATOMIC_ACQ_REL) != 0)
			__atomic_add_fetch(&g->overlaps, 1, __ATOMIC_RELAXED);
		*acq = *acq + 1;
		spin(c->hold_iters);
		__atomic_sub_fetch(&g->holders, 1, __ATOMIC_ACQ_REL);
		/* Stamped before the release: a waiter woken by it measures
		 * release -> running. */
		__atomic_store_n(&g->stamp_ns, now_ns(), __ATOMIC_RELEASE);
		mutex_unlock(&g->word);
		spin(c->spin_iters);
		checkpoint(t, 1);
	}
}
