/* The holder: lock directory, record, --cpu-cap, and the bounded wait
 * every reservation goes through (hostres.h). */
#include "hostres_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "cli.h"
#include "stop.h"

/* /proc/self/stat field 22 (starttime, clock ticks since boot): with the
 * pid it names this process, not a later one given the same pid. */
static uint64_t self_start_ticks(void)
{
	char *text = NULL, *p;
	size_t len;
	uint64_t v = 0;

	if (read_file("/proc/self/stat", &text, &len, 4096))
		return 0;
	p = strrchr(text, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	free(text);
	return v;
}

static void self_cmd(char *out, size_t len)
{
	char *raw = NULL;
	size_t n = 0;

	if (read_file("/proc/self/cmdline", &raw, &n, 64 * 1024))
		snprintf(out, len, "ktstr-orch");
	else
		hostres_cmd_summary(raw, n, out, len);
	free(raw);
}

int hostres_open(struct hostres *h, const struct hostres_opts *o, char *err, size_t errlen)
{
	int ret;

	memset(h, 0, sizeof(*h));
	h->dirfd = h->admit_fd = h->holder_fd = -1;
	pthread_mutex_init(&h->mu, NULL);
	h->o = *o;
	ret = hostres_dir_path(h->dir, sizeof(h->dir), err, errlen);
	if (ret)
		return ret;
	h->dirfd = hostres_dir_open(h->dir, true, err, errlen);
	if (h->dirfd < 0)
		return h->dirfd;
	h->admit_fd = hostres_lockfile_open(h->dirfd, HOSTRES_ADMIT_LOCK, true, err, errlen);
	if (h->admit_fd < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "lock directory %s: %s", h->dir, why);
		return h->admit_fd;
	}
	hostres_topo_probe_at(o->sysroot ? o->sysroot : "", o->affinity, &h->topo);
	if (o->cap > cpuset_count(&h->topo.usable)) {
		char list[1024] = "";

		cpulist_format(&h->topo.usable, list, sizeof(list));
		snprintf(err, errlen, "--cpu-cap %u: this process may use only %u CPUs (%s)", o->cap,
			 cpuset_count(&h->topo.usable), list);
		return -ENOSPC;
	}
	h->rec.pid = (int32_t)getpid();
	h->rec.start_ticks = self_start_ticks();
	h->rec.cap = o->cap;
	self_cmd(h->rec.cmd, sizeof(h->rec.cmd));
	return 0;
}

int hostres_admit_lock(struct hostres *h, char *err, size_t errlen)
{
	uint32_t wait_ms = h->o.admit_wait_ms ? h->o.admit_wait_ms : HOSTRES_ADMIT_WAIT_MS;
	uint64_t end = ktstr_now_ms() + wait_ms;

	while (flock(h->admit_fd, LOCK_EX | LOCK_NB)) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		if (errno != EWOULDBLOCK && errno != EINTR) {
			int ret = -errno;

			snprintf(err, errlen, "flock %s/%s: %s", h->dir, HOSTRES_ADMIT_LOCK,
				 strerror(-ret));
			return ret;
		}
		if (ktstr_now_ms() >= end) {
			snprintf(err, errlen, "%s/%s has been held for %u ms (it is held for "
					      "milliseconds at a time): a stuck or hostile holder; "
					      "`fuser %s/%s` names it",
				 h->dir, HOSTRES_ADMIT_LOCK, wait_ms, h->dir, HOSTRES_ADMIT_LOCK);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

int hostres_wait(struct hostres *h, hostres_attempt_fn fn, void *arg, volatile int *stop,
		 const char *what, char *err, size_t errlen)
{
	uint64_t t0 = ktstr_now_ms(), deadline = t0 + (uint64_t)h->o.timeout_s * 1000;
	char why[2048] = "";
	bool waited = false;

	for (;;) {
		uint64_t now;
		int ret;

		pthread_mutex_lock(&h->mu);
		ret = hostres_admit_lock(h, err, errlen);
		if (ret) {
			pthread_mutex_unlock(&h->mu);
			return ret;
		}
		why[0] = '\0';
		ret = fn(h, arg, why, sizeof(why));
		flock(h->admit_fd, LOCK_UN);
		pthread_mutex_unlock(&h->mu);
		now = ktstr_now_ms();
		if (!ret && waited)
			kinfo("host reservation: %s: reserved after waiting %.1f s", what,
			      (double)(now - t0) / 1000);
		if (ret != -EBUSY) {
			if (ret)
				snprintf(err, errlen, "%s: %s", what, why);
			return ret;
		}
		if ((stop && *stop) || stop_signal()) {
			snprintf(err, errlen, "%s: stopped while waiting (%s)", what, why);
			return -EINTR;
		}
		if (now >= deadline) {
			snprintf(err, errlen, HOSTRES_CONTENTION "%s: still not free after waiting "
					      "%u s (--reserve-timeout): %s; `ktstr-orch locks` lists "
					      "the holders", what, h->o.timeout_s, why);
			return -ETIMEDOUT;
		}
		if (!waited)
			kinfo("host reservation: %s: waiting up to %u s: %s", what, h->o.timeout_s,
			      why);
		waited = true;
		uint64_t nap = deadline - now < HOSTRES_TICK_MS ? deadline - now : HOSTRES_TICK_MS;
		struct timespec ts = { 0, (long)nap * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

int hostres_take(struct hostres *h, const char *name, int op, int **fds, size_t *n, char *why,
		 size_t whylen)
{
	size_t cap = *n; /* the array holds exactly *n: grow by one each time */
	int fd = hostres_lockfile_open(h->dirfd, name, true, why, whylen);

	if (fd < 0)
		return fd;
	if (flock(fd, op | LOCK_NB)) {
		int ret = errno == EWOULDBLOCK ? -EBUSY : -errno;

		if (ret != -EBUSY)
			snprintf(why, whylen, "flock %s: %s", name, strerror(-ret));
		close(fd);
		return ret;
	}
	if (KTSTR_GROW(*fds, &cap, *n + 1, 1)) {
		close(fd);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	(*fds)[(*n)++] = fd;
	return 0;
}

void hostres_drop(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

void hostres_cpuset_del(struct cpuset_bits *s, const struct cpuset_bits *cpus)
{
	for (unsigned w = 0; w < CPUSET_WORDS; w++)
		s->w[w] &= ~cpus->w[w];
}

int hostres_write_record(struct hostres *h)
{
	char buf[HOSTRES_RECORD_SIZE];
	ssize_t n;

	if (hostres_record_format(&h->rec, buf))
		return -ENOSPC;
	n = pwrite(h->holder_fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

/* The record file, flock'ed before anyone may read it: it is created
 * under admit.lock, which every reader of records holds too. */
static int create_record(struct hostres *h, char *why, size_t whylen)
{
	int ret;

	h->holder_fd = hostres_holder_create(h->dirfd, h->holder_name, sizeof(h->holder_name),
					     why, whylen);
	if (h->holder_fd < 0) {
		ret = h->holder_fd;
		h->holder_fd = -1;
		return ret;
	}
	h->rec.since = (int64_t)time(NULL);
	ret = flock(h->holder_fd, LOCK_EX | LOCK_NB) ? -errno : hostres_write_record(h);
	if (ret) {
		snprintf(why, whylen, "holder record %s: %s", h->holder_name, strerror(-ret));
		unlinkat(h->dirfd, h->holder_name, 0);
		close(h->holder_fd);
		h->holder_fd = -1;
		return ret;
	}
	return 0;
}

static int attempt_cap(struct hostres *h, void *arg, char *why, size_t whylen)
{
	struct cpuset_bits cpus, llcs;
	struct hostres_view v;
	char name[HOSTRES_NAME_MAX];
	int ret = hostres_scan_view(h->dirfd, &h->topo, &v, why, whylen);

	(void)arg;
	if (ret)
		return ret;
	ret = hostres_place_cap(&h->topo, &v, h->o.cap, &cpus, &llcs);
	if (ret == -EBUSY) {
		hostres_why_cpus(h, "other holders have the CPUs", why, whylen);
		return ret;
	}
	if (ret) {
		snprintf(why, whylen, "this process may use only %u CPUs",
			 cpuset_count(&h->topo.usable));
		return ret;
	}
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS && !ret; c++) {
		if (cpuset_has(&cpus, c)) {
			hostres_cpu_lock_name(c, name, sizeof(name));
			ret = hostres_take(h, name, LOCK_EX, &h->cap_fds, &h->ncap_fds, why, whylen);
		}
		if (!ret && cpuset_has(&llcs, c)) {
			hostres_llc_lock_name(c, name, sizeof(name));
			ret = hostres_take(h, name, LOCK_SH, &h->cap_fds, &h->ncap_fds, why, whylen);
		}
	}
	if (ret == -EBUSY)
		snprintf(why, whylen, "a lock was taken between the scan and the reservation");
	if (!ret) {
		h->cap_cpus = cpus;
		h->rec.cpus = cpus;
		ret = create_record(h, why, whylen);
	}
	if (ret) {
		hostres_drop(h->cap_fds, h->ncap_fds);
		h->cap_fds = NULL;
		h->ncap_fds = 0;
		cpuset_clear_all(&h->cap_cpus);
		cpuset_clear_all(&h->rec.cpus);
	}
	return ret;
}

static int attempt_plain(struct hostres *h, void *arg, char *why, size_t whylen)
{
	(void)arg;
	return create_record(h, why, whylen);
}

int hostres_register(struct hostres *h, volatile int *stop, char *err, size_t errlen)
{
	char what[64], list[1024] = "";
	int ret;

	if (!h->o.cap)
		return hostres_wait(h, attempt_plain, NULL, stop, "holder record", err, errlen);
	snprintf(what, sizeof(what), "--cpu-cap %u", h->o.cap);
	ret = hostres_wait(h, attempt_cap, NULL, stop, what, err, errlen);
	if (ret)
		return ret;
	hostres_cap_list(h, list, sizeof(list));
	kinfo("host reservation: --cpu-cap %u: holding CPU%s %s%s (%s/%s); every VM worker is "
	      "pinned there", h->o.cap, h->o.cap > 1 ? "s" : "", list,
	      h->topo.llc_known ? "" : ", LLC layout unknown: each CPU counted as its own LLC",
	      h->dir, h->holder_name);
	return 0;
}

int hostres_start(struct hostres *h, const struct hostres_opts *o, const char *prog)
{
	char err[4096] = "";
	int ret = hostres_open(h, o, err, sizeof(err));

	if (!ret)
		ret = hostres_register(h, NULL, err, sizeof(err));
	if (!ret)
		return 0;
	fprintf(stderr, "%s: %s%s\n", prog,
		strncmp(err, HOSTRES_CONTENTION, strlen(HOSTRES_CONTENTION)) ? "host reservation: "
									      : "",
		err);
	return ret == -EINTR ? EXIT_INTERRUPTED : ret == -ENOSPC ? EXIT_USAGE : EXIT_INFRA;
}

void hostres_cap_list(const struct hostres *h, char *buf, size_t len)
{
	if (len && cpulist_format(&h->cap_cpus, buf, len) < 0)
		buf[0] = '\0';
}

void hostres_close(struct hostres *h)
{
	if (h->holder_fd >= 0) {
		/* Unlinked while still locked: no reader takes it for a
		 * dead holder's record in between. */
		unlinkat(h->dirfd, h->holder_name, 0);
		close(h->holder_fd);
		h->holder_fd = -1;
	}
	hostres_drop(h->cap_fds, h->ncap_fds);
	h->cap_fds = NULL;
	h->ncap_fds = 0;
	if (h->admit_fd >= 0)
		close(h->admit_fd);
	if (h->dirfd >= 0)
		close(h->dirfd);
	h->admit_fd = h->dirfd = -1;
	pthread_mutex_destroy(&h->mu);
}
