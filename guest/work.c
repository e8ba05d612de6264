/* Work loops and their dispatch. Every loop body ends in checkpoint()
 * (work_telem.c), which is where telemetry is taken. Blocking calls are
 * bounded (WORK_WAIT_NS, 100 ms) so a stop request is seen even when a
 * partner has already stopped. The group types built on a shared futex
 * page are in work_sync.c, the ones that churn their own scheduling
 * attributes in work_churn.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "work.h"
#include "work_telem.h"
#include "work_types.h"

void work_cfg_defaults(struct work_cfg *c, const Ktstr__WorkSpec *s)
{
	memset(c, 0, sizeof(*c));
	c->rd_fd = c->wr_fd = -1;
	c->type = s ? s->type : KTSTR__WORK_TYPE__WORK_CPU_SPIN;
	c->spin_iters = s && s->has_spin_iters && s->spin_iters ? s->spin_iters : 1024;
	c->burst_ms = s && s->has_burst_ms && s->burst_ms ? s->burst_ms : 50;
	c->sleep_ms = s && s->has_sleep_ms && s->sleep_ms ? s->sleep_ms : 100;
	c->size_kb = s && s->has_size_kb && s->size_kb ? s->size_kb : 32;
	c->stride = s && s->has_stride && s->stride ? s->stride : 64;
	c->io_kb = s && s->has_io_kb && s->io_kb ? s->io_kb : 64;
	c->sleep_us = s && s->has_sleep_us && s->sleep_us ? s->sleep_us : 100;
	c->fan_out = s && s->has_fan_out && s->fan_out ? s->fan_out : 4;
	c->contenders = s && s->has_contenders && s->contenders ? s->contenders : 4;
	c->hold_iters = s && s->has_hold_iters && s->hold_iters ? s->hold_iters : 256;
	/* NiceSweep's unit is 512 spins in the reference (docs/reference.md,
	 * "Work-type defaults"). */
	if (c->type == KTSTR__WORK_TYPE__WORK_NICE_SWEEP &&
	    !(s && s->has_spin_iters && s->spin_iters))
		c->spin_iters = 512;
}

int work_supported(Ktstr__WorkType t)
{
	switch (t) {
	case KTSTR__WORK_TYPE__WORK_CPU_SPIN:
	case KTSTR__WORK_TYPE__WORK_YIELD_HEAVY:
	case KTSTR__WORK_TYPE__WORK_MIXED:
	case KTSTR__WORK_TYPE__WORK_IO_SYNC:
	case KTSTR__WORK_TYPE__WORK_BURSTY:
	case KTSTR__WORK_TYPE__WORK_PIPE_IO:
	case KTSTR__WORK_TYPE__WORK_FUTEX_PING_PONG:
	case KTSTR__WORK_TYPE__WORK_CACHE_PRESSURE:
	case KTSTR__WORK_TYPE__WORK_CACHE_YIELD:
	case KTSTR__WORK_TYPE__WORK_FORK_EXIT:
	case KTSTR__WORK_TYPE__WORK_AFFINITY_CHURN:
	case KTSTR__WORK_TYPE__WORK_PAGE_FAULT_CHURN:
	case KTSTR__WORK_TYPE__WORK_CACHE_PIPE:
	case KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT:
	case KTSTR__WORK_TYPE__WORK_NICE_SWEEP:
	case KTSTR__WORK_TYPE__WORK_POLICY_CHURN:
	case KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION:
		return 1;
	default:
		return 0;
	}
}

int work_uses_group(Ktstr__WorkType t)
{
	return t == KTSTR__WORK_TYPE__WORK_FUTEX_PING_PONG ||
	       t == KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT ||
	       t == KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION;
}

int work_uses_pipes(Ktstr__WorkType t)
{
	return t == KTSTR__WORK_TYPE__WORK_PIPE_IO || t == KTSTR__WORK_TYPE__WORK_CACHE_PIPE;
}

/* Pipe ping-pong: side 0 sends first. The payload is the sender's clock so
 * the receiver measures its own wake latency. A turn is spin_iters spins
 * (PipeIo) or, with buf (CachePipe), spin_iters strided writes into the
 * worker's own size_kb buffer, continuing where the last turn stopped so
 * the whole buffer is cycled through and a partner's turn can evict it. */
static void run_pipe(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t,
		     volatile uint8_t *buf, size_t len)
{
	size_t stride = c->stride ? c->stride : 64, pos = 0;
	int my_turn = c->side == 0;

	while (!*stop) {
		if (my_turn) {
			uint64_t stamp;

			if (buf) {
				for (uint32_t i = 0; i < c->spin_iters; i++) {
					buf[pos] = (uint8_t)(buf[pos] + 1);
					pos += stride;
					if (pos >= len)
						pos = 0;
				}
			} else {
				spin(c->spin_iters);
			}
			stamp = now_ns();
			if (write(c->wr_fd, &stamp, sizeof(stamp)) != sizeof(stamp)) {
				if (errno == EINTR)
					continue;
				break; /* partner gone: keep the telemetry so far */
			}
			my_turn = 0;
			checkpoint(t, c->spin_iters);
		} else {
			struct pollfd p = { .fd = c->rd_fd, .events = POLLIN };
			uint64_t stamp;

			if (poll(&p, 1, (int)(WORK_WAIT_NS / 1000000)) <= 0)
				continue;
			if (read(c->rd_fd, &stamp, sizeof(stamp)) != sizeof(stamp))
				break;
			wake_sample(t, now_ns() - stamp);
			my_turn = 1;
		}
	}
}

static void run_cache_pipe(const struct work_cfg *c, volatile sig_atomic_t *stop,
			   struct telem *t, struct worker_report *rep)
{
	size_t len = (size_t)c->size_kb * 1024;
	volatile uint8_t *buf = calloc(1, len);

	if (!buf) {
		set_err(rep, -ENOMEM, "CachePipe buffer");
		return;
	}
	run_pipe(c, stop, t, buf, len);
	free((void *)buf);
}

static void run_futex(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t)
{
	struct work_group *p = c->grp;
	uint32_t me = (uint32_t)c->side;

	while (!*stop) {
		uint32_t turn = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE);

		if (turn != me) {
			if (futex_wait(&p->word, turn, WORK_WAIT_NS) == 0 &&
			    __atomic_load_n(&p->word, __ATOMIC_ACQUIRE) == me)
				wake_sample(t, now_ns() - __atomic_load_n(&p->stamp_ns,
									 __ATOMIC_ACQUIRE));
			continue;
		}
		spin(c->spin_iters);
		__atomic_store_n(&p->stamp_ns, now_ns(), __ATOMIC_RELEASE);
		__atomic_store_n(&p->word, me ^ 1u, __ATOMIC_RELEASE);
		futex_wake(&p->word, 1);
		checkpoint(t, c->spin_iters);
	}
}

static void run_io(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t,
		   struct worker_report *rep)
{
	char path[64];
	size_t len = (size_t)c->io_kb * 1024;
	char *buf = malloc(len);
	int fd;

	snprintf(path, sizeof(path), "/tmp/ktstr-io-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !buf) {
		set_err(rep, fd < 0 ? -errno : -ENOMEM, "IoSync scratch file in /tmp");
		goto out;
	}
	unlink(path); /* nothing to clean up if we are killed */
	memset(buf, 0x5a, len);
	while (!*stop) {
		if (pwrite(fd, buf, len, 0) < 0 && errno != EINTR) {
			set_err(rep, -errno, "IoSync write");
			break;
		}
		fdatasync(fd);
		timed_sleep(t, (uint64_t)c->sleep_us * 1000);
		checkpoint(t, 1);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

static void run_cache(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t,
		      struct worker_report *rep, int yield)
{
	size_t len = (size_t)c->size_kb * 1024, stride = c->stride ? c->stride : 64;
	volatile uint8_t *buf = malloc(len);

	if (!buf) {
		set_err(rep, -ENOMEM, "CachePressure buffer");
		return;
	}
	while (!*stop) {
		for (size_t i = 0; i < len; i += stride)
			buf[i] = (uint8_t)(buf[i] + 1);
		if (yield)
			sched_yield();
		checkpoint(t, len / stride);
	}
	free((void *)buf);
}

static void run_page_fault(const struct work_cfg *c, volatile sig_atomic_t *stop,
			   struct telem *t, struct worker_report *rep)
{
	size_t len = 4096u * 1024u;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		set_err(rep, -errno, "PageFaultChurn mmap");
		return;
	}
	madvise(m, len, MADV_NOHUGEPAGE);
	while (!*stop) {
		for (unsigned i = 0; i < 256; i++)
			m[(rnd(&t->rng) % (len / 4096)) * 4096] = 1;
		spin(64);
		madvise(m, len, MADV_DONTNEED);
		checkpoint(t, 256);
	}
	munmap(m, len);
}

static void run_affinity_churn(const struct work_cfg *c, volatile sig_atomic_t *stop,
			       struct telem *t)
{
	unsigned cpus[CPUSET_WORDS * 64], n = 0;

	for (unsigned i = 0; i < CPUSET_WORDS * 64; i++)
		if (cpuset_has(&c->allowed, i))
			cpus[n++] = i;
	while (!*stop) {
		cpu_set_t set;

		spin(c->spin_iters);
		if (n) {
			CPU_ZERO(&set);
			CPU_SET(cpus[rnd(&t->rng) % n], &set);
			sched_setaffinity(0, sizeof(set), &set); /* EINVAL if cpuset shrank: fine */
		}
		checkpoint(t, c->spin_iters);
	}
}

void work_run(const struct work_cfg *c, volatile sig_atomic_t *stop, struct worker_report *rep)
{
	struct telem *t = calloc(1, sizeof(*t));
	uint64_t cpu0 = cpu_ns();

	memset(rep, 0, sizeof(*rep));
	rep->magic = WREPORT_MAGIC;
	rep->tid = (uint32_t)getpid();
	if (!t) {
		set_err(rep, -ENOMEM, "telemetry");
		return;
	}
	t->rep = rep;
	t->live = c->live_iters;
	t->rng = c->seed ^ (unsigned long)getpid();
	t->last_cpu = -1;
	t->start_ns = t->last_ns = now_ns();

	switch (c->type) {
	case KTSTR__WORK_TYPE__WORK_CPU_SPIN:
		while (!*stop) {
			spin(c->spin_iters);
			checkpoint(t, c->spin_iters);
		}
		break;
	case KTSTR__WORK_TYPE__WORK_YIELD_HEAVY:
		while (!*stop) {
			sched_yield();
			checkpoint(t, 1);
		}
		break;
	case KTSTR__WORK_TYPE__WORK_MIXED:
		while (!*stop) {
			spin(c->spin_iters);
			sched_yield();
			checkpoint(t, c->spin_iters);
		}
		break;
	case KTSTR__WORK_TYPE__WORK_IO_SYNC:
		run_io(c, stop, t, rep);
		break;
	case KTSTR__WORK_TYPE__WORK_BURSTY:
		while (!*stop) {
			uint64_t end = now_ns() + (uint64_t)c->burst_ms * 1000000ull;
			uint64_t units = 0;

			/* Checkpoint inside the burst too: a burst is long
			 * enough (50 ms) to hide a preemption gap otherwise. */
			while (!*stop && now_ns() < end) {
				spin(1024);
				units += 1024;
				checkpoint(t, 1024);
			}
			(void)units;
			if (*stop)
				break;
			timed_sleep(t, (uint64_t)c->sleep_ms * 1000000ull);
			t->last_ns = now_ns(); /* the sleep is not a scheduling gap */
		}
		break;
	case KTSTR__WORK_TYPE__WORK_PIPE_IO:
		run_pipe(c, stop, t, NULL, 0);
		break;
	case KTSTR__WORK_TYPE__WORK_CACHE_PIPE:
		run_cache_pipe(c, stop, t, rep);
		break;
	case KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT:
		work_run_fan_out(c, stop, t);
		break;
	case KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION:
		work_run_mutex(c, stop, t);
		break;
	case KTSTR__WORK_TYPE__WORK_NICE_SWEEP:
		work_run_nice_sweep(c, stop, t);
		break;
	case KTSTR__WORK_TYPE__WORK_POLICY_CHURN:
		work_run_policy_churn(c, stop, t);
		break;
	case KTSTR__WORK_TYPE__WORK_FUTEX_PING_PONG:
		run_futex(c, stop, t);
		break;
	case KTSTR__WORK_TYPE__WORK_CACHE_PRESSURE:
		run_cache(c, stop, t, rep, 0);
		break;
	case KTSTR__WORK_TYPE__WORK_CACHE_YIELD:
		run_cache(c, stop, t, rep, 1);
		break;
	case KTSTR__WORK_TYPE__WORK_FORK_EXIT:
		while (!*stop) {
			pid_t p = fork();

			if (p == 0)
				_exit(0);
			if (p > 0)
				waitpid(p, NULL, 0);
			checkpoint(t, 1);
		}
		break;
	case KTSTR__WORK_TYPE__WORK_AFFINITY_CHURN:
		run_affinity_churn(c, stop, t);
		break;
	case KTSTR__WORK_TYPE__WORK_PAGE_FAULT_CHURN:
		run_page_fault(c, stop, t, rep);
		break;
	default:
		set_err(rep, -EOPNOTSUPP, "work type not implemented in this guest");
		break;
	}

	rep->wall_ns = now_ns() - t->start_ns;
	rep->cpu_ns = cpu_ns() - cpu0;
	wake_finish(t);
	free(t);
}
