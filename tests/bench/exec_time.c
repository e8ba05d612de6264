/* bench-exec_time: wall-clock time of a command, N runs, median. Used for
 * `ktstr-orch list --gauntlet SUITE` (planning time as a user sees it:
 * exec, suite parse, expansion, printing every variant).
 *
 * Each run: fork+exec (environment inherited), stdout into a memfd (so the
 * figure includes producing the whole listing, not a terminal's speed),
 * stderr to /dev/null, killed at --timeout-ms. Prints per-run ms and the
 * child's CPU (getrusage of reaped children), then the median; with
 * --show STR also the last stdout line of the last run containing STR.
 * Runs count when they exit with --expect-exit (default 0): a suite that
 * must be refused (exit 2) is timed as well as one that must pass.
 *
 *   bench-exec_time [-n N] [--timeout-ms T] [--show STR] [--expect-exit E] -- CMD [ARGS...] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "bench.h"

static uint64_t tv_us(const struct timeval *t)
{
	return (uint64_t)t->tv_sec * 1000000u + (uint64_t)t->tv_usec;
}

static uint64_t children_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru))
		return 0;
	return tv_us(&ru.ru_utime) + tv_us(&ru.ru_stime);
}

/* Run argv once with stdout into out_fd (truncated first). Returns 0 with
 * the wait status, or -errno / -ETIMEDOUT (killed and reaped). */
static int run(char *const argv[], int out_fd, int timeout_ms, int *status)
{
	pid_t pid;
	int rc, nul;

	if (ftruncate(out_fd, 0) || lseek(out_fd, 0, SEEK_SET) < 0)
		return -errno;
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(nul);
		return rc;
	}
	if (pid == 0) {
		if (dup2(nul, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(nul, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(nul);
	rc = ktstr_wait_timeout(pid, status, timeout_ms);
	if (rc == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		ktstr_wait_timeout(pid, status, 5000);
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "show", required_argument, NULL, 's' },
		{ "expect-exit", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned n = 10, timeout_ms = 60000;
	int expect_exit = 0;
	const char *show = NULL;
	uint64_t *wall, *cpu;
	size_t good = 0;
	int opt, out;

	while ((opt = getopt_long(argc, argv, "+n:", lo, NULL)) != -1) {
		switch (opt) {
		case 'n': n = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'T': timeout_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': show = optarg; break;
		case 'e': expect_exit = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (optind >= argc || !n || n > 10000)
		goto usage;
	out = memfd_create("bench-exec-stdout", MFD_CLOEXEC);
	wall = calloc(n, sizeof(uint64_t));
	cpu = calloc(n, sizeof(uint64_t));
	if (out < 0 || !wall || !cpu)
		return 2;
	printf("%-4s %10s %10s %s\n", "run", "wall_us", "cpu_us", "exit");
	for (unsigned i = 0; i < n; i++) {
		uint64_t c0 = children_cpu_us(), t0 = ktstr_now_us(), w;
		int status = 0, rc = run(argv + optind, out, (int)timeout_ms, &status);

		w = ktstr_now_us() - t0;
		if (rc) {
			printf("%-4u %10llu %10s %s\n", i, (unsigned long long)w, "-",
			       rc == -ETIMEDOUT ? "timeout" : strerror(-rc));
			continue;
		}
		printf("%-4u %10llu %10llu %d\n", i, (unsigned long long)w,
		       (unsigned long long)(children_cpu_us() - c0),
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		if (WIFEXITED(status) && WEXITSTATUS(status) == expect_exit) {
			wall[good] = w;
			cpu[good++] = children_cpu_us() - c0;
		}
	}
	if (show) {
		off_t len = lseek(out, 0, SEEK_END);
		char *buf = len > 0 ? malloc((size_t)len + 1) : NULL;
		char *last = NULL;

		if (buf && pread(out, buf, (size_t)len, 0) == len) {
			buf[len] = '\0';
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				if (strstr(line, show))
					last = line;
			printf("output: %s\n", last ? last : "(no matching line)");
		}
		free(buf);
	}
	printf("counted=%zu/%u\n", good, n);
	if (good) {
		bench_print_median("wall_us", wall, good);
		bench_print_median("cpu_us", cpu, good);
	}
	close(out);
	free(wall);
	free(cpu);
	return good ? 0 : 1;
usage:
	fprintf(stderr, "usage: %s [-n N] [--timeout-ms T] [--show STR] -- CMD [ARGS...]\n",
		argv[0]);
	return 2;
}
