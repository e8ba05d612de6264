/* Helpers shared by the benchmark programs (tests/bench/ .c files). Static inline
 * because the Makefile turns every tests/bench/ .c file into its own binary: a
 * shared .c file would become a (useless) benchmark of its own. */
#ifndef KTSTR_BENCH_H
#define KTSTR_BENCH_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.pb-c.h"

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of n values (sorts a copy; the mean of the middle two for even n).
 * 0 for n == 0. */
static inline uint64_t bench_median(const uint64_t *v, size_t n)
{
	uint64_t *c, m;

	if (!n || !(c = malloc(n * sizeof(*c))))
		return 0;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), bench_cmp_u64);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

static inline uint64_t bench_min(const uint64_t *v, size_t n)
{
	uint64_t m = n ? v[0] : 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static inline uint64_t bench_max(const uint64_t *v, size_t n)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* CPU time (us) one thread has used, from /proc/PID/task/TID/schedstat
 * (nanosecond resolution, unlike utime/stime in ticks, which are 10 ms here
 * and too coarse for a 5 ms budget). Returns 0 or -errno. */
static inline int bench_thread_cpu_us(pid_t pid, pid_t tid, uint64_t *us)
{
	char path[96], buf[128];
	unsigned long long ns;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%llu", &ns) == 1;
	fclose(f);
	if (!ok)
		return -EIO;
	*us = ns / 1000;
	return 0;
}

/* Sum of bench_thread_cpu_us over every live thread of pid. */
static inline int bench_proc_cpu_us(pid_t pid, uint64_t *us)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	*us = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		uint64_t t = 0;

		if (d->d_name[0] == '.')
			continue;
		if (!bench_thread_cpu_us(pid, (pid_t)atoi(d->d_name), &t)) {
			*us += t;
			n++;
		}
	}
	closedir(dir);
	return n ? 0 : -ESRCH;
}

static inline const char *bench_outcome_name(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);

	return v ? v->name : "?";
}

/* <dir of this executable>/../bin/NAME: the bench binaries live in
 * $(BUILD)/tests, the product's binaries in $(BUILD)/bin. */
static inline int bench_sibling_bin(const char *name, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/../bin/%s", self, name) >= len)
		return -ENAMETOOLONG;
	return access(buf, X_OK) ? -errno : 0;
}

#endif
