/* sysfs topology reader. sysfs is trusted here (we are PID 1 in our own VM),
 * but a kernel may lack cache or NUMA directories, so every file is optional
 * except the online CPU list. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtopo.h"
#include "ktstr/util.h"

static int read_list(const char *path, struct cpuset_bits *out)
{
	char *s = NULL;
	size_t len;
	int ret = read_file(path, &s, &len, 65536);

	if (ret)
		return ret;
	ret = cpulist_parse(s, out);
	free(s);
	return ret;
}

/* Add s to groups[] unless it is there; CPUs are visited in order, so the
 * groups come out ordered by their lowest CPU. */
static void add_group(struct cpuset_bits *groups, unsigned *n, unsigned max,
		      const struct cpuset_bits *s)
{
	for (unsigned i = 0; i < *n; i++)
		if (cpuset_equal(&groups[i], s))
			return;
	if (*n < max)
		groups[(*n)++] = *s;
}

static void read_nodes(const char *root, struct gtopo *t)
{
	char dir[512], path[1024];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/devices/system/node", root);
	d = opendir(dir);
	if (d) {
		while ((e = readdir(d))) {
			char *end;
			unsigned long id;
			struct cpuset_bits s;

			if (strncmp(e->d_name, "node", 4) || !e->d_name[4])
				continue;
			id = strtoul(e->d_name + 4, &end, 10);
			if (*end || id >= GTOPO_MAX_NODES)
				continue;
			snprintf(path, sizeof(path), "%s/%s/cpulist", dir, e->d_name);
			if (read_list(path, &s))
				continue;
			t->node[id] = s;
			t->nodes_seen = true;
			if (id + 1 > t->nnode)
				t->nnode = (unsigned)id + 1;
		}
		closedir(d);
	}
	if (!t->nnode) {
		t->nnode = 1;
		t->node[0] = t->online;
	}
}

int gtopo_read(const char *root, struct gtopo *t, char *err, size_t errlen)
{
	char path[512];
	int ret;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/devices/system/cpu/online", root);
	ret = read_list(path, &t->online);
	if (ret || !cpuset_count(&t->online)) {
		snprintf(err, errlen,
			 "cannot read the online CPU list %s: %s; is sysfs mounted?", path,
			 ret ? strerror(-ret) : "empty list");
		return ret ? ret : -ENODATA;
	}
	t->cores_seen = t->llcs_seen = true;
	for (unsigned c = 0; c < CPUSET_WORDS * 64; c++) {
		struct cpuset_bits s;

		if (!cpuset_has(&t->online, c))
			continue;
		snprintf(path, sizeof(path),
			 "%s/devices/system/cpu/cpu%u/cache/index3/shared_cpu_list", root, c);
		if (read_list(path, &s) == 0 && cpuset_count(&s))
			add_group(t->llc, &t->nllc, GTOPO_MAX_LLCS, &s);
		else
			t->llcs_seen = false;
		snprintf(path, sizeof(path),
			 "%s/devices/system/cpu/cpu%u/topology/thread_siblings_list", root, c);
		if (read_list(path, &s) == 0 && cpuset_has(&s, c))
			add_group(t->core, &t->ncore, GTOPO_MAX_CORES, &s);
		else
			t->cores_seen = false;
	}
	if (!t->cores_seen)
		t->ncore = 0;
	if (!t->nllc) {
		t->nllc = 1;
		t->llc[0] = t->online;
	}
	read_nodes(root, t);
	gtopo_finish(t);
	return 0;
}
