/* The guest's check of the topology it sees against what the host asked
 * for (GuestSpec.topology): equal layouts pass on every shape, each kind of
 * difference fails naming it with both layouts printed, and layouts sysfs
 * did not show are not held against the VM. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtopo.h"
#include "ktstr/util.h"
#include "topocheck.h"

/* Heap: a gtopo holds a group slot per CPU (about 150 KiB). */
static struct gtopo *model(uint32_t n, uint32_t l, uint32_t c, uint32_t t)
{
	struct ktstr_topo m = { n, l, c, t };
	struct gtopo *g = malloc(sizeof(*g));

	cr_assert_not_null(g);
	gtopo_from_model(&m, g);
	return g;
}

static int check(uint32_t n, uint32_t l, uint32_t c, uint32_t t, const struct gtopo *seen,
		 char *msg, size_t len)
{
	struct ktstr_topo asked = { n, l, c, t };

	return gtopo_check(&asked, seen, msg, len);
}

Test(topocheck, the_asked_layout_passes_on_every_shape)
{
	static const struct ktstr_topo shapes[] = {
		{ 1, 1, 1, 1 }, { 1, 1, 2, 1 }, { 1, 2, 2, 2 }, { 2, 4, 2, 1 },
		{ 1, 3, 3, 1 }, { 1, 14, 9, 2 }, { 4, 8, 4, 2 }, { 1, 1, 512, 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		const struct ktstr_topo *s = &shapes[i];
		struct gtopo *seen = model(s->numa_nodes, s->llcs, s->cores_per_llc,
					   s->threads_per_core);
		char msg[256] = "x";

		cr_assert_eq(gtopo_check(s, seen, msg, sizeof(msg)), 0, "%u,%u,%u,%u: %s",
			     s->numa_nodes, s->llcs, s->cores_per_llc, s->threads_per_core, msg);
		cr_assert_str_empty(msg);
		free(seen);
	}
}

/* QEMU -smp with one socket where two were asked for: one LLC of 8. */
Test(topocheck, merged_llcs_fail_with_both_layouts)
{
	struct gtopo *seen = model(1, 1, 4, 2);
	char msg[4096];

	cr_assert_eq(check(1, 2, 2, 2, seen, msg, sizeof(msg)), -EPROTO);
	cr_assert(strstr(msg, "topology mismatch"), "%s", msg);
	cr_assert(strstr(msg, "asked for 1,2,2,2"), "%s", msg);
	cr_assert(strstr(msg, "sees different LLCs:"), "only the LLCs differ: %s", msg);
	cr_assert(strstr(msg, "asked {cpus 0-7; cores [0-1] [2-3] [4-5] [6-7]; "
			      "llcs [0-3] [4-7]; nodes [0-7]}"),
		  "%s", msg);
	cr_assert(strstr(msg, "seen {cpus 0-7; cores [0-1] [2-3] [4-5] [6-7]; "
			      "llcs [0-7]; nodes [0-7]}"),
		  "%s", msg);
	cr_assert(!strchr(msg, '\n'), "one line: %s", msg);
	free(seen);
}

Test(topocheck, missing_smt_siblings_fail_as_cores)
{
	struct gtopo *seen = model(1, 2, 4, 1);
	char msg[4096];

	cr_assert_eq(check(1, 2, 2, 2, seen, msg, sizeof(msg)), -EPROTO);
	cr_assert(strstr(msg, "sees different cores (SMT siblings):"), "%s", msg);
	cr_assert(strstr(msg, "seen {cpus 0-7; cores [0] [1] [2] [3] [4] [5] [6] [7];"), "%s",
		  msg);
	free(seen);
}

Test(topocheck, a_missing_node_fails_as_numa)
{
	struct gtopo *seen = model(1, 2, 2, 1);
	char msg[4096];

	cr_assert_eq(check(2, 2, 2, 1, seen, msg, sizeof(msg)), -EPROTO);
	cr_assert(strstr(msg, "sees different NUMA nodes:"), "%s", msg);
	cr_assert(strstr(msg, "asked {cpus 0-3; cores [0] [1] [2] [3]; llcs [0-1] [2-3]; "
			      "nodes [0-1] [2-3]}"),
		  "%s", msg);
	cr_assert(strstr(msg, "nodes [0-3]}"), "%s", msg);
	free(seen);
}

Test(topocheck, fewer_cpus_fail_naming_every_layout_that_differs)
{
	struct gtopo *seen = model(1, 1, 2, 1);
	char msg[4096];

	cr_assert_eq(check(1, 2, 2, 1, seen, msg, sizeof(msg)), -EPROTO);
	cr_assert(strstr(msg, "sees different online CPUs, cores (SMT siblings), LLCs, "
			      "NUMA nodes:"),
		  "%s", msg);
	cr_assert(strstr(msg, "seen {cpus 0-1;"), "%s", msg);
	free(seen);
}

/* A kernel or CPU model without cache/index3 (or NUMA, or topology/)
 * directories says nothing about them: not a mismatch, but said. */
Test(topocheck, layouts_sysfs_did_not_show_are_not_compared)
{
	struct gtopo *seen = model(1, 1, 4, 1);
	char msg[4096];

	seen->llcs_seen = seen->nodes_seen = seen->cores_seen = false;
	cr_assert_eq(check(2, 2, 2, 1, seen, msg, sizeof(msg)), 0, "%s", msg);
	gtopo_format(seen, msg, sizeof(msg));
	cr_assert_str_eq(msg, "cpus 0-3; cores not in sysfs; llcs not in sysfs; "
			      "nodes not in sysfs");
	/* ... while the online CPUs are always compared. */
	cr_assert_eq(check(1, 1, 8, 1, seen, msg, sizeof(msg)), -EPROTO);
	cr_assert(strstr(msg, "seen {cpus 0-3; cores not in sysfs;"), "%s", msg);
	free(seen);
}

Test(topocheck, a_short_buffer_ends_in_an_ellipsis)
{
	struct gtopo *seen = model(1, 1, 4, 2);
	char msg[64];

	cr_assert_eq(check(1, 2, 2, 2, seen, msg, sizeof(msg)), -EPROTO);
	cr_assert_eq(strlen(msg), sizeof(msg) - 1);
	cr_assert_str_eq(msg + sizeof(msg) - 4, "...");
	free(seen);
}

Test(topocheck, an_invalid_request_is_einval)
{
	struct gtopo *seen = model(1, 1, 2, 1);
	char msg[256];

	cr_assert_eq(check(2, 3, 1, 1, seen, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "multiple of numa_nodes"), "%s", msg);
	cr_assert_eq(check(1, 0, 1, 1, seen, msg, sizeof(msg)), -EINVAL);
	free(seen);
}

static void put(const char *root, const char *rel, const char *val)
{
	char p[512], d[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	cr_assert_eq(mkdir_p(d, 0755), 0);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(val, f);
	fclose(f);
}

/* What sysfs shows decides what is compared: a full tree of 1,2,1,2 is
 * checked in every layout; without cache/index3 on one CPU the LLCs are
 * not (gtopo's one-LLC fallback is no observation). */
Test(topocheck, the_sysfs_reader_marks_what_it_saw)
{
	char root[] = "/tmp/ktstr-topocheck-XXXXXX", err[256], msg[4096], rel[128], cmd[600];
	struct gtopo *t = malloc(sizeof(*t));

	cr_assert_not_null(t);
	cr_assert_not_null(mkdtemp(root));
	put(root, "devices/system/cpu/online", "0-3\n");
	for (unsigned c = 0; c < 4; c++) {
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/cache/index3/shared_cpu_list",
			 c);
		put(root, rel, c < 2 ? "0-1\n" : "2-3\n");
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/topology/thread_siblings_list",
			 c);
		put(root, rel, c < 2 ? "0-1\n" : "2-3\n");
	}
	put(root, "devices/system/node/node0/cpulist", "0-3\n");
	cr_assert_eq(gtopo_read(root, t, err, sizeof(err)), 0, "%s", err);
	cr_assert(t->cores_seen && t->llcs_seen && t->nodes_seen);
	cr_assert_eq(t->ncore, 2);
	cr_assert_eq(check(1, 2, 1, 2, t, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(check(1, 1, 2, 2, t, msg, sizeof(msg)), -EPROTO);
	cr_assert(strstr(msg, "sees different LLCs:"), "%s", msg);

	snprintf(rel, sizeof(rel), "%s/devices/system/cpu/cpu3/cache/index3/shared_cpu_list",
		 root);
	cr_assert_eq(unlink(rel), 0);
	cr_assert_eq(gtopo_read(root, t, err, sizeof(err)), 0, "%s", err);
	cr_assert(!t->llcs_seen);
	cr_assert(t->cores_seen && t->nodes_seen);
	cr_assert_eq(check(1, 1, 2, 2, t, msg, sizeof(msg)), 0, "%s", msg);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
	free(t);
}
