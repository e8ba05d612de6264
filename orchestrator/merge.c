#include "merge.h"

#include <string.h>

/* The reference's fixed flag for a scheduler's config_file: a scheduler
 * that reads its configuration under another flag gets the file through
 * include_files and the flag through sched_args. */
#define SCHED_CONFIG_ARG "--config"

int merge_sched_args(const struct sched_def *sd, const struct test_def *t, uint32_t profile,
		     struct strv *out)
{
	int ret = 0;

	if (sd->config.n) {
		ret = strv_push(out, SCHED_CONFIG_ARG);
		if (!ret)
			ret = strv_push(out, sd->config.v[0].dest);
	}
	if (!ret && sd->cgroup_parent) {
		ret = strv_push(out, "--cell-parent-cgroup");
		if (!ret)
			ret = strv_push(out, sd->cgroup_parent);
	}
	if (!ret)
		ret = strv_extend(out, &sd->sched_args);
	if (!ret && t)
		ret = strv_extend(out, &t->extra_sched_args);
	for (size_t i = 0; !ret && i < sd->nflags; i++)
		if (profile & (1u << i))
			ret = strv_extend(out, &sd->flags[i].args);
	return ret;
}

void asserts_defaults(Ktstr__AssertSpec *out)
{
	ktstr__assert_spec__init(out);
	out->has_not_starved = 1;
	out->not_starved = 1;
	out->has_max_spread_pct = 1;
	out->max_spread_pct = 15.0;
	out->has_max_gap_ms = 1;
	out->max_gap_ms = 2000;
	/* No monitor thresholds (max_imbalance_ratio, ...): their defaults
	 * are MonitorSpec's (proto/worker.proto), and merge_monitor keeps
	 * them unless a suite sets one. */
}

/* Driven by the descriptor so a field added to AssertSpec merges without
 * touching this code. Every AssertSpec field is an optional scalar with a
 * has_ flag. */
void asserts_overlay(Ktstr__AssertSpec *dst, const Ktstr__AssertSpec *src)
{
	const ProtobufCMessageDescriptor *d = &ktstr__assert_spec__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t sz = f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_UINT64 ||
					    f->type == PROTOBUF_C_TYPE_INT64
				    ? 8
			    : f->type == PROTOBUF_C_TYPE_BOOL ? sizeof(protobuf_c_boolean)
							      : 4;

		if (!*(const protobuf_c_boolean *)((const char *)src + f->quantifier_offset))
			continue;
		memcpy((char *)dst + f->offset, (const char *)src + f->offset, sz);
		*(protobuf_c_boolean *)((char *)dst + f->quantifier_offset) = 1;
	}
}

void merge_asserts(const struct sched_def *sd, const struct test_def *t, Ktstr__AssertSpec *out)
{
	asserts_defaults(out);
	asserts_overlay(out, &sd->asserts);
	if (t)
		asserts_overlay(out, &t->asserts);
}

struct ktstr_topo merge_topology(const struct sched_def *sd, const struct test_def *t)
{
	struct ktstr_topo r = sd->topo;

	if (t->topo.numa_nodes)
		r.numa_nodes = t->topo.numa_nodes;
	if (t->topo.llcs)
		r.llcs = t->topo.llcs;
	if (t->topo.cores_per_llc)
		r.cores_per_llc = t->topo.cores_per_llc;
	if (t->topo.threads_per_core)
		r.threads_per_core = t->topo.threads_per_core;
	return r;
}

static void cons_overlay(struct topo_constraints *dst, const struct topo_constraints *src)
{
	if (src->set_mask & TC_MIN_NUMA)
		dst->min_numa = src->min_numa;
	if (src->set_mask & TC_MAX_NUMA)
		dst->max_numa = src->max_numa;
	if (src->set_mask & TC_MIN_LLCS)
		dst->min_llcs = src->min_llcs;
	if (src->set_mask & TC_MAX_LLCS)
		dst->max_llcs = src->max_llcs;
	if (src->set_mask & TC_MIN_CPUS)
		dst->min_cpus = src->min_cpus;
	if (src->set_mask & TC_MAX_CPUS)
		dst->max_cpus = src->max_cpus;
	if (src->set_mask & TC_SMT)
		dst->requires_smt = src->requires_smt;
	dst->set_mask |= src->set_mask;
}

struct topo_constraints merge_constraints(const struct sched_def *sd, const struct test_def *t)
{
	struct topo_constraints c = { .min_numa = 1, .max_numa = 1, .min_llcs = 1, .max_llcs = 12,
				      .min_cpus = 1, .max_cpus = 192 };

	cons_overlay(&c, &sd->cons);
	if (t)
		cons_overlay(&c, &t->cons);
	return c;
}

int merge_cmdline(const struct sched_def *sd, struct strv *out)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < sd->sysctls.n; i++)
		ret = strv_pushf(out, "sysctl.%s", sd->sysctls.v[i]);
	if (!ret)
		ret = strv_extend(out, &sd->kargs);
	return ret;
}

void merge_monitor(const struct sched_def *sd, const struct test_def *t, Ktstr__MonitorSpec *out)
{
	Ktstr__AssertSpec a;

	ktstr__monitor_spec__init(out);
	merge_asserts(sd, t, &a);
	if (a.has_max_imbalance_ratio) {
		out->has_max_imbalance_ratio = 1;
		out->max_imbalance_ratio = a.max_imbalance_ratio;
	}
	if (a.has_max_local_dsq_depth) {
		out->has_max_local_dsq_depth = 1;
		out->max_local_dsq_depth = a.max_local_dsq_depth;
	}
	if (a.has_fail_on_stall) {
		out->has_fail_on_stall = 1;
		out->fail_on_stall = a.fail_on_stall;
	}
	if (a.has_sustained_samples) {
		out->has_sustained_samples = 1;
		out->sustained_samples = a.sustained_samples;
	}
	/* Set by neither: MonitorSpec's own default, which init put there
	 * (proto/worker.proto is its one home). Marked set either way, so
	 * the spec on the wire names the timeout in force. */
	out->has_watchdog_timeout_ms = 1;
	if (t->watchdog_timeout_ms)
		out->watchdog_timeout_ms = t->watchdog_timeout_ms;
	else if (sd->watchdog_timeout_ms)
		out->watchdog_timeout_ms = sd->watchdog_timeout_ms;
}
