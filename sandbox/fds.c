/* File descriptor hygiene. A confined process holds exactly the fds its role
 * was handed; anything else (an fd leaked by a parent, a library, a bug) is
 * authority the policy did not account for, so the check fails closed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "sandbox.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int fd_allowed(int fd, const int *allowed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (allowed[i] == fd)
			return 1;
	return 0;
}

/* Append "fd N -> target" to err (truncating quietly: the first offenders
 * are what the user needs). */
static void describe_fd(int fd, char *err, size_t len, size_t *used)
{
	char link[64], target[256];
	ssize_t t;
	int n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	t = readlink(link, target, sizeof(target) - 1);
	if (t < 0)
		snprintf(target, sizeof(target), "?");
	else
		target[t] = '\0';
	if (*used >= len)
		return;
	n = snprintf(err + *used, len - *used, "%sfd %d -> %s", *used ? ", " : "", fd, target);
	if (n > 0)
		*used += (size_t)n;
}

int sandbox_fd_inventory_check(const int *allowed, size_t n, char *err, size_t len)
{
	char found[768];
	size_t used = 0;
	unsigned leaked = 0;
	struct dirent *de;
	DIR *d;
	int dfd;

	found[0] = '\0';
	d = opendir("/proc/self/fd");
	if (!d) {
		int e = errno;

		snprintf(err, len,
			 "sandbox: fd inventory: cannot open /proc/self/fd: %s; mount /proc before "
			 "confinement",
			 strerror(e));
		return -e;
	}
	/* The directory stream's own fd is ours, not a leak. */
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char *end;
		long fd;

		if (de->d_name[0] == '.')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end || fd < 0 || fd == dfd)
			continue;
		if (fd_allowed((int)fd, allowed, n))
			continue;
		leaked++;
		describe_fd((int)fd, found, sizeof(found), &used);
	}
	closedir(d);
	if (leaked) {
		snprintf(err, len,
			 "sandbox: fd inventory: %u unexpected open fd(s): %s; the spawner must pass "
			 "only the fds this process needs and every open must use O_CLOEXEC",
			 leaked, found);
		return -EBADFD;
	}
	return 0;
}

int sandbox_fds_cloexec(char *err, size_t len)
{
	struct dirent *de;
	DIR *d;

	/* Linux 5.11+: one call, no /proc needed. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	d = opendir("/proc/self/fd");
	if (!d) {
		int e = errno;

		snprintf(err, len, "sandbox: cannot list /proc/self/fd to set close-on-exec: %s",
			 strerror(e));
		return -e;
	}
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end || fd < 3 || fd == dirfd(d))
			continue;
		int fl = fcntl((int)fd, F_GETFD);

		if (fl < 0 || fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
			int e = errno;

			closedir(d);
			snprintf(err, len, "sandbox: cannot set FD_CLOEXEC on fd %ld: %s", fd,
				 strerror(e));
			return -e;
		}
	}
	closedir(d);
	return 0;
}
