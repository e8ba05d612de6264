/* GuestSpec decoding. The spec comes from our own host, but it is still
 * checked fully here: a bad spec must end as SETUP_FAILED with a message
 * naming the field, never as a half-run scenario. protobuf-c checks required
 * fields; enum ranges, names and cross-references are checked below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/topology.h"
#include "ktstr/util.h"
#include "spec.h"

int spec_check_cgroup_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n > SPEC_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return -EINVAL;
	}
	return 0;
}

uint64_t spec_work_group_size(const Ktstr__WorkSpec *w)
{
	switch (w ? w->type : KTSTR__WORK_TYPE__WORK_CPU_SPIN) {
	case KTSTR__WORK_TYPE__WORK_PIPE_IO:
	case KTSTR__WORK_TYPE__WORK_FUTEX_PING_PONG:
	case KTSTR__WORK_TYPE__WORK_CACHE_PIPE:
		return 2;
	case KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT:
		return (w->has_fan_out && w->fan_out ? (uint64_t)w->fan_out : 4u) + 1u;
	case KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION:
		return w->has_contenders && w->contenders ? w->contenders : 4u;
	default:
		return 1;
	}
}

static int check_def(const Ktstr__CgroupDef *d, const char *where, char *err, size_t errlen)
{
	uint64_t g;

	if (spec_check_cgroup_name(d->name)) {
		snprintf(err, errlen,
			 "%s: cgroup name \"%s\" must be 1-%d chars of [A-Za-z0-9_.-]", where,
			 d->name ? d->name : "", SPEC_NAME_MAX);
		return -EINVAL;
	}
	if (d->workers > SPEC_MAX_WORKERS) {
		snprintf(err, errlen, "%s: cgroup %s asks for %u workers (max %u)", where, d->name,
			 d->workers, SPEC_MAX_WORKERS);
		return -EINVAL;
	}
	if (d->work && (d->work->type < 0 || d->work->type > KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION)) {
		snprintf(err, errlen, "%s: cgroup %s has unknown work type %d", where, d->name,
			 (int)d->work->type);
		return -EINVAL;
	}
	g = spec_work_group_size(d->work);
	if (g > SPEC_MAX_WORKERS) {
		snprintf(err, errlen,
			 "%s: cgroup %s: a %s group of %llu workers is more than the %u a "
			 "scenario may have; lower fan_out/contenders",
			 where, d->name,
			 protobuf_c_enum_descriptor_get_value(&ktstr__work_type__descriptor,
							      d->work->type)->name,
			 (unsigned long long)g, SPEC_MAX_WORKERS);
		return -EINVAL;
	}
	if (d->workers % g) {
		snprintf(err, errlen,
			 "%s: cgroup %s runs %s in groups of %llu but has %u workers; use a "
			 "multiple of %llu",
			 where, d->name,
			 protobuf_c_enum_descriptor_get_value(&ktstr__work_type__descriptor,
							      d->work->type)->name,
			 (unsigned long long)g, d->workers, (unsigned long long)g);
		return -EINVAL;
	}
	if (d->has_policy && (d->policy < 0 || d->policy > KTSTR__SCHED_POLICY__POLICY_RR)) {
		snprintf(err, errlen, "%s: cgroup %s has unknown policy %d", where, d->name,
			 (int)d->policy);
		return -EINVAL;
	}
	return 0;
}

int spec_validate_scenario(const Ktstr__Scenario *sc, char *err, size_t errlen)
{
	char where[128];
	int ret;

	if (sc->duration_ms == 0 || sc->duration_ms > 3600u * 1000u) {
		snprintf(err, errlen, "scenario %s: duration_ms %u must be 1..3600000", sc->name,
			 sc->duration_ms);
		return -EINVAL;
	}
	for (size_t i = 0; i < sc->n_cgroups; i++) {
		snprintf(where, sizeof(where), "scenario %.30s cgroups[%zu]", sc->name, i);
		ret = check_def(sc->cgroups[i], where, err, errlen);
		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(sc->cgroups[i]->name, sc->cgroups[j]->name)) {
				snprintf(err, errlen, "%s: duplicate cgroup name %s", where,
					 sc->cgroups[i]->name);
				return -EINVAL;
			}
	}
	for (size_t s = 0; s < sc->n_steps; s++) {
		const Ktstr__Step *st = sc->steps[s];

		if (st->hold && st->hold->kind == KTSTR__HOLD_SPEC__KIND__FRAC &&
		    !(st->hold->frac >= 0.0 && st->hold->frac <= 1.0)) {
			snprintf(err, errlen, "scenario %s steps[%zu]: hold frac %g not in [0,1]",
				 sc->name, s, st->hold->frac);
			return -EINVAL;
		}
		for (size_t o = 0; o < st->n_ops; o++) {
			const Ktstr__Op *op = st->ops[o];

			snprintf(where, sizeof(where), "scenario %.30s steps[%zu].ops[%zu]", sc->name,
				 s, o);
			if (op->kind < 0 || op->kind > KTSTR__OP__KIND__MOVE_ALL_TASKS) {
				snprintf(err, errlen, "%s: unknown op kind %d", where, (int)op->kind);
				return -EINVAL;
			}
			if (op->kind == KTSTR__OP__KIND__ADD_CGROUP ||
			    op->kind == KTSTR__OP__KIND__SPAWN) {
				if (!op->def) {
					snprintf(err, errlen, "%s: %s needs def", where,
						 op->kind == KTSTR__OP__KIND__SPAWN ? "SPAWN"
										    : "ADD_CGROUP");
					return -EINVAL;
				}
				ret = check_def(op->def, where, err, errlen);
				if (ret)
					return ret;
				continue;
			}
			if (spec_check_cgroup_name(op->cgroup)) {
				snprintf(err, errlen, "%s: needs a valid cgroup name (got \"%s\")",
					 where, op->cgroup ? op->cgroup : "");
				return -EINVAL;
			}
			if ((op->kind == KTSTR__OP__KIND__SWAP_CPUSETS ||
			     op->kind == KTSTR__OP__KIND__MOVE_ALL_TASKS) &&
			    spec_check_cgroup_name(op->cgroup2)) {
				snprintf(err, errlen, "%s: needs a valid cgroup2 name (got \"%s\")",
					 where, op->cgroup2 ? op->cgroup2 : "");
				return -EINVAL;
			}
			if (op->kind == KTSTR__OP__KIND__SET_CPUSET && !op->cpuset) {
				snprintf(err, errlen, "%s: SET_CPUSET needs cpuset", where);
				return -EINVAL;
			}
			if (op->kind == KTSTR__OP__KIND__SET_AFFINITY && !op->affinity) {
				snprintf(err, errlen, "%s: SET_AFFINITY needs affinity", where);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int validate(const Ktstr__GuestSpec *g, char *err, size_t errlen)
{
	if (g->mode != KTSTR__GUEST_SPEC__MODE__MODE_TEST &&
	    g->mode != KTSTR__GUEST_SPEC__MODE__MODE_SHELL) {
		snprintf(err, errlen, "spec mode %d unknown", (int)g->mode);
		return -EINVAL;
	}
	for (size_t i = 0; i < g->n_sysctls; i++) {
		const char *eq = strchr(g->sysctls[i], '=');

		if (!eq || eq == g->sysctls[i] || strstr(g->sysctls[i], "..")) {
			snprintf(err, errlen, "sysctls[%zu] \"%s\" is not key=value", i,
				 g->sysctls[i]);
			return -EINVAL;
		}
	}
	if (g->topology) {
		struct ktstr_topo t = { g->topology->numa_nodes, g->topology->llcs,
					g->topology->cores_per_llc, g->topology->threads_per_core };
		char why[256];

		if (topo_validate(&t, why, sizeof(why))) {
			snprintf(err, errlen, "spec topology: %s", why);
			return -EINVAL;
		}
	}
	if (g->mode == KTSTR__GUEST_SPEC__MODE__MODE_SHELL)
		return 0;
	if (g->scheduler) {
		const Ktstr__SchedulerSpec *s = g->scheduler;

		if (s->kind < 0 || s->kind > KTSTR__SCHEDULER_SPEC__KIND__KERNEL_BUILTIN) {
			snprintf(err, errlen, "scheduler kind %d unknown", (int)s->kind);
			return -EINVAL;
		}
		if (s->cgroup_parent && (s->cgroup_parent[0] != '/' || strstr(s->cgroup_parent, ".."))) {
			snprintf(err, errlen,
				 "scheduler cgroup_parent \"%s\" must be an absolute path below "
				 "/sys/fs/cgroup without \"..\"",
				 s->cgroup_parent);
			return -EINVAL;
		}
		if (s->attach_timeout_ms > 600000 || s->death_poll_ms > 600000) {
			snprintf(err, errlen, "scheduler timeouts above 600 s are not allowed");
			return -EINVAL;
		}
	}
	if (!g->scenario) {
		snprintf(err, errlen,
			 "test mode spec has no scenario; the host must send one (canned "
			 "scenarios are expanded by the host, not here)");
		return -EINVAL;
	}
	return spec_validate_scenario(g->scenario, err, errlen);
}

int spec_decode(const uint8_t *buf, size_t len, Ktstr__GuestSpec **out, char *err, size_t errlen)
{
	Ktstr__GuestSpec *g = ktstr__guest_spec__unpack(NULL, len, buf);
	int ret;

	if (!g) {
		snprintf(err, errlen,
			 "spec.pb (%zu bytes) does not decode as ktstr.GuestSpec (bad wire data "
			 "or a missing required field); rebuild the image with a matching "
			 "ktstr-orch",
			 len);
		return -EBADMSG;
	}
	ret = validate(g, err, errlen);
	if (ret) {
		ktstr__guest_spec__free_unpacked(g, NULL);
		return ret;
	}
	*out = g;
	return 0;
}

int spec_load(const char *path, Ktstr__GuestSpec **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = read_file(path, &buf, &len, SPEC_MAX_BYTES);

	if (ret) {
		snprintf(err, errlen, "cannot read %s: %s%s", path, strerror(-ret),
			 ret == -EFBIG ? " (larger than 1 MiB)" : "");
		return ret;
	}
	ret = spec_decode((const uint8_t *)buf, len, out, err, errlen);
	free(buf);
	return ret;
}
