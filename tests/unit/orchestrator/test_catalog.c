/* The canned scenario catalogue has one home, orchestrator/scenario_catalog.c:
 * the host expands a name when it parses the suite and the guest runs the
 * Scenario it is sent (it has no catalogue; tests/unit/guest/spec_test.c
 * proves it does not expand a bare name). These tests prove the GuestSpec
 * carries exactly the host's expansion, so a second, drifting definition
 * anywhere on the way would show up here. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "plan.h"
#include "scenario_catalog.h"
#include "spec_build.h"

/* The GuestSpec the host sends for the only variant of yaml's only test. */
static Ktstr__GuestSpec *sent_spec(const char *yaml)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct suite *s = parse_ok(yaml);
	struct plan p;
	char err[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	Ktstr__GuestSpec *g;

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.n, 1);
	cr_assert_eq(spec_pack_guest(s, &p.v[0], false, &buf, &len), 0);
	g = ktstr__guest_spec__unpack(NULL, len, buf);
	cr_assert_not_null(g);
	free(buf);
	plan_free(&p);
	suite_free(s);
	return g;
}

static uint8_t *pack_scenario(const Ktstr__Scenario *sc, size_t *len)
{
	uint8_t *b;

	*len = ktstr__scenario__get_packed_size(sc);
	b = malloc(*len ? *len : 1);
	cr_assert_not_null(b);
	ktstr__scenario__pack(sc, b);
	return b;
}

static void assert_same_scenario(const Ktstr__Scenario *got, const Ktstr__Scenario *want,
				 const char *name)
{
	size_t glen, wlen;
	uint8_t *g = pack_scenario(got, &glen), *w = pack_scenario(want, &wlen);

	cr_assert(glen == wlen && !memcmp(g, w, glen),
		  "%s: the guest would receive a scenario other than the catalogue's (%zu vs %zu "
		  "bytes)",
		  name, glen, wlen);
	free(g);
	free(w);
}

static bool has_cgroup(const Ktstr__Scenario *sc, size_t upto_step, const char *name)
{
	for (size_t i = 0; i < sc->n_cgroups; i++)
		if (!strcmp(sc->cgroups[i]->name, name))
			return true;
	for (size_t s = 0; s < upto_step; s++)
		for (size_t i = 0; i < sc->steps[s]->n_ops; i++) {
			const Ktstr__Op *op = sc->steps[s]->ops[i];

			if (op->kind == KTSTR__OP__KIND__ADD_CGROUP && op->def &&
			    !strcmp(op->def->name, name))
				return true;
		}
	return false;
}

Test(catalog, every_canned_name_reaches_the_guest_exactly_as_expanded)
{
	size_t n;
	const struct canned_scenario *cat = scenario_catalog(&n);

	cr_assert_geq(n, 9);
	for (size_t i = 0; i < n; i++) {
		Ktstr__Scenario *want = NULL;
		Ktstr__GuestSpec *g;
		char yaml[256], err[512] = "";

		cr_assert_eq(scenario_catalog_build(cat[i].name, &want, err, sizeof(err)), 0, "%s: %s",
			     cat[i].name, err);
		snprintf(yaml, sizeof(yaml), "tests:\n  - {name: t, scenario: %s}\n", cat[i].name);
		g = sent_spec(yaml);
		cr_assert_not_null(g->scenario, "%s", cat[i].name);
		assert_same_scenario(g->scenario, want, cat[i].name);
		/* Expanded, never a bare name: the guest has nothing to expand it with. */
		cr_assert_str_eq(g->scenario->name, cat[i].name);
		cr_assert_gt(g->scenario->n_cgroups, 0, "%s", cat[i].name);
		/* Every op names a cgroup that exists by then, or the guest fails
		 * the canned scenario at run time. */
		for (size_t s = 0; s < g->scenario->n_steps; s++)
			for (size_t k = 0; k < g->scenario->steps[s]->n_ops; k++) {
				const Ktstr__Op *op = g->scenario->steps[s]->ops[k];

				if (op->cgroup)
					cr_assert(has_cgroup(g->scenario, s, op->cgroup),
						  "%s: step %zu names unknown cgroup %s", cat[i].name,
						  s, op->cgroup);
			}
		ktstr__guest_spec__free_unpacked(g, NULL);
		protobuf_c_message_free_unpacked(&want->base, NULL);
	}
}

Test(catalog, a_test_without_a_scenario_gets_the_catalogues_steady)
{
	Ktstr__Scenario *want = NULL;
	Ktstr__GuestSpec *g = sent_spec("tests:\n  - {name: t}\n");
	char err[512] = "";

	cr_assert_eq(scenario_catalog_build("steady", &want, err, sizeof(err)), 0, "%s", err);
	assert_same_scenario(g->scenario, want, "steady");
	ktstr__guest_spec__free_unpacked(g, NULL);
	protobuf_c_message_free_unpacked(&want->base, NULL);
}

/* duration: changes only the duration; the rest stays the catalogue's. */
Test(catalog, duration_overrides_only_the_duration)
{
	Ktstr__Scenario *want = NULL;
	Ktstr__GuestSpec *g =
		sent_spec("tests:\n  - {name: t, scenario: cpuset_apply, duration: 3s}\n");
	char err[512] = "";

	cr_assert_eq(scenario_catalog_build("cpuset_apply", &want, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(g->scenario->has_duration_ms);
	cr_assert_eq(g->scenario->duration_ms, 3000);
	want->has_duration_ms = 1;
	want->duration_ms = 3000;
	assert_same_scenario(g->scenario, want, "cpuset_apply");
	ktstr__guest_spec__free_unpacked(g, NULL);
	protobuf_c_message_free_unpacked(&want->base, NULL);
}

/* The shape docs/suite-format.md documents for oversubscribed (the entry
 * that had drifted between a host and a guest copy): cg0 and cg1, eight CPU
 * spinners each, whatever the topology. */
Test(catalog, oversubscribed_is_two_cgroups_of_eight_spinners)
{
	Ktstr__GuestSpec *g = sent_spec("tests:\n  - {name: t, scenario: oversubscribed, "
					"topology: \"1,2,4,2\"}\n");
	const Ktstr__Scenario *sc = g->scenario;

	cr_assert_eq(sc->n_cgroups, 2);
	cr_assert_eq(sc->n_steps, 0);
	for (size_t i = 0; i < 2; i++) {
		char name[8];

		snprintf(name, sizeof(name), "cg%zu", i);
		cr_assert_str_eq(sc->cgroups[i]->name, name);
		cr_assert_eq(sc->cgroups[i]->workers, 8);
		cr_assert(!sc->cgroups[i]->work ||
			  sc->cgroups[i]->work->type == KTSTR__WORK_TYPE__WORK_CPU_SPIN);
		cr_assert_null(sc->cgroups[i]->cpuset);
	}
	ktstr__guest_spec__free_unpacked(g, NULL);
}

Test(catalog, an_unknown_name_is_enoent)
{
	Ktstr__Scenario *sc = NULL;
	char err[64] = "";

	cr_assert_eq(scenario_catalog_build("stedy", &sc, err, sizeof(err)), -ENOENT);
	cr_assert_null(sc);
	cr_assert_null(scenario_catalog_find("stedy"));
	cr_assert_not_null(scenario_catalog_find("oversubscribed"));
}
