/* Landlock (Linux >= 5.13): path-based limits that seccomp cannot express
 * (seccomp sees an openat's dirfd and flags, never its path). A ruleset
 * handles every filesystem right this kernel's Landlock ABI knows; rules
 * then grant read or read+write beneath given directories; everything else
 * is denied however the path is spelled (absolute, "..", a symlink).
 * Files that are not reachable by path (pipes, sockets, memfds, also when
 * opened through /proc/self/fd) are not restricted by Landlock. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "sandbox.h"

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE                                                                        \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |               \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |               \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                   \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |                  \
	 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)
/* Rights added by later ABIs (values fixed by the kernel's UAPI). */
#define LL_REFER (1ULL << 13)	 /* ABI 2 */
#define LL_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_IOCTL_DEV (1ULL << 15) /* ABI 5 */

int sandbox_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

/* Every filesystem right this ABI knows. */
static uint64_t handled_for(int abi)
{
	uint64_t h = LL_READ | LL_WRITE | LANDLOCK_ACCESS_FS_EXECUTE;

	if (abi >= 2)
		h |= LL_REFER;
	if (abi >= 3)
		h |= LL_TRUNCATE;
	if (abi >= 5)
		h |= LL_IOCTL_DEV;
	return h;
}

static uint64_t rule_rights(const struct sandbox_landlock_rule *r, uint64_t handled)
{
	uint64_t a = LL_READ;

	if (r->exec)
		a |= LANDLOCK_ACCESS_FS_EXECUTE;
	if (r->write)
		a |= LL_WRITE | LL_REFER | LL_TRUNCATE | LL_IOCTL_DEV;
	return a & handled;
}

int sandbox_landlock_ruleset(const struct sandbox_landlock_rule *rules, size_t n, char *err,
			     size_t len)
{
	int abi = sandbox_landlock_abi(), rfd;
	struct landlock_ruleset_attr attr = { 0 };

	if (!abi) {
		snprintf(err, len, "Landlock is not available on this kernel (needs Linux >= 5.13 "
				   "with CONFIG_SECURITY_LANDLOCK and landlock in the lsm= list)");
		return -EOPNOTSUPP;
	}
	attr.handled_access_fs = handled_for(abi);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd < 0) {
		int e = errno;

		snprintf(err, len, "landlock_create_ruleset: %s", strerror(e));
		return -e;
	}
	for (size_t i = 0; i < n; i++) {
		struct landlock_path_beneath_attr pb = { .allowed_access = rule_rights(&rules[i],
											 attr.handled_access_fs) };
		int fd = rules[i].fd >= 0 ? rules[i].fd
					  : open(rules[i].path, O_PATH | O_CLOEXEC | O_DIRECTORY);

		if (fd < 0 && rules[i].fd < 0 && (errno == ENOENT || errno == ENOTDIR))
			continue; /* a path this host lacks (/lib64): nothing to grant */
		if (fd < 0) {
			int e = errno;

			snprintf(err, len, "Landlock rule for %s: %s", rules[i].path ? rules[i].path : "fd",
				 strerror(e));
			close(rfd);
			return -e;
		}
		pb.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
			int e = errno;

			snprintf(err, len, "landlock_add_rule(%s): %s",
				 rules[i].path ? rules[i].path : "fd", strerror(e));
			if (rules[i].fd < 0)
				close(fd);
			close(rfd);
			return -e;
		}
		if (rules[i].fd < 0)
			close(fd);
	}
	return rfd;
}

int sandbox_landlock_restrict(int ruleset_fd)
{
	/* Landlock needs no_new_privs (or CAP_SYS_ADMIN): set it here too,
	 * it is never lifted anyway. Async-signal-safe: a forked child may
	 * call this between fork and exec. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0))
		return -errno;
	return 0;
}

int sandbox_builder_landlock(int cache_dirfd, char *err, size_t len)
{
	/* Read anywhere (the files a suite names and their libraries), write
	 * only below the cache dir however the path is spelled: seccomp sees
	 * only an openat's dirfd, so an absolute path would escape it. */
	const struct sandbox_landlock_rule rules[] = {
		{ .path = "/", .fd = -1 },
		{ .fd = cache_dirfd, .write = true },
	};

	return sandbox_landlock_ruleset(rules, cache_dirfd >= 0 ? 2 : 1, err, len);
}

/* Read and write on one device node (path-beneath on a node covers the
 * node itself). A node this host lacks is skipped. */
static int add_dev_rw(int rfd, const char *path, char *err, size_t len)
{
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE,
	};
	int fd = open(path, O_PATH | O_CLOEXEC), e = 0;

	if (fd < 0)
		return 0;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
		e = errno;
		snprintf(err, len, "landlock_add_rule(%s): %s", path, strerror(e));
	}
	close(fd);
	return -e;
}

int sandbox_qemu_landlock(bool dev_kvm, char *err, size_t len)
{
	/* What QEMU reads by path: its binary and libraries, its firmware
	 * (/usr/share/qemu, /usr/share/seabios), /etc (ld.so.cache), /proc and
	 * /sys, and /dev (urandom). Its kernel, initrd, guest RAM, QMP and
	 * serial ports arrive as fds (memfds, sockets, pipes), which Landlock
	 * does not restrict. Nothing is writable but /dev/null (its stdio)
	 * and /dev/kvm when QEMU accelerates with it. */
	const struct sandbox_landlock_rule rules[] = {
		{ .path = "/usr", .fd = -1, .exec = true },
		{ .path = "/lib", .fd = -1, .exec = true },
		{ .path = "/lib64", .fd = -1, .exec = true },
		{ .path = "/bin", .fd = -1, .exec = true },
		{ .path = "/etc", .fd = -1 },
		{ .path = "/proc", .fd = -1 },
		{ .path = "/sys", .fd = -1 },
		{ .path = "/dev", .fd = -1 },
	};
	int rfd = sandbox_landlock_ruleset(rules, ARRAY_SIZE(rules), err, len);
	int ret;

	if (rfd < 0)
		return rfd;
	ret = add_dev_rw(rfd, "/dev/null", err, len);
	if (!ret && dev_kvm)
		ret = add_dev_rw(rfd, "/dev/kvm", err, len);
	if (ret) {
		close(rfd);
		return ret;
	}
	return rfd;
}
