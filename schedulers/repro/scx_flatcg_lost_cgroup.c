/* Reproducer for scx_flatcg's lost cgroup (tools/sched_ext, Linux 7.2.13;
 * docs/schedulers.md, "Known upstream bug: scx_flatcg"), without ktstr's
 * scenario engine.
 *
 * The race: fcg_enqueue() queues a task with scx_bpf_dsq_insert_vtime(),
 * which sched_ext performs only after ops.enqueue returns, then calls
 * cgrp_enqueued(), whose cmpxchg(queued, 0, 1) fails while another CPU's
 * try_pick_next_cgroup() holds the cgroup it just popped and found empty.
 * That CPU then clears queued and checks scx_bpf_dsq_nr_queued(), which is
 * still 0 because the insert has not happened yet, and stashes the cgroup
 * off the tree. The task lands in the cgroup's DSQ with its cgroup on no
 * tree: nothing dispatches it until another task of that cgroup goes
 * through fcg_enqueue, and a lone task's never does. sched_ext's watchdog
 * ejects the scheduler ("runnable task stall") after 30 s.
 *
 * Run inside a VM where scx_flatcg is attached (scripts/repro-scx-flatcg):
 * one spinner per CPU in cgroup PREFIX/busy (so wake-ups find no idle CPU
 * and take the cgroup-DSQ path), and one victim alone in PREFIX/victim that
 * sleeps 0-199 us in a loop and records the longest gap between two of its
 * iterations. Polls /sys/kernel/sched_ext/state every 50 ms for SECS s.
 *
 *   scx_flatcg_lost_cgroup CGROUP_PREFIX SECS
 * exit 0: still enabled after SECS; 2: sched_ext left "enabled" (printed,
 * with the victim's longest gap); 1: setup failed. Static, libc only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repro.h"

static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int move_to(const char *cg, pid_t pid)
{
	char path[512], num[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(num, sizeof(num), "%d", (int)pid);
	return put(path, num);
}

/* Shared with the victim: its longest gap between two loop iterations and
 * when it last ran, so the parent can tell a victim stuck right now. */
struct shared {
	double max_gap_us, last_run;
	pid_t pid;
};
static volatile struct shared *sh;

static void victim(void)
{
	double last = repro_now_s();
	unsigned seed = (unsigned)getpid();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		struct timespec ts = { 0, (long)(rand_r(&seed) % 200) * 1000 };
		double t;

		nanosleep(&ts, NULL);
		t = repro_now_s();
		if ((t - last) * 1e6 > sh->max_gap_us)
			sh->max_gap_us = (t - last) * 1e6;
		sh->last_run = last = t;
	}
}

static void spinner(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (volatile unsigned long i = 0;; i++)
		;
}

int main(int argc, char **argv)
{
	char busy[256], vic[256], state[64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double t0, secs;
	pid_t pid;

	if (argc != 3 || ncpu < 1) {
		fprintf(stderr, "usage: %s CGROUP_PREFIX SECS\n", argv[0]);
		return 1;
	}
	secs = atof(argv[2]);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	sh->max_gap_us = 0;
	sh->last_run = repro_now_s();
	snprintf(busy, sizeof(busy), "%s/busy", argv[1]);
	snprintf(vic, sizeof(vic), "%s/victim", argv[1]);
	if ((mkdir(busy, 0755) && errno != EEXIST) || (mkdir(vic, 0755) && errno != EEXIST)) {
		perror("mkdir");
		return 1;
	}
	for (long i = 0; i < ncpu; i++) {
		pid = fork();
		if (pid == 0)
			spinner();
		if (pid < 0 || move_to(busy, pid)) {
			perror("spinner");
			return 1;
		}
	}
	pid = fork();
	if (pid == 0)
		victim();
	if (pid < 0 || move_to(vic, pid)) {
		perror("victim");
		return 1;
	}
	sh->pid = pid;
	printf("REPRO: %ld spinners in %s, victim pid %d alone in %s, %.0f s\n", ncpu, busy,
	       (int)pid, vic, secs);
	fflush(stdout);
	t0 = repro_now_s();
	while (repro_now_s() - t0 < secs) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		repro_scx_state(state, sizeof(state));
		if (strcmp(state, "enabled")) {
			printf("REPRO: sched_ext state \"%s\" after %.1f s; the victim (pid %d) last "
			       "ran %.0f ms before, its longest wait until then %.0f ms\n",
			       state, repro_now_s() - t0, (int)sh->pid,
			       (repro_now_s() - sh->last_run) * 1000,
			       sh->max_gap_us / 1000);
			return 2;
		}
	}
	printf("REPRO: still enabled after %.0f s; the victim's longest wait was %.1f ms\n", secs,
	       sh->max_gap_us / 1000);
	return 0;
}
