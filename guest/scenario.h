/* Running one Scenario: cgroups, workers, steps with ops and holds, the
 * scheduler watch, STIMULUS/SCENARIO_START/SCENARIO_END messages, and the
 * verdict over the collected telemetry. */
#ifndef KTSTR_GUEST_SCENARIO_H
#define KTSTR_GUEST_SCENARIO_H

#include "gtopo.h"
#include "guest.pb-c.h"
#include "ktstr/scenario_rules.h"
#include "report.h"
#include "result.h"
#include "scheduler.h"

#define SCENARIO_MAX_CGROUPS KTSTR_SCENARIO_MAX_CGROUPS
#define SCENARIO_TICK_MS 50

struct scenario_env {
	struct report *rep;
	struct sched *sched;
	const struct gtopo *topo;
	const char *cg_parent; /* absolute cgroupfs dir holding the test's cgroups */
	const Ktstr__AssertSpec *asserts;
	Ktstr__PayloadSpec *const *payloads; /* GuestSpec.payloads (checked) */
	size_t npayloads;
};

/* Run sc and fill res (status, detail, failures, stats, steps_completed,
 * duration). Always leaves no worker running. */
void scenario_run(const struct scenario_env *env, const Ktstr__Scenario *sc, struct result *res);

#endif
