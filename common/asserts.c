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

/* Judged by the host-side monitor from the guest kernel's runqueues
 * (vmm-worker/monitor/, docs/monitor.md), carried in MonitorSpec. */
static const char *const by_monitor[] = {
	"max_imbalance_ratio", "max_local_dsq_depth", "fail_on_stall", "sustained_samples",
};

static bool listed(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

enum ktstr_assert_judge ktstr_assert_judge(const char *name)
{
	if (listed(judged, ARRAY_SIZE(judged), name))
		return KTSTR_ASSERT_BY_GUEST;
	if (listed(by_monitor, ARRAY_SIZE(by_monitor), name))
		return KTSTR_ASSERT_BY_MONITOR;
	return KTSTR_ASSERT_UNJUDGED;
}

bool ktstr_assert_judged(const char *name)
{
	return ktstr_assert_judge(name) != KTSTR_ASSERT_UNJUDGED;
}
