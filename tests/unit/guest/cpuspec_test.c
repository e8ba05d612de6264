/* CpusetSpec resolution over several topologies, and the sysfs reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gtopo.h"
#include "ktstr/cpuspec.h"
#include "ktstr/topology.h"
#include "ktstr/util.h"

static struct gtopo T;

static void model(uint32_t n, uint32_t l, uint32_t c, uint32_t t)
{
	struct ktstr_topo m = { n, l, c, t };

	gtopo_from_model(&m, &T);
}

static const char *resolve(Ktstr__CpusetSpec__Kind k, uint32_t idx, uint32_t of, double a,
			   double b, int *ret)
{
	static char buf[256], err[256];
	Ktstr__CpusetSpec s = KTSTR__CPUSET_SPEC__INIT;
	struct cpuset_bits out;

	s.kind = k;
	s.index = idx;
	s.of = of;
	s.start_frac = a;
	s.end_frac = b;
	s.frac = a;
	*ret = cpuspec_resolve(&T, &s, &out, err, sizeof(err));
	if (*ret)
		return err;
	cpulist_format(&out, buf, sizeof(buf));
	return buf;
}

Test(cpuspec, last_cpu_reserved_above_two_cpus)
{
	char b[64];

	model(1, 1, 4, 1);
	cpulist_format(&T.usable, b, sizeof(b));
	cr_assert_str_eq(b, "0-2");
	model(1, 1, 2, 1);
	cpulist_format(&T.usable, b, sizeof(b));
	cr_assert_str_eq(b, "0-1");
}

Test(cpuspec, llc_and_numa_on_multi_llc)
{
	int ret;

	model(2, 4, 2, 1); /* 8 cpus, llc pairs, nodes 0-3 / 4-7, usable 0-6 */
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__LLC, 1, 0, 0, 0, &ret), "2-3");
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__LLC, 3, 0, 0, 0, &ret), "6");
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__NUMA, 1, 0, 0, 0, &ret), "4-6");
	resolve(KTSTR__CPUSET_SPEC__KIND__LLC, 4, 0, 0, 0, &ret);
	cr_assert_eq(ret, -ERANGE);
	resolve(KTSTR__CPUSET_SPEC__KIND__NUMA, 2, 0, 0, 0, &ret);
	cr_assert_eq(ret, -ERANGE);
}

Test(cpuspec, disjoint_parts_cover_usable_without_overlap)
{
	int ret;

	model(1, 2, 2, 2); /* smt-2llc: 8 cpus, usable 0-6 */
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__DISJOINT, 0, 2, 0, 0, &ret), "0-2");
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__DISJOINT, 1, 2, 0, 0, &ret), "3-6");
	resolve(KTSTR__CPUSET_SPEC__KIND__DISJOINT, 2, 2, 0, 0, &ret);
	cr_assert_eq(ret, -EINVAL);
	model(1, 1, 3, 1); /* 3 cpus -> 2 usable: 3 parts do not fit */
	resolve(KTSTR__CPUSET_SPEC__KIND__DISJOINT, 0, 3, 0, 0, &ret);
	cr_assert_eq(ret, -ERANGE);
}

Test(cpuspec, overlap_and_range)
{
	int ret;

	model(1, 3, 3, 1); /* odd-3llc: 9 cpus, usable 0-7 */
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__OVERLAP, 1, 2, 0.5, 0, &ret), "2-7");
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__RANGE, 0, 0, 0.0, 0.5, &ret), "0-3");
	cr_assert_str_eq(resolve(KTSTR__CPUSET_SPEC__KIND__RANGE, 0, 0, 0.9, 1.0, &ret), "7");
	resolve(KTSTR__CPUSET_SPEC__KIND__RANGE, 0, 0, 0.5, 0.5, &ret);
	cr_assert_eq(ret, -EINVAL);
}

Test(cpuspec, exact_must_be_online)
{
	Ktstr__CpusetSpec s = KTSTR__CPUSET_SPEC__INIT;
	struct cpuset_bits out;
	char err[256];

	model(1, 1, 4, 1);
	s.kind = KTSTR__CPUSET_SPEC__KIND__EXACT;
	s.cpus = "1,3";
	cr_assert_eq(cpuspec_resolve(&T, &s, &out, err, sizeof(err)), 0);
	cr_assert_eq(cpuset_count(&out), 2);
	s.cpus = "2-9";
	cr_assert_eq(cpuspec_resolve(&T, &s, &out, err, sizeof(err)), -ERANGE);
	cr_assert(strstr(err, "online"), "%s", err);
	s.cpus = "x";
	cr_assert_eq(cpuspec_resolve(&T, &s, &out, err, sizeof(err)), -EINVAL);
}

Test(cpuspec, affinity_kinds)
{
	Ktstr__AffinitySpec a = KTSTR__AFFINITY_SPEC__INIT;
	struct cpuset_bits allowed, out;
	char err[256], b[64];

	model(1, 2, 2, 1);
	cpulist_parse("0-2", &allowed);
	a.kind = KTSTR__AFFINITY_SPEC__KIND__SINGLE_CPU;
	cr_assert_eq(affinity_resolve(&T, &a, &allowed, 4, 1, &out, err, sizeof(err)), 0);
	cpulist_format(&out, b, sizeof(b));
	cr_assert_str_eq(b, "1");
	a.kind = KTSTR__AFFINITY_SPEC__KIND__RANDOM_SUBSET;
	a.has_count = 1;
	a.count = 2;
	cr_assert_eq(affinity_resolve(&T, &a, &allowed, 0, 7, &out, err, sizeof(err)), 0);
	cr_assert_eq(cpuset_count(&out), 2);
	cr_assert(cpuset_subset(&out, &allowed));
	a.kind = KTSTR__AFFINITY_SPEC__KIND__LLC_ALIGNED;
	cr_assert_eq(affinity_resolve(&T, &a, &allowed, 1, 0, &out, err, sizeof(err)), 0);
	cpulist_format(&out, b, sizeof(b));
	cr_assert_str_eq(b, "2");
}

static void put(const char *root, const char *rel, const char *val)
{
	char p[512], d[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	cr_assert_eq(mkdir_p(d, 0755), 0);
	{
		FILE *f = fopen(p, "w"); /* write_file does not create files */

		cr_assert_not_null(f);
		fputs(val, f);
		fclose(f);
	}
}

Test(cpuspec, sysfs_reader_finds_llcs_and_nodes)
{
	char root[] = "/tmp/ktstr-gtopo-XXXXXX", err[256], b[64], cmd[600];
	struct gtopo t;

	cr_assert_not_null(mkdtemp(root));
	put(root, "devices/system/cpu/online", "0-3\n");
	put(root, "devices/system/cpu/cpu0/cache/index3/shared_cpu_list", "0-1\n");
	put(root, "devices/system/cpu/cpu1/cache/index3/shared_cpu_list", "0-1\n");
	put(root, "devices/system/cpu/cpu2/cache/index3/shared_cpu_list", "2-3\n");
	put(root, "devices/system/cpu/cpu3/cache/index3/shared_cpu_list", "2-3\n");
	put(root, "devices/system/node/node0/cpulist", "0-1\n");
	put(root, "devices/system/node/node1/cpulist", "2-3\n");
	cr_assert_eq(gtopo_read(root, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.nllc, 2);
	cr_assert_eq(t.nnode, 2);
	cpulist_format(&t.llc[1], b, sizeof(b));
	cr_assert_str_eq(b, "2-3");
	cpulist_format(&t.usable, b, sizeof(b));
	cr_assert_str_eq(b, "0-2");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
	cr_assert_neq(gtopo_read(root, &t, err, sizeof(err)), 0);
	cr_assert(strstr(err, "online"), "%s", err);
}
