/* Reproducer for scx_userland's lost wake-up (tools/sched_ext, Linux 7.2.13;
 * docs/schedulers.md, "Known upstream bug"), without ktstr's scenario engine.
 *
 * Run inside a VM where scx_userland is attached (scripts/repro-scx-userland
 * does it with `ktstr-orch shell`): forks N CPU spinners, each gated on a
 * pipe; before releasing each one, the parent moves it into a cgroup of its
 * own pair (mkdir + write to cgroup.procs), as ktstr's guest does for its
 * workers. The cgroup writes and forks hand work to kthreads (rcu_preempt,
 * kworkers, kthreadd) that scx_userland schedules from user space; when that
 * leaves no user-space task running, the scheduler thread's wake-up is lost
 * and every CPU idles with runnable tasks until sched_ext's watchdog ejects
 * the scheduler. Then polls /sys/kernel/sched_ext/state every 50 ms for 40 s.
 *
 *   scx_userland_lost_wakeup N CGROUP_PREFIX|-
 * exit 0: still enabled after 40 s; 2: sched_ext left "enabled" (printed);
 * 1: setup failed. Static, no dependencies beyond libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

/* The spinner: waits (bounded) for its release byte, then burns CPU and
 * leaves a trace in the shared page so a debugger can see it ran. */
static void spinner(int rfd, volatile unsigned long *live, int i)
{
	struct pollfd pf = { .fd = rfd, .events = POLLIN };
	struct timespec ts;
	char go;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&pf, 1, 10000) != 1 || read(rfd, &go, 1) != 1)
		_exit(1);
	for (;;) {
		for (volatile unsigned long x = 0; x < 1024; x++)
			;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		live[i] = (unsigned long)sched_getcpu() + (unsigned long)ts.tv_nsec;
	}
}

/* mkdir PREFIX<i/2> for the first of each pair, then move pid into it. */
static void into_cgroup(const char *prefix, int i, pid_t pid)
{
	char path[512], v[32];
	int fd;

	snprintf(path, sizeof(path), "%s%d", prefix, i / 2);
	if (i % 2 == 0 && mkdir(path, 0755) && errno != EEXIST)
		perror(path);
	snprintf(path, sizeof(path), "%s%d/cgroup.procs", prefix, i / 2);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	snprintf(v, sizeof(v), "%d", (int)pid);
	if (fd < 0 || write(fd, v, strlen(v)) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	const char *cg = argc > 2 && strcmp(argv[2], "-") ? argv[2] : NULL;
	volatile unsigned long *live;
	double t0 = repro_now_s();
	char st[64];

	if (n < 1 || n > 64)
		return fprintf(stderr, "usage: %s N(1..64) CGROUP_PREFIX|-\n", argv[0]), 1;
	live = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (live == MAP_FAILED)
		return perror("mmap"), 1;
	for (int i = 0; i < n; i++) {
		int p[2];
		pid_t pid;

		if (pipe(p))
			return perror("pipe"), 1;
		pid = fork();
		if (pid < 0)
			return perror("fork"), 1;
		if (pid == 0) {
			close(p[1]);
			spinner(p[0], live, i);
		}
		close(p[0]);
		if (cg)
			into_cgroup(cg, i, pid);
		if (write(p[1], "g", 1) != 1)
			return perror("release"), 1;
		close(p[1]);
		printf("[%.3f] spinner %d released\n", repro_now_s() - t0, (int)pid);
	}
	fflush(stdout);
	for (int k = 0; k < 800; k++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		repro_scx_state(st, sizeof(st));
		if (strcmp(st, "enabled")) {
			printf("[%.3f] sched_ext state %s\n", repro_now_s() - t0, st);
			return 2;
		}
		if (k % 40 == 39) {
			printf("[%.3f] still enabled\n", repro_now_s() - t0);
			fflush(stdout);
		}
	}
	printf("[%.3f] survived\n", repro_now_s() - t0);
	return 0;
}
