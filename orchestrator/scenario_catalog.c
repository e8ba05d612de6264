#include "scenario_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "yaml_proto.h"

/* Fixed shapes: worker counts do not follow the topology. Cpusets are LLC
 * indices or fractions of the usable CPUs, which the guest resolves against
 * the topology it sees, so one definition fits every preset (steady_llc's
 * cg1 takes the upper half of the CPUs, which exists even with one LLC). */
static const struct canned_scenario catalog[] = {
	{ "steady",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2}\n"
	  "  - {name: cg1, workers: 2}\n" },
	{ "steady_llc",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2, cpuset: {kind: llc, index: 0}}\n"
	  "  - {name: cg1, workers: 2, cpuset: {kind: disjoint, index: 1, of: 2}}\n" },
	{ "oversubscribed",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 8}\n"
	  "  - {name: cg1, workers: 8}\n" },
	{ "cpuset_apply",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2}\n"
	  "  - {name: cg1, workers: 2}\n"
	  "steps:\n"
	  "  - hold: {kind: frac, frac: 0.5}\n"
	  "  - ops:\n"
	  "      - {kind: set_cpuset, cgroup: cg0, cpuset: {kind: disjoint, index: 0, of: 2}}\n"
	  "      - {kind: set_cpuset, cgroup: cg1, cpuset: {kind: disjoint, index: 1, of: 2}}\n"
	  "    hold: {kind: frac, frac: 0.5}\n" },
	{ "cpuset_clear",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2, cpuset: {kind: disjoint, index: 0, of: 2}}\n"
	  "  - {name: cg1, workers: 2, cpuset: {kind: disjoint, index: 1, of: 2}}\n"
	  "steps:\n"
	  "  - hold: {kind: frac, frac: 0.5}\n"
	  "  - ops:\n"
	  "      - {kind: clear_cpuset, cgroup: cg0}\n"
	  "      - {kind: clear_cpuset, cgroup: cg1}\n"
	  "    hold: {kind: frac, frac: 0.5}\n" },
	{ "cgroup_add",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2}\n"
	  "steps:\n"
	  "  - hold: {kind: frac, frac: 0.5}\n"
	  "  - ops: [{kind: add_cgroup, def: {name: cg1, workers: 2}}]\n"
	  "    hold: {kind: frac, frac: 0.5}\n" },
	{ "cgroup_remove",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2}\n"
	  "  - {name: cg1, workers: 2}\n"
	  "steps:\n"
	  "  - hold: {kind: frac, frac: 0.5}\n"
	  "  - ops: [{kind: remove_cgroup, cgroup: cg1}]\n"
	  "    hold: {kind: frac, frac: 0.5}\n" },
	{ "affinity_change",
	  "cgroups:\n"
	  "  - {name: cg0, workers: 2}\n"
	  "steps:\n"
	  "  - hold: {kind: frac, frac: 0.5}\n"
	  "  - ops: [{kind: set_affinity, cgroup: cg0, affinity: {kind: single_cpu}}]\n"
	  "    hold: {kind: frac, frac: 0.5}\n" },
	{ "mixed_workloads",
	  "cgroups:\n"
	  "  - {name: spin, workers: 2, work: {type: cpu_spin}}\n"
	  "  - {name: yield, workers: 2, work: {type: yield_heavy}}\n"
	  "  - {name: bursty, workers: 2, work: {type: bursty}}\n" },
};

const struct canned_scenario *scenario_catalog(size_t *n)
{
	*n = ARRAY_SIZE(catalog);
	return catalog;
}

const struct canned_scenario *scenario_catalog_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++)
		if (!strcmp(catalog[i].name, name))
			return &catalog[i];
	return NULL;
}

int scenario_catalog_build(const char *name, Ktstr__Scenario **out, char *err, size_t errlen)
{
	const struct canned_scenario *cs = scenario_catalog_find(name);
	char file[96];
	struct ys_ctx c = { .file = file, .err = err, .errlen = errlen };
	struct ynode *root = NULL;
	Ktstr__Scenario *sc;
	int ret;

	if (!cs)
		return -ENOENT;
	snprintf(file, sizeof(file), "<canned scenario %s>", name);
	ret = ytree_parse(file, cs->yaml, strlen(cs->yaml), &root, err, errlen);
	if (ret)
		return ret;
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		ynode_free(root);
		return -ENOMEM;
	}
	ktstr__scenario__init(sc);
	sc->name = strdup(name);
	if (!sc->name)
		ret = -ENOMEM;
	else
		ret = yproto_fill(&c, root, &sc->base, "scenario");
	ynode_free(root);
	if (ret) {
		protobuf_c_message_free_unpacked(&sc->base, NULL);
		return ret;
	}
	*out = sc;
	return 0;
}
