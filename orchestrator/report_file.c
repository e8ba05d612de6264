#include "report_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ktstr/util.h>

#include "safe_path.h"
#include "sandbox.h"

/* Whether user (NULL = us) may create files in dirfd: asked of a child
 * that becomes that user, so supplementary groups and ACLs count exactly as
 * they will after the drop. The child calls getpwnam/initgroups after a
 * fork; the only other thread by then is the stop watcher (stop.c), which
 * waits in sigwait holding no lock. */
static bool user_may_write(int dirfd, const char *user)
{
	char err[256];
	pid_t pid;
	int st;

	if (!user || geteuid() != 0)
		return faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) == 0;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		if (sandbox_drop_to_user(user, err, sizeof(err)))
			_exit(2);
		_exit(faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* A new, empty file of ours at a unique temporary name in dirfd. Returns
 * the fd and the name in tmp, or -errno. */
static int create_temp(int dirfd, const char *name, char *tmp, size_t len)
{
	for (int i = 0; i < 100; i++) {
		int fd;

		snprintf(tmp, len, ".%s.ktstr-%d-%d", name, (int)getpid(), i);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/* rf's directory and name for path; an existing non-regular file there is
 * refused. 0 (rf->dirfd owned) or -errno with err said. */
static int rf_parent(struct report_file *rf, const char *path, char *err, size_t errlen)
{
	struct stat st;

	rf->path = path;
	rf->fd = -1;
	rf->dirfd = safe_open_parent(path, rf->name, sizeof(rf->name), err, errlen);
	if (rf->dirfd < 0) {
		int ret = rf->dirfd;

		rf->dirfd = -1;
		return ret;
	}
	if (!fstatat(rf->dirfd, rf->name, &st, AT_SYMLINK_NOFOLLOW) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "%s exists and is %s; ktstr-orch replaces only regular files and never "
			 "writes through a link: remove it or name another file",
			 path, S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory"
							       : "not a regular file");
		close(rf->dirfd);
		rf->dirfd = -1;
		return -EEXIST;
	}
	return 0;
}

/* A fresh inode of ours, renamed into place now: rf->fd (owned). On
 * failure rf->fd stays -1, err is said; rf->dirfd is the caller's. */
static int rf_fresh(struct report_file *rf, const char *path, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 64];
	int ret;

	rf->fd = create_temp(rf->dirfd, rf->name, tmp, sizeof(tmp));
	if (rf->fd < 0) {
		ret = rf->fd;
		rf->fd = -1;
		snprintf(err, errlen, "cannot create a file in the directory of %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	if (renameat(rf->dirfd, tmp, rf->dirfd, rf->name)) {
		ret = -errno;
		snprintf(err, errlen, "cannot put the new %s in place: %s", path, strerror(-ret));
		unlinkat(rf->dirfd, tmp, 0);
		close(rf->fd);
		rf->fd = -1;
		return ret;
	}
	return 0;
}

int report_file_open(struct report_file *rf, const char *path, const char *user, char *err,
		     size_t errlen)
{
	int ret = rf_parent(rf, path, err, errlen);

	if (ret)
		return ret;
	if (user_may_write(rf->dirfd, user))
		return 0;
	/* Fallback: a fresh inode of root's, renamed into place now. */
	ret = rf_fresh(rf, path, err, errlen);
	if (ret) {
		close(rf->dirfd);
		rf->dirfd = -1;
	}
	return ret;
}

int report_file_open_stream(struct report_file *rf, const char *path, char *err, size_t errlen)
{
	int ret = rf_parent(rf, path, err, errlen);

	if (ret)
		return ret;
	ret = rf_fresh(rf, path, err, errlen);
	if (ret) {
		close(rf->dirfd);
		rf->dirfd = -1;
	}
	return ret;
}

int report_file_append(struct report_file *rf, const char *buf, size_t len)
{
	int ret;

	if (rf->fd < 0)
		return -EBADF;
	ret = write_full(rf->fd, buf, len);
	if (!ret && fdatasync(rf->fd))
		ret = -errno;
	return ret;
}

int report_file_write(struct report_file *rf, const char *buf, size_t len)
{
	char tmp[NAME_MAX + 64];
	int fd, ret;

	if (rf->dirfd < 0)
		return -EBADF;
	if (rf->fd >= 0) {
		/* Our own inode, made at open time: nothing else is behind it. */
		ret = ftruncate(rf->fd, 0) ? -errno : 0;
		if (!ret && lseek(rf->fd, 0, SEEK_SET) < 0)
			ret = -errno;
		if (!ret)
			ret = write_full(rf->fd, buf, len);
		if (!ret && fsync(rf->fd))
			ret = -errno;
		return ret;
	}
	fd = create_temp(rf->dirfd, rf->name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	ret = write_full(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(rf->dirfd, tmp, rf->dirfd, rf->name))
		ret = -errno;
	if (ret)
		unlinkat(rf->dirfd, tmp, 0);
	return ret;
}

void report_file_close(struct report_file *rf)
{
	if (rf->fd >= 0)
		close(rf->fd);
	if (rf->dirfd >= 0)
		close(rf->dirfd);
	rf->fd = rf->dirfd = -1;
}
