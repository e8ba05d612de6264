/* Telemetry for the work loops. Checkpoints happen once per iteration (not
 * every 1024 units as in the reference), so gaps are measured at the same
 * cadence for every type. */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "work_telem.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

unsigned long rnd(unsigned long *s)
{
	unsigned long x = *s ? *s : 88172645463325252ul;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void checkpoint(struct telem *t, uint64_t units)
{
	uint64_t now = now_ns(), gap = now - t->last_ns;
	int cpu = sched_getcpu();

	t->rep->work_units += units;
	t->rep->iterations++;
	if (t->live)
		__atomic_store_n(t->live, t->rep->iterations, __ATOMIC_RELAXED);
	if (cpu >= 0) {
		cpuset_add(&t->rep->cpus_used, (unsigned)cpu);
		if (t->last_cpu >= 0 && cpu != t->last_cpu)
			t->rep->migrations++;
		t->last_cpu = cpu;
	}
	if (gap > t->rep->max_gap_ns) {
		t->rep->max_gap_ns = gap;
		t->rep->max_gap_at_ns = now - t->start_ns;
		t->rep->max_gap_cpu = cpu >= 0 ? (uint32_t)cpu : 0;
	}
	t->last_ns = now;
}

void wake_sample(struct telem *t, uint64_t lat)
{
	t->rep->wake_sum_ns += (double)lat;
	t->rep->wake_sumsq_ns2 += (double)lat * (double)lat;
	if (t->nwake < WAKE_RESERVOIR) {
		t->wake[t->nwake] = lat;
	} else {
		uint64_t j = rnd(&t->rng) % (t->nwake + 1);

		if (j < WAKE_RESERVOIR)
			t->wake[j] = lat;
	}
	t->nwake++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted sample. */
static uint64_t pct(const uint64_t *v, uint64_t n, unsigned p)
{
	uint64_t rank = (n * p + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

void wake_finish(struct telem *t)
{
	uint64_t n = t->nwake < WAKE_RESERVOIR ? t->nwake : WAKE_RESERVOIR;

	if (!t->nwake)
		return;
	qsort(t->wake, n, sizeof(t->wake[0]), cmp_u64);
	t->rep->wake_samples = t->nwake;
	t->rep->wake_p50_ns = pct(t->wake, n, 50);
	t->rep->wake_p99_ns = pct(t->wake, n, 99);
}

void spin(uint32_t n)
{
	volatile uint64_t x = 1;

	for (uint32_t i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
}

void timed_sleep(struct telem *t, uint64_t d_ns)
{
	struct timespec ts = { (time_t)(d_ns / 1000000000ull), (long)(d_ns % 1000000000ull) };
	uint64_t before = now_ns(), after;

	nanosleep(&ts, NULL);
	after = now_ns();
	if (after - before >= d_ns)
		wake_sample(t, after - before - d_ns);
}

int futex_wait(uint32_t *addr, uint32_t val, long timeout_ns)
{
	struct timespec ts = { timeout_ns / 1000000000L, timeout_ns % 1000000000L };

	return syscall(SYS_futex, addr, FUTEX_WAIT, val, &ts, NULL, 0) ? -errno : 0;
}

void futex_wake(uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);
}

void set_err(struct worker_report *rep, int err, const char *what)
{
	rep->err = err;
	snprintf(rep->errmsg, sizeof(rep->errmsg), "%s: %s", what, strerror(-err));
}

void set_note(struct worker_report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->note[0])
		return;
	va_start(ap, fmt);
	vsnprintf(rep->note, sizeof(rep->note), fmt, ap);
	va_end(ap);
}
