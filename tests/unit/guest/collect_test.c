/* worker_collect (guest/worker.c): how long PID 1 waits for silent workers.
 * Real children stand in for workers: a SIGSTOPped child is one a starving
 * scheduler never gives a CPU (its live counter does not move and it cannot
 * answer; unlike a starved task it dies at SIGKILL at once, which these
 * tests do not depend on); a child that keeps
 * counting but never reports is a busy worker that is merely slow. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktstr/util.h"
#include "reaper.h"
#include "worker.h"

static uint64_t *shared_counters(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

/* A child that counts in *live forever (never reports), or stops itself
 * after stop_after iterations (0: before the first). */
static void child_after(struct worker *w, uint64_t *live, bool stop_self, uint64_t stop_after);

static void child(struct worker *w, uint64_t *live, bool stop_self)
{
	child_after(w, live, stop_self, 0);
}

static void child_after(struct worker *w, uint64_t *live, bool stop_self, uint64_t stop_after)
{
	int fds[2];
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		for (;;) {
			if (stop_self && __atomic_load_n(live, __ATOMIC_RELAXED) >= stop_after)
				raise(SIGSTOP);
			__atomic_add_fetch(live, 1, __ATOMIC_RELAXED);
			usleep(1000);
		}
	}
	close(fds[1]);
	reaper_track(pid);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->report_fd = fds[0];
	w->live = live;
	w->live_at_start = __atomic_load_n(live, __ATOMIC_RELAXED);
}

Test(worker_collect, starved_workers_are_given_up_after_the_grace_not_the_deadline)
{
	uint64_t *live = shared_counters(), t0, took;
	struct worker a, b, *ws[2] = { &a, &b };

	child(&a, &live[0], true);
	child(&b, &live[1], true);
	usleep(50000);
	t0 = ktstr_now_ms();
	worker_collect(ws, 2, WORKER_COLLECT_MS);
	took = ktstr_now_ms() - t0;
	cr_assert_geq(took, WORKER_STUCK_GRACE_MS - 10);
	cr_assert_lt(took, WORKER_STUCK_GRACE_MS + 1500, "%llu ms: waited as for a live worker",
		     (unsigned long long)took);
	cr_assert(a.killed && b.killed && !a.have_report);
	/* Gone, reaped there or now: no child is left behind. */
	cr_assert(reaper_wait(a.pid, NULL, 5000) != -ETIMEDOUT);
	cr_assert(reaper_wait(b.pid, NULL, 5000) != -ETIMEDOUT);
	munmap(live, 4096);
}

Test(worker_collect, a_worker_that_makes_progress_gets_the_whole_deadline)
{
	uint64_t *live = shared_counters(), t0, took;
	struct worker a, b, *ws[2] = { &a, &b };

	child(&a, &live[0], true);  /* starved */
	child(&b, &live[1], false); /* running, slow to answer */
	usleep(50000);
	t0 = ktstr_now_ms();
	worker_collect(ws, 2, 2500);
	took = ktstr_now_ms() - t0;
	cr_assert_geq(took, 2500 - 10, "%llu ms: a live worker was cut short",
		      (unsigned long long)took);
	cr_assert(a.killed && b.killed);
	cr_assert(reaper_wait(a.pid, NULL, 5000) != -ETIMEDOUT);
	cr_assert(reaper_wait(b.pid, NULL, 5000) != -ETIMEDOUT);
	munmap(live, 4096);
}

/* Starved since some point in the scenario, not from its start: it moved,
 * then stopped moving before the stop request. Still nothing to wait for. */
Test(worker_collect, a_worker_starved_midway_is_given_up_after_the_grace_too)
{
	uint64_t *live = shared_counters(), t0, took;
	struct worker a, *ws[1] = { &a };

	child_after(&a, &live[0], true, 30);
	while (__atomic_load_n(&live[0], __ATOMIC_RELAXED) < 30)
		usleep(1000);
	usleep(50000);
	cr_assert_gt(live[0], a.live_at_start, "it ran during the scenario");
	t0 = ktstr_now_ms();
	worker_collect(ws, 1, WORKER_COLLECT_MS);
	took = ktstr_now_ms() - t0;
	cr_assert_lt(took, WORKER_STUCK_GRACE_MS + 1500, "%llu ms: waited as for a live worker",
		     (unsigned long long)took);
	cr_assert(a.killed);
	cr_assert(reaper_wait(a.pid, NULL, 5000) != -ETIMEDOUT);
	munmap(live, 4096);
}
