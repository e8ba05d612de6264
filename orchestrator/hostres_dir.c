#include "hostres_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "safe_path.h"

int hostres_dir_path(char *buf, size_t len, char *err, size_t errlen)
{
	const char *env = getenv(HOSTRES_DIR_ENV);
	const char *p = env && *env ? env : HOSTRES_DIR_DEFAULT;

	if (p[0] != '/') {
		snprintf(err, errlen, "%s=%s: the lock directory must be an absolute path",
			 HOSTRES_DIR_ENV, p);
		return -EINVAL;
	}
	/* Room for "/holder-PID-RANDOM.lock" in messages and for PATH_MAX. */
	if (strlen(p) + HOSTRES_NAME_MAX + 2 > len) {
		snprintf(err, errlen, "%s: the lock directory's path is longer than %zu bytes",
			 HOSTRES_DIR_ENV, len - HOSTRES_NAME_MAX - 2);
		return -ENAMETOOLONG;
	}
	snprintf(buf, len, "%s", p);
	return 0;
}

const char *hostres_fs_refused(unsigned long f_type)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} deny[] = {
		{ NFS_SUPER_MAGIC, "NFS" },   { SMB_SUPER_MAGIC, "SMB" },
		{ CIFS_SUPER_MAGIC, "CIFS" }, { SMB2_SUPER_MAGIC, "SMB2" },
		{ CEPH_SUPER_MAGIC, "CephFS" }, { AFS_SUPER_MAGIC, "AFS" },
		{ AFS_FS_MAGIC, "AFS" },      { FUSE_SUPER_MAGIC, "FUSE" },
	};

	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if ((uint32_t)f_type == (uint32_t)deny[i].magic)
			return deny[i].name;
	return NULL;
}

const char *hostres_dir_vet(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return "group or others may write it but it is not sticky (chmod +t): anyone could "
		       "remove a lock file another run holds and take its CPUs twice";
	return NULL;
}

/* mkdir the last component of path in parent, then make it 01777 whatever
 * the umask: only when this call created it (EEXIST: someone else's). */
static int make_dir(int parent, const char *name)
{
	int fd;

	if (mkdirat(parent, name, 0700))
		return errno == EEXIST ? 0 : -errno;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, HOSTRES_DIR_MODE)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	close(fd);
	return 0;
}

int hostres_dir_open(const char *path, bool create, char *err, size_t errlen)
{
	char name[256], why[512];
	struct statfs sfs;
	struct stat st;
	const char *bad;
	int parent, fd, ret;

	parent = safe_open_parent(path, name, sizeof(name), why, sizeof(why));
	if (parent < 0) {
		snprintf(err, errlen, "lock directory %s: %s; set %s to a local directory",
			 path, why, HOSTRES_DIR_ENV);
		return parent;
	}
	ret = create ? make_dir(parent, name) : 0;
	fd = ret ? ret : openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (!ret && fd < 0)
		ret = -errno;
	close(parent);
	if (ret) {
		snprintf(err, errlen, "lock directory %s: %s%s; set %s to a directory you may "
				      "write", path, strerror(-ret),
			 ret == -ELOOP || ret == -ENOTDIR ? " (a link or a file is there, not a "
							    "directory: not followed)" : "",
			 HOSTRES_DIR_ENV);
		return ret;
	}
	if (fstat(fd, &st) || fstatfs(fd, &sfs)) {
		ret = -errno;
		snprintf(err, errlen, "lock directory %s: %s", path, strerror(-ret));
		goto err_close;
	}
	if ((bad = hostres_dir_vet(&st))) {
		ret = -EPERM;
		snprintf(err, errlen, "lock directory %s (owner uid %u, mode %04o): %s; fix its "
				      "mode or set %s", path, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777), bad, HOSTRES_DIR_ENV);
		goto err_close;
	}
	if ((bad = hostres_fs_refused((unsigned long)sfs.f_type))) {
		ret = -EXDEV;
		snprintf(err, errlen, "lock directory %s is on %s: flock there may outlive a dead "
				      "holder or not exclude other hosts; set %s to a local "
				      "directory (tmpfs, ext4, xfs, btrfs)", path, bad, HOSTRES_DIR_ENV);
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

static int vet_file(int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st)) {
		int ret = -errno;

		snprintf(err, errlen, "lock file %s: %s", name, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		snprintf(err, errlen, "lock file %s is %s (owner uid %u): not a lock ktstr made; "
				      "remove it or set %s", name,
			 !S_ISREG(st.st_mode) ? "not a regular file" : "a hard link",
			 (unsigned)st.st_uid, HOSTRES_DIR_ENV);
		return -EPERM;
	}
	return 0;
}

int hostres_lockfile_open(int dirfd, const char *name, bool create, char *err, size_t errlen)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

	/* Open first, create only when missing: in a sticky world-writable
	 * directory O_CREAT on another user's file is refused
	 * (fs.protected_regular), and a race with a co-tenant creating the
	 * same lock ends in one of the two opens; three rounds bound it. */
	for (int round = 0; round < 3; round++) {
		int fd = openat(dirfd, name, flags);

		if (fd < 0 && errno == ENOENT && !create)
			return -ENOENT;
		if (fd < 0 && errno == ENOENT) {
			fd = openat(dirfd, name, flags | O_CREAT | O_EXCL, HOSTRES_FILE_MODE);
			/* The umask may have taken read access from co-tenants, who
			 * could then never lock it (nor remove it: sticky dir). */
			if (fd >= 0 && fchmod(fd, HOSTRES_FILE_MODE)) {
				int ret = -errno;

				snprintf(err, errlen, "lock file %s: %s", name, strerror(-ret));
				close(fd);
				return ret;
			}
		}
		if (fd >= 0) {
			int ret = vet_file(fd, name, err, errlen);

			if (ret) {
				close(fd);
				return ret;
			}
			return fd;
		}
		if (errno != EEXIST && errno != ENOENT) {
			int ret = -errno;

			snprintf(err, errlen, "lock file %s: %s%s", name, strerror(-ret),
				 ret == -ELOOP	 ? " (a symbolic link: not followed; remove it)"
				 : ret == -EACCES ? "; set " HOSTRES_DIR_ENV " to a directory you may "
						    "write"
						  : "");
			return ret;
		}
	}
	snprintf(err, errlen, "lock file %s: created and removed by someone else three times in "
			      "a row", name);
	return -EAGAIN;
}

int hostres_holder_create(int dirfd, char *name, size_t namelen, char *err, size_t errlen)
{
	for (int round = 0; round < 8; round++) {
		uint32_t rnd = 0;
		int fd;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint32_t)rand() ^ (uint32_t)getpid() << 8 ^ (uint32_t)round;
		snprintf(name, namelen, "holder-%d-%08x.lock", (int)getpid(), rnd);
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    HOSTRES_FILE_MODE);
		if (fd >= 0) {
			/* The umask may have taken read access from co-tenants. */
			if (fchmod(fd, HOSTRES_FILE_MODE)) {
				int ret = -errno;

				snprintf(err, errlen, "holder record %s: %s", name, strerror(-ret));
				unlinkat(dirfd, name, 0);
				close(fd);
				return ret;
			}
			return fd;
		}
		if (errno != EEXIST) {
			int ret = -errno;

			snprintf(err, errlen, "cannot create the holder record %s: %s%s", name,
				 strerror(-ret), ret == -EACCES ? "; set " HOSTRES_DIR_ENV " to a "
								  "directory you may write" : "");
			return ret;
		}
	}
	snprintf(err, errlen, "cannot create a holder record: 8 fresh names were all taken");
	return -EEXIST;
}
