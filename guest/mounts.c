#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/log.h"
#include "ktstr/util.h"
#include "mounts.h"

struct mnt {
	const char *src, *dir, *type;
	int essential;
};

static int do_mount(const struct mnt *m)
{
	mkdir_p(m->dir, 0755);
	if (mount(m->src, m->dir, m->type, 0, NULL) && errno != EBUSY) {
		int ret = -errno;

		if (m->essential)
			kerr("mount %s on %s: %s; the guest kernel may lack %s support", m->type,
			     m->dir, strerror(-ret), m->type);
		return m->essential ? ret : 0;
	}
	return 0;
}

int mounts_dev(void)
{
	static const struct mnt dev = { "devtmpfs", "/dev", "devtmpfs", 1 };

	return do_mount(&dev);
}

int mounts_rest(void)
{
	static const struct mnt tab[] = {
		{ "proc", "/proc", "proc", 1 },
		{ "sysfs", "/sys", "sysfs", 1 },
		{ "debugfs", "/sys/kernel/debug", "debugfs", 0 },
		{ "tracefs", "/sys/kernel/tracing", "tracefs", 0 },
		{ "bpf", "/sys/fs/bpf", "bpf", 0 },
		{ "cgroup2", "/sys/fs/cgroup", "cgroup2", 1 },
		{ "tmpfs", "/tmp", "tmpfs", 1 },
		{ "tmpfs", "/dev/shm", "tmpfs", 0 },
		{ "tmpfs", "/run", "tmpfs", 0 },
		{ "devpts", "/dev/pts", "devpts", 0 },
	};
	int first = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
		int ret = do_mount(&tab[i]);

		if (ret && !first)
			first = ret;
	}
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
	return first;
}
