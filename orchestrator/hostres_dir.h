/* The lock directory every ktstr-orch on a host shares (docs/farms.md,
 * docs/security.md "The lock directory").
 *
 * Locks are flock(2) on files in it: the kernel drops a lock the moment
 * its holder dies, kill -9 included, so nothing ever has to be cleaned up
 * for a waiter to go on. flock is only as good as the filesystem's: NFS
 * emulates it with byte-range locks held on the server, CIFS/SMB, CephFS,
 * AFS and FUSE each in their own way, and a lock there may outlive a dead
 * holder or not exclude another host's process at all; those are refused.
 *
 * The default directory is in /tmp, where anyone may plant files first:
 * nothing here follows a link, blocks on a FIFO, writes a file it did not
 * create this moment, or trusts a directory others could rename files in
 * without the sticky bit. */
#ifndef KTSTR_ORCH_HOSTRES_DIR_H
#define KTSTR_ORCH_HOSTRES_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define HOSTRES_DIR_ENV "KTSTR_LOCK_DIR"
#define HOSTRES_DIR_DEFAULT "/tmp/ktstr-locks"
/* Created as /tmp itself is: everyone may add locks, only a file's owner
 * may remove or rename it (sticky). */
#define HOSTRES_DIR_MODE 01777
/* Lock and record files: readable by every co-tenant (`locks`, flock). */
#define HOSTRES_FILE_MODE 0644
#define HOSTRES_NAME_MAX 64

/* The directory: $KTSTR_LOCK_DIR (an absolute path) or the default.
 * Returns 0, or -EINVAL / -ENAMETOOLONG with err. */
int hostres_dir_path(char *buf, size_t len, char *err, size_t errlen);
/* Open path as the lock directory (creating it HOSTRES_DIR_MODE when
 * create and missing) and vet it: a directory (no link followed), on a
 * local filesystem, passing hostres_dir_vet. Returns the fd (O_DIRECTORY,
 * close-on-exec; the caller closes it) or -errno with err naming the path,
 * the reason and the fix. -ENOENT when missing and !create. */
int hostres_dir_open(const char *path, bool create, char *err, size_t errlen);
/* Why this directory must not hold locks (group or other may write it but
 * it is not sticky: anyone could replace a lock file another holds), or
 * NULL when it may. */
const char *hostres_dir_vet(const struct stat *st);
/* The name of the network or user-space filesystem f_type (statfs) is,
 * whose flock ktstr does not trust, or NULL. */
const char *hostres_fs_refused(unsigned long f_type);
/* Open lock file name in dirfd read-only (flock needs no more), creating
 * it HOSTRES_FILE_MODE when missing and create (else -ENOENT). Never follows a link, never waits on a
 * FIFO; refuses anything but a regular file with one link. Returns the fd
 * (close-on-exec; the caller closes it, which drops its flock) or -errno
 * with err. */
int hostres_lockfile_open(int dirfd, const char *name, bool create, char *err, size_t errlen);
/* Create a fresh record file "holder-PID-RANDOM.lock" (O_EXCL: never one
 * planted before) for writing; its name into name. Returns the fd (owned
 * by the caller) or -errno with err. */
int hostres_holder_create(int dirfd, char *name, size_t namelen, char *err, size_t errlen);

#endif
