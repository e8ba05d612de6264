/* GuestSpec decoding. The spec comes from our own host, but it is still
 * checked fully here: a bad spec must end as SETUP_FAILED with a message
 * naming the field, never as a half-run scenario. protobuf-c checks required
 * fields; enum ranges, names and cross-references are checked below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/payload.h"
#include "ktstr/scenario_rules.h"
#include "ktstr/topology.h"
#include "ktstr/util.h"
#include "spec.h"

int spec_validate_scenario(const Ktstr__Scenario *sc, char *err, size_t errlen)
{
	char path[96], why[400];
	int ret = ktstr_scenario_check(sc, NULL, path, sizeof(path), why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "scenario %.30s %s: %s", sc->name, path, why);
	return ret;
}

static int validate(const Ktstr__GuestSpec *g, char *err, size_t errlen)
{
	if (g->mode != KTSTR__GUEST_SPEC__MODE__MODE_TEST &&
	    g->mode != KTSTR__GUEST_SPEC__MODE__MODE_SHELL) {
		snprintf(err, errlen, "spec mode %d unknown", (int)g->mode);
		return -EINVAL;
	}
	for (size_t i = 0; i < g->n_sysctls; i++) {
		char why[400];

		if (ktstr_sysctl_check(g->sysctls[i], why, sizeof(why))) {
			snprintf(err, errlen, "sysctls[%zu]: %s", i, why);
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
		char why[400];

		if (s->cgroup_parent && ktstr_cgroup_parent_check(s->cgroup_parent, why, sizeof(why))) {
			snprintf(err, errlen, "scheduler: %s (got \"%.300s\")", why, s->cgroup_parent);
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
	if (spec_validate_scenario(g->scenario, err, errlen))
		return -EINVAL;
	{
		char path[96], why[600];

		if (ktstr_payload_ops_check(g->scenario, g->payloads, g->n_payloads, path,
					    sizeof(path), why, sizeof(why))) {
			snprintf(err, errlen, "scenario %.30s %s: %s", g->scenario->name, path, why);
			return -EINVAL;
		}
	}
	if (g->c_test) {
		size_t i;

		for (i = 0; i < g->n_payloads; i++)
			if (!strcmp(g->payloads[i]->name, g->c_test->payload))
				break;
		if (i == g->n_payloads) {
			snprintf(err, errlen, "c_test: payload \"%.64s\" is not in the spec",
				 g->c_test->payload);
			return -EINVAL;
		}
	}
	return 0;
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
