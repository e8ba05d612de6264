#include "hostres_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

void hostres_cpu_lock_name(unsigned cpu, char *buf, size_t len)
{
	snprintf(buf, len, "cpu-%u.lock", cpu);
}

void hostres_llc_lock_name(unsigned llc, char *buf, size_t len)
{
	snprintf(buf, len, "llc-%u.lock", llc);
}

/* 0 free, 1 held shared, 2 held exclusively; -errno. A missing file is a
 * lock nobody holds. */
static int probe_lock(int dirfd, const char *name, char *err, size_t errlen)
{
	int fd = hostres_lockfile_open(dirfd, name, false, err, errlen);
	int state;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (!flock(fd, LOCK_EX | LOCK_NB))
		state = 0;
	else if (errno != EWOULDBLOCK)
		state = -errno;
	else if (!flock(fd, LOCK_SH | LOCK_NB))
		state = 1;
	else
		state = errno == EWOULDBLOCK ? 2 : -errno;
	close(fd); /* drops the probe's own lock */
	if (state < 0)
		snprintf(err, errlen, "flock %s: %s", name, strerror(-state));
	return state;
}

int hostres_scan_view(int dirfd, const struct hostres_topo *t, struct hostres_view *v, char *err,
		      size_t errlen)
{
	struct cpuset_bits llcs;
	char name[HOSTRES_NAME_MAX];

	memset(v, 0, sizeof(*v));
	cpuset_clear_all(&llcs);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++) {
		int st;

		if (!cpuset_has(&t->online, c))
			continue;
		cpuset_add(&llcs, t->llc_of[c]);
		hostres_cpu_lock_name(c, name, sizeof(name));
		st = probe_lock(dirfd, name, err, errlen);
		if (st < 0)
			return st;
		if (st)
			cpuset_add(&v->cpu_held, c);
	}
	for (unsigned l = 0; l < HOSTRES_MAX_CPUS; l++) {
		int st;

		if (!cpuset_has(&llcs, l))
			continue;
		hostres_llc_lock_name(l, name, sizeof(name));
		st = probe_lock(dirfd, name, err, errlen);
		if (st < 0)
			return st;
		if (st == 1)
			cpuset_add(&v->llc_shared, l);
		else if (st == 2)
			cpuset_add(&v->llc_excl, l);
	}
	return 0;
}

static bool holder_name(const char *n)
{
	size_t l = strlen(n);

	return !strncmp(n, "holder-", 7) && l > 12 && l < HOSTRES_NAME_MAX &&
	       !strcmp(n + l - 5, ".lock");
}

/* One record file: 1 live (h filled), 0 not a live holder, -errno. */
static int read_holder(int dirfd, const char *name, bool reap, struct hostres_holder *h)
{
	char buf[HOSTRES_RECORD_SIZE + 1];
	struct stat st;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	/* Gone, a link, or unreadable: ktstr-orch writes its records 0644
	 * whatever the umask, so an unreadable one was planted; skipping it
	 * keeps one co-tenant's file from failing everyone's admission. */
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == EACCES || errno == EPERM
			       ? 0
			       : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		/* Nobody holds it: its writer is gone. */
		if (reap && st.st_uid == geteuid())
			unlinkat(dirfd, name, 0);
		close(fd);
		return 0;
	}
	memset(h, 0, sizeof(*h));
	h->uid = st.st_uid;
	snprintf(h->name, sizeof(h->name), "%s", name);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0)
		snprintf(h->why, sizeof(h->why), "unreadable: %s", strerror(errno));
	else
		h->ok = !hostres_record_parse(buf, (size_t)n, &h->rec, h->why, sizeof(h->why));
	return 1;
}

int hostres_scan_holders(int dirfd, const char *self, bool reap, struct hostres_holder **out,
			 size_t *n, char *err, size_t errlen)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t cap = 0, entries = 0, records = 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot list the lock directory: %s", strerror(-ret));
		return ret;
	}
	while ((de = readdir(d))) {
		if (++entries > HOSTRES_DIR_ENTRIES_MAX) {
			snprintf(err, errlen, "the lock directory holds more than %d entries: "
					      "remove what is not ktstr's", HOSTRES_DIR_ENTRIES_MAX);
			ret = -E2BIG;
			goto err_free;
		}
		if (!holder_name(de->d_name) || (self && !strcmp(de->d_name, self)))
			continue;
		if (++records > HOSTRES_HOLDERS_MAX) {
			snprintf(err, errlen, "more than %d holder records in the lock directory: "
					      "remove the dead ones (`ktstr-orch locks` lists the "
					      "live)", HOSTRES_HOLDERS_MAX);
			ret = -E2BIG;
			goto err_free;
		}
		if (KTSTR_GROW(*out, &cap, *n + 1, 8)) {
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory reading holder records");
			goto err_free;
		}
		ret = read_holder(dirfd, de->d_name, reap, &(*out)[*n]);
		if (ret < 0) {
			snprintf(err, errlen, "holder record %s: %s", de->d_name, strerror(-ret));
			goto err_free;
		}
		*n += (size_t)ret;
		ret = 0;
	}
	closedir(d);
	return 0;

err_free:
	closedir(d);
	free(*out);
	*out = NULL;
	*n = 0;
	return ret;
}
