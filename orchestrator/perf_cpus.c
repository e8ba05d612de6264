#include "perf_cpus.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/util.h>

int perf_cpus_pick(const cpu_set_t *usable, cpu_set_t *busy, unsigned need, uint32_t *out)
{
	unsigned have = 0, total = 0;

	if (!need)
		return -EINVAL;
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		total += CPU_ISSET(c, usable) ? 1 : 0;
	if (total < need)
		return -ENOSPC;
	for (unsigned c = 0; c < CPU_SETSIZE && have < need; c++)
		if (CPU_ISSET(c, usable) && !CPU_ISSET(c, busy))
			out[have++] = c;
	if (have < need)
		return -EBUSY;
	for (unsigned i = 0; i < need; i++)
		CPU_SET(out[i], busy);
	return 0;
}

void perf_cpus_release(cpu_set_t *busy, const uint32_t *cpus, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (cpus[i] < CPU_SETSIZE)
			CPU_CLR(cpus[i], busy);
}

void perf_cpus_init(struct perf_cpus *p, const cpu_set_t *usable)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&p->mu, NULL);
	/* CLOCK_MONOTONIC: a clock step neither ends a wait early nor
	 * stretches it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->freed, &ca);
	pthread_condattr_destroy(&ca);
	CPU_ZERO(&p->busy);
	if (usable) {
		p->usable = *usable;
	} else if (sched_getaffinity(0, sizeof(p->usable), &p->usable)) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&p->usable);
		for (long c = 0; c < n && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &p->usable);
	}
}

void perf_cpus_destroy(struct perf_cpus *p)
{
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->mu);
}

int perf_cpus_reserve(struct perf_cpus *p, unsigned need, uint32_t *out, uint32_t wait_ms,
		      volatile int *stop)
{
	uint64_t end = ktstr_now_ms() + wait_ms;
	int r;

	pthread_mutex_lock(&p->mu);
	while ((r = perf_cpus_pick(&p->usable, &p->busy, need, out)) == -EBUSY) {
		uint64_t now = ktstr_now_ms(), nap;
		struct timespec ts;

		if (stop && *stop) {
			r = -EINTR;
			break;
		}
		if (now >= end) {
			r = -ETIMEDOUT;
			break;
		}
		nap = end - now < PERF_CPUS_TICK_MS ? end - now : PERF_CPUS_TICK_MS;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(nap * 1000000);
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&p->freed, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

void perf_cpus_give(struct perf_cpus *p, const uint32_t *cpus, unsigned n)
{
	pthread_mutex_lock(&p->mu);
	perf_cpus_release(&p->busy, cpus, n);
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->mu);
}
