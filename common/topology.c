/* Topology model and presets. See ktstr/topology.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/topology.h"
#include "ktstr/util.h"

int topo_parse(const char *s, struct ktstr_topo *t, char *err, size_t errlen)
{
	static const char *const names[] = { "numa_nodes", "llcs", "cores_per_llc",
					     "threads_per_core" };
	uint32_t v[4];
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		char *end;
		unsigned long x;

		if (*p < '0' || *p > '9') {
			snprintf(err, errlen,
				 "topology '%s': %s is missing or not a number (expected N,L,C,T, e.g. 1,2,4,1)",
				 s, names[i]);
			return -EINVAL;
		}
		x = strtoul(p, &end, 10);
		if (x == 0 || x > KTSTR_TOPO_MAX_CPUS) {
			snprintf(err, errlen, "topology '%s': %s must be between 1 and %u", s, names[i],
				 KTSTR_TOPO_MAX_CPUS);
			return -EINVAL;
		}
		v[i] = (uint32_t)x;
		p = end;
		if (i < 3) {
			if (*p == '\0') {
				snprintf(err, errlen,
					 "topology '%s': %s is missing (format N,L,C,T, e.g. 1,2,4,1)",
					 s, names[i + 1]);
				return -EINVAL;
			}
			if (*p != ',') {
				snprintf(err, errlen,
					 "topology '%s': expected ',' after %s (format N,L,C,T)", s,
					 names[i]);
				return -EINVAL;
			}
			p++;
		}
	}
	if (*p) {
		snprintf(err, errlen, "topology '%s': trailing characters '%s' (format N,L,C,T)", s, p);
		return -EINVAL;
	}
	t->numa_nodes = v[0];
	t->llcs = v[1];
	t->cores_per_llc = v[2];
	t->threads_per_core = v[3];
	return topo_validate(t, err, errlen);
}

int topo_validate(const struct ktstr_topo *t, char *err, size_t errlen)
{
	uint64_t cpus;

	if (!t->numa_nodes || !t->llcs || !t->cores_per_llc || !t->threads_per_core) {
		snprintf(err, errlen, "topology %u,%u,%u,%u: every dimension must be at least 1",
			 t->numa_nodes, t->llcs, t->cores_per_llc, t->threads_per_core);
		return -EINVAL;
	}
	if (t->llcs % t->numa_nodes) {
		snprintf(err, errlen,
			 "topology %u,%u,%u,%u: llcs (%u) must be a multiple of numa_nodes (%u) so every node gets whole LLCs",
			 t->numa_nodes, t->llcs, t->cores_per_llc, t->threads_per_core, t->llcs,
			 t->numa_nodes);
		return -EINVAL;
	}
	cpus = (uint64_t)t->llcs * t->cores_per_llc * t->threads_per_core;
	if (cpus > KTSTR_TOPO_MAX_CPUS) {
		snprintf(err, errlen, "topology %u,%u,%u,%u: %llu CPUs exceeds the maximum of %u",
			 t->numa_nodes, t->llcs, t->cores_per_llc, t->threads_per_core,
			 (unsigned long long)cpus, KTSTR_TOPO_MAX_CPUS);
		return -EINVAL;
	}
	return 0;
}

uint32_t topo_cpus(const struct ktstr_topo *t)
{
	return t->llcs * t->cores_per_llc * t->threads_per_core;
}

uint32_t topo_cpus_per_llc(const struct ktstr_topo *t)
{
	return t->cores_per_llc * t->threads_per_core;
}

uint32_t topo_llc_node(const struct ktstr_topo *t, uint32_t llc)
{
	return llc / (t->llcs / t->numa_nodes);
}

uint8_t topo_node_distance(uint32_t a, uint32_t b)
{
	return a == b ? 10 : 20;
}

void topo_cpu_coords(const struct ktstr_topo *t, uint32_t cpu, struct ktstr_cpu_coords *c)
{
	uint32_t per_llc = topo_cpus_per_llc(t);

	c->llc = cpu / per_llc;
	c->core = (cpu % per_llc) / t->threads_per_core;
	c->thread = cpu % t->threads_per_core;
	c->node = topo_llc_node(t, c->llc);
}

int topo_label(const struct ktstr_topo *t, char *buf, size_t len)
{
	return snprintf(buf, len, "%un%ul%uc%ut", t->numa_nodes, t->llcs, t->cores_per_llc,
			t->threads_per_core);
}

/* The x86_64 presets of the reference, in its order (docs/reference.md,
 * "Topology presets"). */
static const struct ktstr_topo_preset presets[] = {
	{ "tiny-1llc", { 1, 1, 4, 1 }, 0, true },
	{ "tiny-2llc", { 1, 2, 2, 1 }, 0, true },
	{ "odd-3llc", { 1, 3, 3, 1 }, 0, true },
	{ "odd-5llc", { 1, 5, 3, 1 }, 0, true },
	{ "odd-7llc", { 1, 7, 2, 1 }, 0, true },
	{ "smt-2llc", { 1, 2, 2, 2 }, 0, false },
	{ "smt-3llc", { 1, 3, 2, 2 }, 0, false },
	{ "medium-4llc", { 1, 4, 4, 2 }, 0, false },
	{ "medium-8llc", { 1, 8, 4, 2 }, 0, false },
	{ "large-4llc", { 1, 4, 16, 2 }, 0, false },
	{ "large-8llc", { 1, 8, 8, 2 }, 0, false },
	{ "near-max-llc", { 1, 15, 8, 2 }, 0, false },
	{ "max-cpu", { 1, 14, 9, 2 }, 4096, false },
	{ "medium-4llc-nosmt", { 1, 4, 8, 1 }, 0, true },
	{ "medium-8llc-nosmt", { 1, 8, 8, 1 }, 0, true },
	{ "large-4llc-nosmt", { 1, 4, 32, 1 }, 0, true },
	{ "large-8llc-nosmt", { 1, 8, 16, 1 }, 0, true },
	{ "near-max-llc-nosmt", { 1, 15, 16, 1 }, 0, true },
	{ "max-cpu-nosmt", { 1, 14, 18, 1 }, 4096, true },
	{ "numa2-4llc", { 2, 4, 4, 1 }, 0, true },
	{ "numa2-8llc", { 2, 8, 8, 2 }, 0, false },
	{ "numa2-8llc-nosmt", { 2, 8, 16, 1 }, 0, true },
	{ "numa4-8llc", { 4, 8, 4, 1 }, 0, true },
	{ "numa4-12llc", { 4, 12, 8, 2 }, 4096, false },
};

const struct ktstr_topo_preset *topo_presets(size_t *n)
{
	*n = ARRAY_SIZE(presets);
	return presets;
}

const struct ktstr_topo_preset *topo_preset_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (!strcmp(presets[i].name, name))
			return &presets[i];
	return NULL;
}
