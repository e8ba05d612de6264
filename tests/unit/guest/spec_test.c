/* GuestSpec decoding errors and catalogue expansion. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
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
	cr_assert(strstr(err, "SET_CPUSET needs cpuset"), "%s", err);
	op.kind = KTSTR__OP__KIND__ADD_CGROUP;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "needs def"), "%s", err);
}

Test(catalog, every_name_expands_to_a_valid_scenario)
{
	size_t n;
	const char *const *names = catalog_names(&n);
	struct catalog_params p = { .cpus = 3, .llcs = 2, .duration_ms = 1000 };

	cr_assert_eq(n, 9);
	for (size_t i = 0; i < n; i++) {
		Ktstr__Scenario *sc = NULL;
		char err[512];

		cr_assert_eq(catalog_expand(names[i], &p, &sc, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(sc->name, names[i]);
		cr_assert_eq(sc->duration_ms, 1000);
		cr_assert_eq(spec_validate_scenario(sc, err, sizeof(err)), 0, "%s: %s", names[i],
			     err);
		ktstr__scenario__free_unpacked(sc, NULL);
	}
}

Test(catalog, shapes_follow_the_topology)
{
	Ktstr__Scenario *sc = NULL;
	struct catalog_params p = { .cpus = 7, .llcs = 4 };
	char err[512];

	cr_assert_eq(catalog_expand("steady_llc", &p, &sc, err, sizeof(err)), 0);
	cr_assert_eq(sc->n_cgroups, 4);
	cr_assert_eq(sc->cgroups[3]->cpuset->kind, KTSTR__CPUSET_SPEC__KIND__LLC);
	cr_assert_eq(sc->cgroups[3]->cpuset->index, 3);
	ktstr__scenario__free_unpacked(sc, NULL);
	cr_assert_eq(catalog_expand("oversubscribed", &p, &sc, err, sizeof(err)), 0);
	cr_assert_eq(sc->cgroups[0]->workers + sc->cgroups[1]->workers, 14);
	ktstr__scenario__free_unpacked(sc, NULL);
	cr_assert_eq(catalog_expand("nope", &p, &sc, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "steady_llc"), "%s", err);
}
