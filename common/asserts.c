#include "ktstr/asserts.h"
#include "ktstr/util.h"

#include <stddef.h>
#include <string.h>

/* Judged by the guest from its workers' telemetry (guest/verdict.c). */
static const char *const judged[] = {
	"not_starved",	      "max_spread_pct",		 "max_gap_ms",
	"isolation",	      "max_throughput_cv",	 "min_work_rate",
	"max_p99_wake_latency_ns", "max_wake_latency_cv", "min_iteration_rate",
	"max_migration_ratio",
};

/* Declared in the wire format for checks that need the host-side monitor
 * (docs/monitor.md): refused until it judges them. */
static const struct {
	const char *name, *why;
} unjudged[] = {
	{ "max_imbalance_ratio",
	  "the runqueue imbalance ratio is judged by the host-side monitor of the guest "
	  "kernel (docs/monitor.md), which does not evaluate it yet; remove the field" },
};

bool ktstr_assert_judged(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(judged); i++)
		if (!strcmp(judged[i], name))
			return true;
	return false;
}

const char *ktstr_assert_unjudged_why(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(unjudged); i++)
		if (!strcmp(unjudged[i].name, name))
			return unjudged[i].why;
	return NULL;
}
