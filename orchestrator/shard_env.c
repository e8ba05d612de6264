#include "shard_env.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "shard_assign.h"

/* One engine: where it puts the job's index and the number of jobs, and
 * what its first index is. Slurm's first index is SLURM_ARRAY_TASK_MIN
 * (an array may be --array=5-8); Kubernetes has no total at all. */
struct shard_engine {
	const char *engine, *index, *total;
	uint32_t base; /* the first job's index: 0 or 1 */
	bool slurm;    /* index relative to SLURM_ARRAY_TASK_MIN, contiguous only */
};

static const struct shard_engine engines[] = {
	{ "GitLab CI", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1, false },
	{ "Buildkite", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0, false },
	{ "Kubernetes Indexed Job", "JOB_COMPLETION_INDEX", "KTSTR_SHARD_TOTAL", 0, false },
	{ "Slurm job array", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", 0, true },
	{ "KTSTR_SHARD_INDEX", "KTSTR_SHARD_INDEX", "KTSTR_SHARD_TOTAL", 1, false },
};

/* Every variable `--partition auto` reads, and nothing else: the lookup
 * is an allow-list (docs/environment.md lists each). */
static const char *const shard_env_vars[] = {
	"CI_NODE_INDEX",	  "CI_NODE_TOTAL",	    "BUILDKITE_PARALLEL_JOB",
	"BUILDKITE_PARALLEL_JOB_COUNT", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID",
	"SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",  "SLURM_ARRAY_TASK_MAX",
	"SLURM_ARRAY_TASK_STEP",  "KTSTR_SHARD_INDEX",	    "KTSTR_SHARD_TOTAL",
};

const char *shard_getenv_process(const char *name, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < ARRAY_SIZE(shard_env_vars); i++)
		if (!strcmp(shard_env_vars[i], name))
			return getenv(shard_env_vars[i]);
	return NULL;
}

/* A decimal of at most 10 digits, nothing else (no sign, no space), at
 * most max. */
static int env_number(const char *name, const char *val, uint32_t max, uint32_t *out,
		      char *err, size_t errlen)
{
	size_t len = strnlen(val, 11);
	unsigned long long v = 0;

	for (size_t i = 0; i < len; i++)
		if (val[i] < '0' || val[i] > '9')
			len = 0;
	if (len && len <= 10)
		v = strtoull(val, NULL, 10);
	if (!len || len > 10 || v > max) {
		snprintf(err, errlen, "%s='%.32s%s' is not a number 0..%u", name, val,
			 strnlen(val, 33) > 32 ? "..." : "", max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Slurm numbers tasks by the array's own ids: --array=5-8 runs ids 5..8
 * with SLURM_ARRAY_TASK_MIN=5. A stepped or listed array (--array=0-15:4,
 * --array=1,3,7) has ids that are not min..min+count-1: refused rather
 * than guessed. */
static int slurm_shard(shard_getenv_fn get, void *arg, uint32_t id, uint32_t count, uint32_t *k,
		       char *err, size_t errlen)
{
	const char *smin = get("SLURM_ARRAY_TASK_MIN", arg), *smax = get("SLURM_ARRAY_TASK_MAX", arg);
	const char *step = get("SLURM_ARRAY_TASK_STEP", arg);
	uint32_t min, max, st;

	if (!smin) {
		snprintf(err, errlen, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not: "
				      "cannot tell which task of the array this is");
		return -EINVAL;
	}
	if (env_number("SLURM_ARRAY_TASK_MIN", smin, UINT32_MAX, &min, err, errlen))
		return -EINVAL;
	if (step && (env_number("SLURM_ARRAY_TASK_STEP", step, UINT32_MAX, &st, err, errlen) ||
		     st != 1)) {
		snprintf(err, errlen, "SLURM_ARRAY_TASK_STEP=%.16s: the job array is stepped; "
				      "use a contiguous one (--array=0-%u)", step, count - 1);
		return -EINVAL;
	}
	if (smax && (env_number("SLURM_ARRAY_TASK_MAX", smax, UINT32_MAX, &max, err, errlen) ||
		     (uint64_t)max - min + 1 != count)) {
		snprintf(err, errlen, "SLURM_ARRAY_TASK_MIN=%u SLURM_ARRAY_TASK_MAX=%.16s "
				      "SLURM_ARRAY_TASK_COUNT=%u: the job array is not contiguous; "
				      "use --array=%u-%u", min, smax, count, min, min + count - 1);
		return -EINVAL;
	}
	if (id < min || (uint64_t)id - min >= count) {
		snprintf(err, errlen, "SLURM_ARRAY_TASK_ID=%u is outside the array's %u tasks "
				      "from SLURM_ARRAY_TASK_MIN=%u", id, count, min);
		return -EINVAL;
	}
	*k = id - min + 1;
	return 0;
}

/* One engine's shard, its index variable being set. */
static int engine_shard(const struct shard_engine *e, shard_getenv_fn get, void *arg,
			const char *sidx, struct shard_env *out, char *err, size_t errlen)
{
	const char *stot = get(e->total, arg);
	uint32_t idx, tot;
	int ret;

	if (!stot) {
		snprintf(err, errlen, "%s is set but %s is not%s", e->index, e->total,
			 !strcmp(e->index, "JOB_COMPLETION_INDEX")
				 ? " (Kubernetes has no variable for the number of completions: "
				   "set KTSTR_SHARD_TOTAL to the Job's spec.completions)"
				 : "");
		return -EINVAL;
	}
	ret = env_number(e->index, sidx, UINT32_MAX, &idx, err, errlen);
	if (!ret)
		ret = env_number(e->total, stot, SHARD_TOTAL_MAX, &tot, err, errlen);
	if (!ret && !tot) {
		snprintf(err, errlen, "%s=0: there must be at least one shard", e->total);
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	if (e->slurm) {
		ret = slurm_shard(get, arg, idx, tot, &out->k, err, errlen);
		if (ret)
			return ret;
	} else if (idx < e->base || (uint64_t)idx - e->base >= tot) {
		snprintf(err, errlen, "%s=%u is outside %u..%u (%s counts from %u, %s=%u)", e->index,
			 idx, e->base, e->base + tot - 1, e->engine, e->base, e->total, tot);
		return -EINVAL;
	} else {
		out->k = idx - e->base + 1;
	}
	out->n = tot;
	snprintf(out->source, sizeof(out->source), "%s: %s=%u %s=%u", e->engine, e->index, idx,
		 e->total, tot);
	return 0;
}

int shard_env_resolve(shard_getenv_fn get, void *arg, struct shard_env *out, char *err,
		      size_t errlen)
{
	struct shard_env first = { 0 }, cur;
	bool found = false;

	for (size_t i = 0; i < ARRAY_SIZE(engines); i++) {
		const char *sidx = get(engines[i].index, arg);

		if (!sidx)
			continue;
		if (engine_shard(&engines[i], get, arg, sidx, &cur, err, errlen))
			return -EINVAL;
		if (found && (cur.k != first.k || cur.n != first.n)) {
			snprintf(err, errlen, "two shards in the environment: %s (shard %u of %u) "
					      "and %s (shard %u of %u); unset one",
				 first.source, first.k, first.n, cur.source, cur.k, cur.n);
			return -EINVAL;
		}
		if (!found)
			first = cur;
		found = true;
	}
	if (!found) {
		snprintf(err, errlen,
			 "no shard in the environment: looked for CI_NODE_INDEX/CI_NODE_TOTAL "
			 "(GitLab CI parallel:), BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT "
			 "(Buildkite parallelism), JOB_COMPLETION_INDEX with KTSTR_SHARD_TOTAL "
			 "(Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT/"
			 "SLURM_ARRAY_TASK_MIN (Slurm job array), KTSTR_SHARD_INDEX/KTSTR_SHARD_TOTAL "
			 "(any other, e.g. a GitHub Actions matrix); set one, or pass --partition K/N");
		return -ENOENT;
	}
	*out = first;
	return 0;
}
