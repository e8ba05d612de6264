/* Helpers shared by the benchmark programs (tests/bench/ .c files). Static inline
 * because the Makefile turns every tests/bench/ .c file into its own binary: a
 * shared .c file would become a (useless) benchmark of its own. */
#ifndef KTSTR_BENCH_H
#define KTSTR_BENCH_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/memfd.h>
#include <ktstr/util.h>

#include "worker.pb-c.h"
#include "worker_client.h"

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

/* What one VM run through the real worker reported (see bench-vm's header
 * for the meaning of each figure). */
struct bench_sample {
	Ktstr__Outcome outcome;
	bool infra_error;
	uint64_t setup_us, start_cpu_us, main_cpu_us, worker_cpu_us, rss_kb;
	uint64_t boot_to_init_us, total_us, client_start_us;
	bool have_cpu;
	char kvm_kind[32], engine_detail[32], sandboxed[4];
	char error[512];
};

struct bench_run_ctx {
	struct worker_outcome *out;
	uint64_t t0_us, started_us, start_cpu_us, main_cpu_us;
	bool have_cpu;
};

/* VmStarted is sent right after the first KVM_RUN was issued / QEMU was
 * exec'd: read the worker's CPU now, before the run adds to it. The main
 * thread is where the engines set up (vCPU threads go straight to KVM_RUN),
 * so its figure is the host-side setup work alone. */
static inline void bench_on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct bench_run_ctx *c = ctx;
	pid_t pid;

	if (ev->ev_case != KTSTR__WORKER_EVENT__EV_STARTED)
		return;
	c->started_us = ktstr_now_us();
	pid = (pid_t)c->out->worker_pid;
	c->have_cpu = pid > 0 && !bench_proc_cpu_us(pid, &c->start_cpu_us) &&
		      !bench_thread_cpu_us(pid, pid, &c->main_cpu_us);
}

/* Run one VM through a fresh ktstr-vmm-worker (the orchestrator's own
 * client). kernel/initrd are opened afresh (a shared file offset must not
 * leak between runs). Returns 0 with *s filled, or -errno. */
static inline int bench_worker_run(const Ktstr__VmSpec *spec, const char *kernel,
				   const char *initrd, const char *worker, int logfd,
				   struct bench_sample *s)
{
	int kfd = open(kernel, O_RDONLY | O_CLOEXEC);
	int ifd = initrd ? open(initrd, O_RDONLY | O_CLOEXEC) : -1;
	struct worker_outcome out;
	struct bench_run_ctx ctx = { .out = &out };
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = ifd, .stdin_fd = -1,
				  .stdout_fd = -1 };
	struct worker_client_opts o = { .worker_path = worker, .stderr_fd = logfd,
					.grace_ms = 30000, .on_event = bench_on_event,
					.ctx = &ctx };
	const Ktstr__VmResult *r;
	int rc;

	memset(s, 0, sizeof(*s));
	/* As ktstr-orch hands QEMU runs their kernel (kernel_fd_for_vms): a
	 * sealed memfd, copied here, outside the worker's measured work. */
	if (kfd >= 0 && spec->engine == KTSTR__ENGINE__ENGINE_QEMU) {
		int m = memfd_sealed_copy("ktstr-kernel", kfd, KTSTR_KERNEL_IMAGE_MAX);

		close(kfd);
		kfd = m >= 0 ? m : -1;
		if (m < 0)
			errno = -m;
	}
	if (kfd < 0 || (initrd && ifd < 0)) {
		rc = -errno;
		if (kfd >= 0)
			close(kfd);
		return rc;
	}
	fds.kernel_fd = kfd; /* the memfd copy for QEMU runs */
	ctx.t0_us = ktstr_now_us();
	rc = worker_run_vm(spec, &fds, &o, &out);
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	if (rc)
		return rc;
	r = out.result;
	s->outcome = r->outcome;
	s->infra_error = out.infra_error;
	s->setup_us = r->setup_us;
	s->worker_cpu_us = r->worker_cpu_us;
	s->rss_kb = r->worker_rss_kb;
	s->boot_to_init_us = r->has_boot_to_init_us ? r->boot_to_init_us : 0;
	s->total_us = r->total_us;
	s->client_start_us = ctx.started_us ? ctx.started_us - ctx.t0_us : 0;
	s->have_cpu = ctx.have_cpu;
	s->start_cpu_us = ctx.start_cpu_us;
	s->main_cpu_us = ctx.main_cpu_us;
	snprintf(s->kvm_kind, sizeof(s->kvm_kind), "%s", out.kvm_kind[0] ? out.kvm_kind : "?");
	snprintf(s->engine_detail, sizeof(s->engine_detail), "%s",
		 r->engine_detail ? r->engine_detail : "?");
	snprintf(s->sandboxed, sizeof(s->sandboxed), "%s",
		 !r->has_sandboxed ? "?" : r->sandboxed ? "yes" : "no");
	if (r->error)
		snprintf(s->error, sizeof(s->error), "%s: %s", r->error->what ? r->error->what : "",
			 r->error->why ? r->error->why : "");
	worker_outcome_free(&out);
	return 0;
}

static inline void bench_print_median(const char *name, const uint64_t *v, size_t n)
{
	printf("median %-16s %10llu  (min %llu, max %llu, n=%zu)\n", name,
	       (unsigned long long)bench_median(v, n), (unsigned long long)bench_min(v, n),
	       (unsigned long long)bench_max(v, n), n);
}

#endif
