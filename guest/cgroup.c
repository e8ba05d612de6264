/* cgroupfs writes go through write_file (one write per value, which is what
 * cgroupfs parses). Errors name the file and the likely cause: most users
 * hitting these have a cgroup name typo or a kernel without cpusets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "ktstr/util.h"

/* dir/name into buf; a truncated path would name the wrong file, so it is
 * an error rather than a warning. */
static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int enable_controllers(const char *dir, char *err, size_t errlen)
{
	char path[512];
	int ret;

	if (join(path, sizeof(path), dir, "cgroup.subtree_control"))
		return -ENAMETOOLONG;
	ret = write_file(path, "+cpuset");
	if (ret) {
		snprintf(err, errlen,
			 "enable +cpuset in %s: %s; the kernel needs CONFIG_CPUSETS and the "
			 "cgroup must hold no tasks itself",
			 path, strerror(-ret));
		return ret;
	}
	/* +cpu is optional: without CONFIG_CGROUP_SCHED cpusets still work. */
	write_file(path, "+cpu");
	return 0;
}

int cg_setup_parent(const char *root, const char *rel, char *err, size_t errlen)
{
	char path[512];
	size_t rl = strlen(root);
	int ret;

	if (snprintf(path, sizeof(path), "%s%s", root, rel) >= (int)sizeof(path)) {
		snprintf(err, errlen, "cgroup path %s%s too long", root, rel);
		return -ENAMETOOLONG;
	}
	ret = mkdir_p(path, 0755);
	if (ret) {
		snprintf(err, errlen, "mkdir %s: %s; is cgroup2 mounted at %s?", path,
			 strerror(-ret), root);
		return ret;
	}
	/* Walk root, root/a, root/a/b ... enabling at each level. */
	for (size_t i = rl; ; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];

			path[i] = '\0';
			ret = enable_controllers(i == rl ? root : path, err, errlen);
			path[i] = c;
			if (ret)
				return ret;
			if (!c)
				break;
		}
	}
	return 0;
}

int cg_create(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) && errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "mkdir cgroup %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

int cg_set_cpus(const char *path, const struct cpuset_bits *cpus, char *err, size_t errlen)
{
	char file[512], list[1024] = "";
	int ret;

	if (join(file, sizeof(file), path, "cpuset.cpus"))
		return -ENAMETOOLONG;
	if (cpus && cpulist_format(cpus, list, sizeof(list)) < 0) {
		snprintf(err, errlen, "cpuset for %s does not fit a list buffer", path);
		return -ENOSPC;
	}
	/* cgroupfs wants "\n" (not "") to clear; both are accepted on recent
	 * kernels, the newline is accepted everywhere. */
	ret = write_file(file, cpus ? list : "\n");
	if (ret)
		snprintf(err, errlen, "write \"%s\" to %s: %s; CPUs must be online and within "
			 "the parent's cpuset",
			 cpus ? list : "", file, strerror(-ret));
	return ret;
}

int cg_effective_cpus(const char *path, struct cpuset_bits *out)
{
	char file[512], *s = NULL;
	size_t len;
	int ret;

	if (join(file, sizeof(file), path, "cpuset.cpus.effective"))
		return -ENAMETOOLONG;
	ret = read_file(file, &s, &len, 65536);
	if (ret)
		return ret;
	ret = cpulist_parse(s, out);
	free(s);
	return ret;
}

int cg_move_pid(const char *path, pid_t pid, char *err, size_t errlen)
{
	char file[512], val[32];
	int ret = 0;

	if (join(file, sizeof(file), path, "cgroup.procs"))
		return -ENAMETOOLONG;
	snprintf(val, sizeof(val), "%d", (int)pid);
	for (int tries = 0; tries < 4; tries++) {
		ret = write_file(file, val);
		if (ret != -EBUSY)
			break;
		sleep_ms(100);
	}
	if (ret == -ESRCH)
		return 0;
	if (ret)
		snprintf(err, errlen, "move pid %d into %s: %s%s", (int)pid, file, strerror(-ret),
			 ret == -ENOENT ? " (cgroup does not exist: name typo?)" : "");
	return ret;
}

int cg_move_all(const char *from, const char *to, char *err, size_t errlen)
{
	char file[512], *s = NULL, *save = NULL;
	size_t len;
	int ret;

	if (join(file, sizeof(file), from, "cgroup.procs"))
		return -ENAMETOOLONG;
	ret = read_file(file, &s, &len, 1 << 20);
	if (ret) {
		snprintf(err, errlen, "read %s: %s", file, strerror(-ret));
		return ret;
	}
	for (char *tok = strtok_r(s, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		ret = cg_move_pid(to, (pid_t)atoi(tok), err, errlen);
		if (ret)
			break;
	}
	free(s);
	return ret;
}

int cg_remove(const char *path, char *err, size_t errlen)
{
	int ret = 0;

	for (int tries = 0; tries < 4; tries++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		ret = -errno;
		if (ret != -EBUSY)
			break;
		sleep_ms(100);
	}
	snprintf(err, errlen, "rmdir cgroup %s: %s%s", path, strerror(-ret),
		 ret == -EBUSY ? " (tasks still inside)" : "");
	return ret;
}
