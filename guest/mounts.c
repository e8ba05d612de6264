#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
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
	/* A scratch tmpfs over a directory of the root: the image's own files
	 * there (a payload or C test whose libraries were packed from a host
	 * path under /tmp or /run) must stay visible, so the mount is skipped
	 * when the directory holds anything; the root is writable anyway. */
	bool unless_image_has_files;
};

static bool has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return any;
}

static int do_mount(const struct mnt *m)
{
	if (m->unless_image_has_files && has_entries(m->dir)) {
		kinfo("%s holds files of the image: not hiding them under a tmpfs", m->dir);
		return 0;
	}
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
		{ "tmpfs", "/tmp", "tmpfs", 1, true },
		{ "tmpfs", "/dev/shm", "tmpfs", 0, false },
		{ "tmpfs", "/run", "tmpfs", 0, true },
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
