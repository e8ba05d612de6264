/* The vCPU threads of a KVM engine: start, prepare, gate, kick, join
 * (vcpu_pool.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ktstr/log.h"
#include "ktstr/util.h"
#include "vcpu_pool.h"

int vcpu_pool_init(struct vcpu_pool *p, uint32_t n, pthread_mutex_t *lock, pthread_cond_t *cond,
		   atomic_bool *stop, int kick_signal, const char *who,
		   const struct vcpu_pool_ops *ops, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->slot = calloc(n ? n : 1, sizeof(*p->slot));
	if (!p->slot)
		return -ENOMEM;
	p->n = n;
	p->lock = lock;
	p->cond = cond;
	p->stop = stop;
	p->kick_signal = kick_signal;
	p->who = who;
	p->ops = *ops;
	p->ctx = ctx;
	for (uint32_t i = 0; i < n; i++) {
		p->slot[i].pool = p;
		p->slot[i].index = i;
		atomic_init(&p->slot[i].done, false);
	}
	return 0;
}

/* A bounded wait on cond (under lock) until deadline_ms, at most 100 ms so
 * the caller re-checks its state. */
static void cond_wait_until(struct vcpu_pool *p, uint64_t deadline_ms)
{
	struct timespec ts;
	uint64_t now = ktstr_now_ms(), left = deadline_ms > now ? deadline_ms - now : 0;

	if (left > 100)
		left = 100;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(p->cond, p->lock, &ts);
}

/* Prepare this thread (the engine's prepare: performance mode, then its
 * own seccomp policy, after every setup ioctl and before the first
 * KVM_RUN, so nothing the guest does reaches a syscall the policy does not
 * name) and wait at the gate. True when the thread may run the guest. */
static bool prepare_and_wait(struct vcpu_slot *s)
{
	struct vcpu_pool *p = s->pool;
	uint64_t deadline = ktstr_now_ms() + VCPU_POOL_GATE_MS;
	char err[sizeof(s->sb_err)] = "", name[16];
	int r = 0;
	bool go;

	/* Named for ps/top and /proc/PID/task/TID/comm ("ktstr-vcpu3");
	 * glibc uses prctl(PR_SET_NAME) here, which no policy allows. */
	snprintf(name, sizeof(name), "ktstr-vcpu%u", s->index % 100000u);
	pthread_setname_np(pthread_self(), name);
	if (p->ops.prepare)
		r = p->ops.prepare(p->ctx, s->index, err, sizeof(err));
	pthread_mutex_lock(p->lock);
	s->sb_state = r < 0 ? r : 1;
	if (r < 0)
		snprintf(s->sb_err, sizeof(s->sb_err), "%s", err[0] ? err : strerror(-r));
	pthread_cond_broadcast(p->cond);
	while (r == 0 && !p->gate_open && !atomic_load(p->stop) && ktstr_now_ms() < deadline)
		cond_wait_until(p, deadline);
	go = r == 0 && p->gate_open && !atomic_load(p->stop);
	pthread_mutex_unlock(p->lock);
	if (r == 0 && !go && !atomic_load(p->stop))
		kerr("%s: vCPU %u: the start gate did not open within %d ms; the vCPU leaves "
		     "without running the guest", p->who, s->index, VCPU_POOL_GATE_MS);
	return go;
}

static void *thread_main(void *arg)
{
	struct vcpu_slot *s = arg;
	struct vcpu_pool *p = s->pool;

	if (prepare_and_wait(s)) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, p->kick_signal);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		p->ops.run(p->ctx, s->index);
	}
	atomic_store(&s->done, true);
	pthread_mutex_lock(p->lock);
	pthread_cond_broadcast(p->cond);
	pthread_mutex_unlock(p->lock);
	return NULL;
}

int vcpu_pool_start(struct vcpu_pool *p, char *why, size_t len)
{
	sigset_t set, old;
	int r = 0;

	/* Threads start with the kick signal blocked and unblock it only for
	 * their run, so a kick never lands on a thread outside KVM_RUN's
	 * reach; the calling thread keeps its mask. */
	sigemptyset(&set);
	sigaddset(&set, p->kick_signal);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (uint32_t i = 0; i < p->n; i++) {
		/* started is read under the lock by kicks from other threads. */
		pthread_mutex_lock(p->lock);
		r = pthread_create(&p->slot[i].thread, NULL, thread_main, &p->slot[i]);
		p->slot[i].started = r == 0;
		pthread_mutex_unlock(p->lock);
		if (r) {
			snprintf(why, len, "pthread_create for vCPU %u: %s", i, strerror(r));
			r = -r;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

int vcpu_pool_wait_prepared(struct vcpu_pool *p, char *why, size_t len)
{
	uint64_t deadline = ktstr_now_ms() + VCPU_POOL_GATE_MS;
	int r = 0;

	pthread_mutex_lock(p->lock);
	for (;;) {
		uint32_t pending = 0;

		for (uint32_t i = 0; i < p->n && !r; i++) {
			struct vcpu_slot *s = &p->slot[i];

			if (!s->started)
				continue;
			if (s->sb_state < 0) {
				snprintf(why, len, "vCPU %u: %s", i, s->sb_err);
				r = s->sb_state;
			} else if (s->sb_state == 0) {
				pending++;
			}
		}
		if (r || !pending)
			break;
		if (ktstr_now_ms() >= deadline) {
			snprintf(why, len, "%u vCPU thread(s) did not report their WORKER_VCPU seccomp "
				 "policy within %d ms (host overloaded?)", pending, VCPU_POOL_GATE_MS);
			r = -ETIMEDOUT;
			break;
		}
		cond_wait_until(p, deadline);
	}
	pthread_mutex_unlock(p->lock);
	return r;
}

void vcpu_pool_open_gate(struct vcpu_pool *p)
{
	if (!p->slot)
		return; /* never initialised: no thread waits */
	pthread_mutex_lock(p->lock);
	p->gate_open = true;
	pthread_cond_broadcast(p->cond);
	pthread_mutex_unlock(p->lock);
}

void vcpu_pool_kick(struct vcpu_pool *p)
{
	for (uint32_t i = 0; p->slot && i < p->n; i++) {
		struct vcpu_slot *s = &p->slot[i];

		if (s->started && !atomic_load(&s->done))
			pthread_kill(s->thread, p->kick_signal);
	}
}

bool vcpu_pool_all_done(struct vcpu_pool *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (!atomic_load(&p->slot[i].done))
			return false;
	return true;
}

const uint64_t *vcpu_pool_times(struct vcpu_pool *p, uint64_t *ns)
{
	for (uint32_t i = 0; i < p->n; i++) {
		struct timespec ts = { 0 };
		clockid_t cid;

		if (!p->slot[i].started || pthread_getcpuclockid(p->slot[i].thread, &cid) ||
		    clock_gettime(cid, &ts))
			return NULL;
		ns[i] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return ns;
}

void vcpu_pool_join(struct vcpu_pool *p)
{
	for (uint32_t i = 0; p->slot && i < p->n; i++) {
		struct vcpu_slot *s = &p->slot[i];
		struct timespec ts;

		if (!s->started)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += VCPU_POOL_JOIN_S;
		if (pthread_timedjoin_np(s->thread, NULL, &ts) == ETIMEDOUT) {
			/* A vCPU that ignores kicks would hang the worker:
			 * report it and leave the thread and its fds alone. */
			kerr("%s: vCPU %u did not stop within %d s after the VM ended; leaving it",
			     p->who, i, VCPU_POOL_JOIN_S);
			s->leaked = true;
		}
		pthread_mutex_lock(p->lock);
		s->started = false;
		pthread_mutex_unlock(p->lock);
	}
}

void vcpu_pool_free(struct vcpu_pool *p)
{
	free(p->slot);
	p->slot = NULL;
	p->n = 0;
}
