/* Namespaces: the confined process stops seeing the host's network, IPC,
 * hostname, mounts (optionally: any path at all) and, for its children,
 * host pids. Entered with unshare(2) after the process opened what it needs;
 * fds opened before keep working across every namespace here. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <ktstr/util.h>

#include "sandbox.h"

static const struct {
	unsigned flag;
	int clone_flag;
	const char *name;
	const char *hint;
} ns_table[] = {
	/* user first: it grants the capabilities the others need when the
	 * caller is unprivileged */
	{ SANDBOX_NS_USER, CLONE_NEWUSER, "user",
	  "enable unprivileged user namespaces (sysctl user.max_user_namespaces>0, "
	  "kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0) "
	  "and do not create threads before confinement" },
	{ SANDBOX_NS_MOUNT, CLONE_NEWNS, "mount", "needs CONFIG_NAMESPACES and a user namespace or CAP_SYS_ADMIN" },
	{ SANDBOX_NS_NET, CLONE_NEWNET, "network", "needs CONFIG_NET_NS and a user namespace or CAP_SYS_ADMIN" },
	{ SANDBOX_NS_IPC, CLONE_NEWIPC, "ipc", "needs CONFIG_IPC_NS and a user namespace or CAP_SYS_ADMIN" },
	{ SANDBOX_NS_UTS, CLONE_NEWUTS, "uts", "needs CONFIG_UTS_NS and a user namespace or CAP_SYS_ADMIN" },
	{ SANDBOX_NS_PID, CLONE_NEWPID, "pid", "needs CONFIG_PID_NS and a user namespace or CAP_SYS_ADMIN" },
};

static int write_proc(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(s);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

static int map_ids_write(uid_t uid, gid_t gid);

/* Map our own uid/gid to themselves, so files created and signals sent keep
 * their identity and nothing becomes root inside unless it was root. */
static int map_ids(uid_t uid, gid_t gid, char *err, size_t len)
{
	int ret, dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);

	/* A process that changed credentials (root dropped to a user) is not
	 * dumpable, which makes its /proc/self files root-owned and the id
	 * maps unwritable. Make it dumpable only while writing them: the maps
	 * are written once, right after unshare, and the old setting returns
	 * before any further step. */
	if (dumpable == 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
		ret = -errno;
		goto err;
	}
	ret = map_ids_write(uid, gid);
	if (dumpable == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0)
		goto err;
	return 0;
err:
	snprintf(err, len, "sandbox: writing the user namespace id maps failed: %s", strerror(-ret));
	return ret;
}

static int map_ids_write(uid_t uid, gid_t gid)
{
	char line[64];
	int ret;

	/* An unprivileged writer must deny setgroups before writing gid_map;
	 * denying it also stops dropping a supplementary group used as a
	 * negative ACL. */
	ret = write_proc("/proc/self/setgroups", "deny");
	if (ret < 0 && ret != -ENOENT)
		return ret;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	ret = write_proc("/proc/self/uid_map", line);
	if (ret < 0)
		return ret;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_proc("/proc/self/gid_map", line);
}

/* True when / is the initial ramfs (rootfs): a ramfs or tmpfs root with no
 * parent mount, which pivot_root cannot move (EINVAL). */
static bool root_is_rootfs(void)
{
	struct statfs sf;

	if (statfs("/", &sf) < 0)
		return false;
	return sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC;
}

/* Replace the root with an empty read-only tmpfs. The tmpfs is mounted over
 * /proc (always present, and private to our new mount namespace), becomes
 * the root with pivot_root(".", "."), and the old root is detached as a
 * whole, so no host path resolves any more. On an initramfs root, where
 * pivot_root is impossible, the tmpfs is moved over / and chrooted into. */
static int empty_root(char *err, size_t len)
{
	const char *step;

	step = "make / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto err;
	step = "mount tmpfs";
	if (mount("ktstr-empty", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=2,mode=0555") < 0)
		goto err;
	step = "chdir";
	if (chdir("/proc") < 0)
		goto err;
	step = "pivot_root";
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		step = "detach old root";
		if (umount2(".", MNT_DETACH) < 0)
			goto err;
	} else if (errno == EINVAL && root_is_rootfs()) {
		/* The root is the initial ramfs, which pivot_root refuses
		 * to move (a worker started from an initramfs, e.g. the
		 * nested rig's L1). Do what switch_root does: move the
		 * tmpfs over / and chroot into it. The rootfs stays below,
		 * covered and unreachable: no fd to a directory on it is
		 * kept (fd inventory), and getting back out would need
		 * chroot/mount/fchdir, which no capability and no seccomp
		 * policy allows. */
		step = "move the tmpfs over / (root is the initramfs)";
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			goto err;
		step = "chroot into the tmpfs";
		if (chroot(".") < 0)
			goto err;
	} else {
		goto err;
	}
	step = "chdir /";
	if (chdir("/") < 0)
		goto err;
	step = "remount read-only";
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		goto err;
	return 0;
err:;
	int e = errno;

	snprintf(err, len, "sandbox: empty root: %s failed: %s", step, strerror(e));
	return -e;
}

int sandbox_enter_namespaces(unsigned flags, bool best_effort, unsigned *entered, char *err,
			     size_t len)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	unsigned done = 0;
	int ret;

	if (entered)
		*entered = 0;
	if ((flags & SANDBOX_NS_EMPTY_ROOT) && !(flags & SANDBOX_NS_MOUNT)) {
		snprintf(err, len, "sandbox: SANDBOX_NS_EMPTY_ROOT needs SANDBOX_NS_MOUNT");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++) {
		if (!(flags & ns_table[i].flag))
			continue;
		if (unshare(ns_table[i].clone_flag) < 0) {
			ret = -errno;
			if (best_effort)
				continue;
			snprintf(err, len, "sandbox: cannot enter a new %s namespace: %s; %s",
				 ns_table[i].name, strerror(-ret), ns_table[i].hint);
			return ret;
		}
		if (ns_table[i].flag == SANDBOX_NS_USER) {
			ret = map_ids(uid, gid, err, len);
			if (ret < 0)
				return ret; /* a user ns without maps is unusable: never best effort */
		}
		done |= ns_table[i].flag;
	}
	if ((flags & SANDBOX_NS_EMPTY_ROOT) && (done & SANDBOX_NS_MOUNT)) {
		ret = empty_root(err, len);
		if (ret < 0 && !best_effort)
			return ret;
		if (ret == 0)
			done |= SANDBOX_NS_EMPTY_ROOT;
	}
	if (entered)
		*entered = done;
	return 0;
}
