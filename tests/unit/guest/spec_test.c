/* GuestSpec decoding: errors, and a scenario taken exactly as sent. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static uint8_t *pack(const Ktstr__GuestSpec *g, size_t *len)
{
	uint8_t *b;

	*len = ktstr__guest_spec__get_packed_size(g);
	b = malloc(*len + 1);
	ktstr__guest_spec__pack(g, b);
	return b;
}

Test(spec, garbage_is_ebadmsg_with_advice)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0x01 };
	Ktstr__GuestSpec *g = NULL;
	char err[512];

	cr_assert_eq(spec_decode(junk, sizeof(junk), &g, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "GuestSpec"), "%s", err);
	cr_assert_eq(spec_decode(junk, 0, &g, err, sizeof(err)), -EBADMSG, "mode is required");
}

Test(spec, test_mode_needs_a_scenario)
{
	Ktstr__GuestSpec g = KTSTR__GUEST_SPEC__INIT, *out = NULL;
	char err[512];
	size_t len;
	uint8_t *b = pack(&g, &len);

	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "scenario"), "%s", err);
	free(b);
}

Test(spec, bad_names_odd_pairs_and_sysctls_are_rejected)
{
	Ktstr__GuestSpec g = KTSTR__GUEST_SPEC__INIT, *out = NULL;
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	Ktstr__CgroupDef d = KTSTR__CGROUP_DEF__INIT, *dp = &d;
	Ktstr__WorkSpec w = KTSTR__WORK_SPEC__INIT;
	char err[512], *sys[] = { "kernel.foo" };
	size_t len;
	uint8_t *b;

	sc.name = "x";
	sc.n_cgroups = 1;
	sc.cgroups = &dp;
	g.scenario = &sc;
	d.name = "../etc";
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "cgroup name"), "%s", err);
	free(b);

	d.name = "cg";
	d.work = &w;
	w.type = KTSTR__WORK_TYPE__WORK_PIPE_IO;
	d.has_workers = 1;
	d.workers = 3;
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "multiple of 2"), "%s", err);
	free(b);

	d.workers = 4;
	g.n_sysctls = 1;
	g.sysctls = sys;
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "key=value"), "%s", err);
	free(b);

	g.n_sysctls = 0;
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(out->scenario->cgroups[0]->workers, 4);
	ktstr__guest_spec__free_unpacked(out, NULL);
	free(b);
}

Test(spec, op_references_are_checked)
{
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	Ktstr__Step st = KTSTR__STEP__INIT, *stp = &st;
	Ktstr__Op op = KTSTR__OP__INIT, *opp = &op;
	char err[512];

	sc.name = "x";
	sc.n_steps = 1;
	sc.steps = &stp;
	st.n_ops = 1;
	st.ops = &opp;
	op.kind = KTSTR__OP__KIND__SET_CPUSET;
	op.cgroup = "cg_0";
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "set_cpuset needs cpuset"), "%s", err);
	op.kind = KTSTR__OP__KIND__ADD_CGROUP;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "needs def"), "%s", err);
}

/* The guest has no catalogue (the host expands canned names,
 * orchestrator/scenario_catalog.c): a scenario that carries only a canned
 * name comes out of decoding as sent, with no cgroups, so nothing in the
 * guest can turn it into a second, drifting definition. */
Test(spec, a_bare_canned_name_is_not_expanded)
{
	Ktstr__GuestSpec g = KTSTR__GUEST_SPEC__INIT, *out = NULL;
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	char err[512];
	size_t len;
	uint8_t *b;

	sc.name = "oversubscribed";
	g.scenario = &sc;
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(out->scenario->name, "oversubscribed");
	cr_assert_eq(out->scenario->n_cgroups, 0);
	cr_assert_eq(out->scenario->n_steps, 0);
	ktstr__guest_spec__free_unpacked(out, NULL);
	free(b);
}

Test(spec, an_impossible_topology_is_rejected)
{
	Ktstr__GuestSpec g = KTSTR__GUEST_SPEC__INIT, *out = NULL;
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	char err[512];
	size_t len;
	uint8_t *b;

	sc.name = "x";
	g.scenario = &sc;
	g.topology = &t;
	t.numa_nodes = 2;
	t.llcs = 3;
	t.cores_per_llc = t.threads_per_core = 1;
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "spec topology") && strstr(err, "multiple of numa_nodes"), "%s",
		  err);
	free(b);
	t.llcs = 4;
	b = pack(&g, &len);
	cr_assert_eq(spec_decode(b, len, &out, err, sizeof(err)), 0, "%s", err);
	ktstr__guest_spec__free_unpacked(out, NULL);
	free(b);
}

/* The guest applies the host's scenario rules (ktstr/scenario_rules.h) to
 * what it decodes, in the same words: an op on a cgroup an earlier op
 * removed is refused before anything runs, not mid-scenario. */
Test(spec, scenario_rules_are_the_hosts)
{
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	Ktstr__CgroupDef d = KTSTR__CGROUP_DEF__INIT, *dp = &d;
	Ktstr__Step st = KTSTR__STEP__INIT, *stp = &st;
	Ktstr__Op rm = KTSTR__OP__INIT, stop = KTSTR__OP__INIT, *ops[] = { &rm, &stop };
	char err[512];

	sc.name = "x";
	sc.n_cgroups = 1;
	sc.cgroups = &dp;
	d.name = "a";
	sc.n_steps = 1;
	sc.steps = &stp;
	st.n_ops = 2;
	st.ops = ops;
	rm.kind = KTSTR__OP__KIND__REMOVE_CGROUP;
	rm.cgroup = "a";
	stop.kind = KTSTR__OP__KIND__STOP_CGROUP;
	stop.cgroup = "a";
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "scenario x steps[0].ops[1].cgroup: stop_cgroup: cgroup 'a' no longer "
			      "exists here (created by cgroups[0], removed by steps[0].ops[0]); use it "
			      "before it is removed, or add it again");
	st.n_ops = 1;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), 0, "%s", err);
}
