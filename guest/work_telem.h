/* Telemetry and primitives shared by the work loops (work.c, work_sync.c,
 * work_churn.c): the checkpoint taken once per iteration, wake-latency
 * sampling, the spin unit, bounded futex calls. Internal to the worker
 * process; PID 1 only sees the resulting struct worker_report. */
#ifndef KTSTR_GUEST_WORK_TELEM_H
#define KTSTR_GUEST_WORK_TELEM_H

#include <stdint.h>

#include "wreport.h"

#define WAKE_RESERVOIR 4096
/* Longest single block in any loop: a stop request (or a partner that has
 * stopped) is noticed within this. */
#define WORK_WAIT_NS (100 * 1000 * 1000L)

struct telem {
	uint64_t start_ns, last_ns;
	int last_cpu;
	struct worker_report *rep;
	uint64_t *live;
	uint64_t wake[WAKE_RESERVOIR];
	uint64_t nwake;
	unsigned long rng;
};

uint64_t now_ns(void);
uint64_t cpu_ns(void);
unsigned long rnd(unsigned long *s);
/* One iteration done: units of work, gap, CPU, migration bookkeeping. */
void checkpoint(struct telem *t, uint64_t units);
/* Reservoir sampling (algorithm R) keeps a uniform sample of every wake. */
void wake_sample(struct telem *t, uint64_t lat);
/* Sort the sample and fill the report's wake percentiles. */
void wake_finish(struct telem *t);
void spin(uint32_t n);
/* Sleep d_ns and record how late the wake-up was. */
void timed_sleep(struct telem *t, uint64_t d_ns);
/* Shared (not _PRIVATE) futex ops: the words live in MAP_SHARED pages of
 * forked processes. futex_wait blocks at most timeout_ns; 0 = woken,
 * -errno otherwise (EAGAIN: value already changed, ETIMEDOUT, EINTR). */
int futex_wait(uint32_t *addr, uint32_t val, long timeout_ns);
void futex_wake(uint32_t *addr, int n);
void set_err(struct worker_report *rep, int err, const char *what);
/* Record a non-fatal note (first one wins): the worker kept running. */
void set_note(struct worker_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
