/* Shards (docs/farms.md): the balanced assignment, `--partition auto`'s
 * environment, and the plan's use of both. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "helpers.h"
#include "plan.h"
#include "shard_assign.h"
#include "shard_env.h"

/* A deterministic sample: durations 1..600 s in ms, names unique. */
#define NSAMPLE 200
static char sample_names[NSAMPLE][16];

static void sample(struct shard_item *it, size_t n)
{
	uint64_t x = 88172645463325252ull;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		snprintf(sample_names[i], sizeof(sample_names[i]), "t%03zu", i);
		it[i] = (struct shard_item){ sample_names[i], 1000 + x % 600000 };
	}
}

Test(shard_assign, the_largest_shard_is_within_one_test_of_the_ideal)
{
	struct shard_item it[NSAMPLE];
	uint32_t out[NSAMPLE];

	sample(it, NSAMPLE);
	for (uint32_t n = 2; n <= 16; n++) {
		uint64_t load[16] = { 0 }, total = 0, max = 0, big = 0;

		cr_assert_eq(shard_assign(it, NSAMPLE, n, out), 0);
		for (size_t i = 0; i < NSAMPLE; i++) {
			cr_assert_lt(out[i], n, "every test in one of the shards");
			load[out[i]] += it[i].est_ms;
			total += it[i].est_ms;
			big = it[i].est_ms > big ? it[i].est_ms : big;
		}
		for (uint32_t s = 0; s < n; s++)
			max = load[s] > max ? load[s] : max;
		cr_assert_leq(max, total / n + big, "%u shards: max %llu, ideal %llu, test %llu", n,
			      (unsigned long long)max, (unsigned long long)(total / n),
			      (unsigned long long)big);
		/* Far better than a hash: LPT's bound is 4/3 of the optimum. */
		cr_assert_leq(max, total / n + total / n / 10, "%u shards: %llu vs %llu", n,
			      (unsigned long long)max, (unsigned long long)(total / n));
	}
}

Test(shard_assign, is_the_same_whatever_the_order_of_the_input)
{
	struct shard_item it[NSAMPLE], rev[NSAMPLE];
	uint32_t a[NSAMPLE], b[NSAMPLE];

	sample(it, NSAMPLE);
	for (size_t i = 0; i < NSAMPLE; i++)
		rev[i] = it[NSAMPLE - 1 - i];
	cr_assert_eq(shard_assign(it, NSAMPLE, 7, a), 0);
	cr_assert_eq(shard_assign(rev, NSAMPLE, 7, b), 0);
	for (size_t i = 0; i < NSAMPLE; i++)
		cr_assert_eq(a[i], b[NSAMPLE - 1 - i], "%s moved", it[i].name);
	/* And again: nothing depends on the moment or the memory. */
	cr_assert_eq(shard_assign(it, NSAMPLE, 7, b), 0);
	cr_assert_arr_eq(a, b, sizeof(a));
}

Test(shard_assign, more_shards_than_tests_leaves_the_rest_empty)
{
	struct shard_item it[3] = { { "a", 5 }, { "b", 9 }, { "c", 1 } };
	uint32_t out[3];

	cr_assert_eq(shard_assign(it, 3, 5, out), 0);
	/* Largest first, each to the next empty shard. */
	cr_assert_eq(out[1], 0);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[2], 2);
	cr_assert_eq(shard_assign(it, 0, 5, out), 0, "no tests: nothing to place");
}

Test(shard_assign, what_costs_nothing_is_spread_not_piled)
{
	struct shard_item it[6] = { { "a", 0 }, { "b", 0 }, { "c", 0 },
				    { "d", 0 }, { "e", 0 }, { "f", 0 } };
	uint32_t out[6], per[3] = { 0 };

	cr_assert_eq(shard_assign(it, 6, 3, out), 0);
	for (size_t i = 0; i < 6; i++)
		per[out[i]]++;
	cr_assert(per[0] == 2 && per[1] == 2 && per[2] == 2, "%u %u %u", per[0], per[1], per[2]);
}

Test(shard_assign, refuses_no_shards_and_too_many)
{
	struct shard_item it[1] = { { "a", 1 } };
	uint32_t out[1];

	cr_assert_eq(shard_assign(it, 1, 0, out), -EINVAL);
	cr_assert_eq(shard_assign(it, 1, SHARD_TOTAL_MAX + 1, out), -EINVAL);
	cr_assert_eq(shard_assign(it, 1, SHARD_TOTAL_MAX, out), 0);
	cr_assert_eq(out[0], 0);
}

/* --- the plan --- */

static struct suite *timed_suite(void)
{
	struct strbuf sb = { 0 };
	struct suite *s;

	sb_printf(&sb, "tests:\n");
	for (int i = 0; i < 12; i++)
		sb_printf(&sb, "  - {name: t%02d, scenario: steady, duration: %ds}\n", i, 1 + i * 5);
	s = parse_ok(sb.buf);
	sb_free(&sb);
	return s;
}

static double shard_secs(const struct suite *s, const struct plan *p)
{
	double t = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].state == VAR_KEPT)
			t += variant_est_secs(s, &p->v[i]);
	return t;
}

Test(shard_plan, shards_balance_the_estimate_and_agree_across_hosts)
{
	struct suite *s = timed_suite();
	struct host_caps big = { .cpus = 256, .llcs = 16, .max_cpus_per_llc = 32,
				 .engine = KTSTR__ENGINE__ENGINE_KVM, .max_vcpus = 256 };
	struct host_caps tiny = { .cpus = 1, .llcs = 1, .max_cpus_per_llc = 1,
				  .engine = KTSTR__ENGINE__ENGINE_KVM, .max_vcpus = 1 };
	unsigned owner[12] = { 0 };
	double total = 0, max = 0;
	uint64_t fp = 0;

	for (uint32_t k = 1; k <= 3; k++) {
		struct plan_opts o = { .host = big, .kernel_scx = 1, .part_k = k, .part_n = 3 };
		struct plan p, q;
		char err[256];
		double t;

		cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0);
		o.host = tiny; /* another host: skips its tests, but holds the same ones */
		cr_assert_eq(plan_build(s, &o, &q, err, sizeof(err)), 0);
		cr_assert_eq(p.selected_all, 12);
		cr_assert_eq(p.fingerprint, q.fingerprint, "one plan, one fingerprint");
		cr_assert(k == 1 || p.fingerprint == fp);
		fp = p.fingerprint;
		for (size_t i = 0; i < p.n; i++) {
			bool mine = p.v[i].state == VAR_KEPT;

			cr_assert_eq(mine, q.v[i].state != VAR_DROP_PARTITION, "%s", p.v[i].name);
			owner[i] += mine;
		}
		cr_assert_eq(p.assigned, p.kept);
		t = shard_secs(s, &p);
		total += t;
		max = t > max ? t : max;
		plan_free(&p);
		plan_free(&q);
	}
	for (size_t i = 0; i < 12; i++)
		cr_assert_eq(owner[i], 1, "t%02zu in exactly one shard", i);
	/* The longest test is 10 + 56 + 2 s. */
	cr_assert_leq(max, total / 3 + 68, "max %.0f, ideal %.0f", max, total / 3);
	suite_free(s);
}

Test(shard_plan, more_shards_than_tests_selects_nothing_in_the_rest)
{
	struct suite *s = parse_ok("tests: [{name: a}, {name: b}]\n");
	size_t held = 0;

	for (uint32_t k = 1; k <= 4; k++) {
		struct plan_opts o = { .kernel_scx = 1, .part_k = k, .part_n = 4,
				       .host = { .cpus = 8, .llcs = 1, .max_cpus_per_llc = 8,
						 .engine = KTSTR__ENGINE__ENGINE_KVM,
						 .max_vcpus = 8 } };
		struct plan p;
		char err[256];

		cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0);
		cr_assert_eq(plan_selected(&p), k <= 2 ? 1u : 0u, "shard %u", k);
		held += p.assigned;
		plan_free(&p);
	}
	cr_assert_eq(held, 2);
	suite_free(s);
}

/* --- --partition auto --- */

struct envtab {
	const char *kv[12][2];
};

static const char *tab_get(const char *name, void *arg)
{
	struct envtab *t = arg;

	for (size_t i = 0; i < 12 && t->kv[i][0]; i++)
		if (!strcmp(t->kv[i][0], name))
			return t->kv[i][1];
	return NULL;
}

static int resolve(struct envtab t, struct shard_env *se, char *err, size_t errlen)
{
	memset(se, 0, sizeof(*se));
	err[0] = '\0';
	return shard_env_resolve(tab_get, &t, se, err, errlen);
}

#define SHARD_IS(tab, K, N)                                                              \
	do {                                                                             \
		struct shard_env se_;                                                    \
		char e_[1024];                                                           \
		cr_assert_eq(resolve(tab, &se_, e_, sizeof(e_)), 0, "%s", e_);           \
		cr_assert(se_.k == (K) && se_.n == (N), "shard %u of %u", se_.k, se_.n); \
	} while (0)

#define REFUSED(tab, want)                                                          \
	do {                                                                        \
		struct shard_env se_;                                               \
		char e_[1024];                                                      \
		cr_assert_neq(resolve(tab, &se_, e_, sizeof(e_)), 0);               \
		cr_assert(strstr(e_, want), "'%s' not in: %s", want, e_);           \
	} while (0)

Test(shard_env, each_engine_and_its_first_index)
{
	SHARD_IS(((struct envtab){ { { "CI_NODE_INDEX", "1" }, { "CI_NODE_TOTAL", "4" } } }), 1, 4);
	SHARD_IS(((struct envtab){ { { "CI_NODE_INDEX", "4" }, { "CI_NODE_TOTAL", "4" } } }), 4, 4);
	SHARD_IS(((struct envtab){ { { "BUILDKITE_PARALLEL_JOB", "0" },
				     { "BUILDKITE_PARALLEL_JOB_COUNT", "3" } } }), 1, 3);
	SHARD_IS(((struct envtab){ { { "JOB_COMPLETION_INDEX", "2" },
				     { "KTSTR_SHARD_TOTAL", "3" } } }), 3, 3);
	SHARD_IS(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "7" },
				     { "SLURM_ARRAY_TASK_MIN", "5" },
				     { "SLURM_ARRAY_TASK_MAX", "8" },
				     { "SLURM_ARRAY_TASK_COUNT", "4" } } }), 3, 4);
	SHARD_IS(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "0" },
				     { "SLURM_ARRAY_TASK_MIN", "0" },
				     { "SLURM_ARRAY_TASK_STEP", "1" },
				     { "SLURM_ARRAY_TASK_COUNT", "2" } } }), 1, 2);
	SHARD_IS(((struct envtab){ { { "KTSTR_SHARD_INDEX", "2" }, { "KTSTR_SHARD_TOTAL", "2" } } }),
		 2, 2);
	/* GitLab sets CI_NODE_TOTAL=1 in every job: alone it is no shard. */
	REFUSED(((struct envtab){ { { "CI_NODE_TOTAL", "1" } } }), "no shard in the environment");
}

Test(shard_env, none_names_every_variable_it_looked_for)
{
	static const char *const vars[] = { "CI_NODE_INDEX", "BUILDKITE_PARALLEL_JOB_COUNT",
					    "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID",
					    "SLURM_ARRAY_TASK_MIN", "KTSTR_SHARD_INDEX",
					    "KTSTR_SHARD_TOTAL", "--partition K/N" };
	struct shard_env se;
	char err[1024];

	cr_assert_eq(resolve((struct envtab){ { { NULL, NULL } } }, &se, err, sizeof(err)), -ENOENT);
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		cr_assert(strstr(err, vars[i]), "%s not named: %s", vars[i], err);
}

Test(shard_env, two_that_disagree_are_named_two_that_agree_are_one)
{
	REFUSED(((struct envtab){ { { "CI_NODE_INDEX", "1" }, { "CI_NODE_TOTAL", "2" },
				    { "KTSTR_SHARD_INDEX", "2" }, { "KTSTR_SHARD_TOTAL", "2" } } }),
		"GitLab CI: CI_NODE_INDEX=1 CI_NODE_TOTAL=2 (shard 1 of 2) and KTSTR_SHARD_INDEX: "
		"KTSTR_SHARD_INDEX=2 KTSTR_SHARD_TOTAL=2 (shard 2 of 2)");
	SHARD_IS(((struct envtab){ { { "JOB_COMPLETION_INDEX", "0" }, { "KTSTR_SHARD_TOTAL", "2" },
				     { "KTSTR_SHARD_INDEX", "1" } } }), 1, 2);
}

Test(shard_env, bad_numbers_and_half_sources_are_refused)
{
	static const char *const bad[] = { "", "x", "-1", "+1", " 1", "1 ", "0x1", "1.0",
					   "99999999999", "4294967296" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		REFUSED(((struct envtab){ { { "CI_NODE_INDEX", bad[i] }, { "CI_NODE_TOTAL", "4" } } }),
			"is not a number");
	REFUSED(((struct envtab){ { { "CI_NODE_INDEX", "0" }, { "CI_NODE_TOTAL", "4" } } }),
		"CI_NODE_INDEX=0 is outside 1..4 (GitLab CI counts from 1");
	REFUSED(((struct envtab){ { { "CI_NODE_INDEX", "5" }, { "CI_NODE_TOTAL", "4" } } }),
		"outside 1..4");
	REFUSED(((struct envtab){ { { "BUILDKITE_PARALLEL_JOB", "3" },
				    { "BUILDKITE_PARALLEL_JOB_COUNT", "3" } } }),
		"outside 0..2");
	REFUSED(((struct envtab){ { { "CI_NODE_INDEX", "1" }, { "CI_NODE_TOTAL", "0" } } }),
		"CI_NODE_TOTAL=0: there must be at least one shard");
	REFUSED(((struct envtab){ { { "KTSTR_SHARD_INDEX", "1" }, { "KTSTR_SHARD_TOTAL", "100001" } } }),
		"not a number 0..100000");
	SHARD_IS(((struct envtab){ { { "KTSTR_SHARD_INDEX", "100000" },
				     { "KTSTR_SHARD_TOTAL", "100000" } } }), 100000, 100000);
	REFUSED(((struct envtab){ { { "CI_NODE_INDEX", "1" } } }),
		"CI_NODE_INDEX is set but CI_NODE_TOTAL is not");
	REFUSED(((struct envtab){ { { "JOB_COMPLETION_INDEX", "1" } } }),
		"set KTSTR_SHARD_TOTAL to the Job's spec.completions");
	/* A long value is cut in the message, not copied whole. */
	REFUSED(((struct envtab){ { { "CI_NODE_INDEX", "1111111111111111111111111111111111111111" },
				    { "CI_NODE_TOTAL", "4" } } }),
		"'11111111111111111111111111111111...'");
}

Test(shard_env, slurm_arrays_that_are_not_min_to_max_are_refused)
{
	REFUSED(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "4" }, { "SLURM_ARRAY_TASK_MIN", "0" },
				    { "SLURM_ARRAY_TASK_STEP", "4" },
				    { "SLURM_ARRAY_TASK_COUNT", "4" } } }),
		"the job array is stepped");
	REFUSED(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "3" }, { "SLURM_ARRAY_TASK_MIN", "1" },
				    { "SLURM_ARRAY_TASK_MAX", "7" },
				    { "SLURM_ARRAY_TASK_COUNT", "3" } } }),
		"not contiguous");
	REFUSED(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "3" }, { "SLURM_ARRAY_TASK_MIN", "5" },
				    { "SLURM_ARRAY_TASK_COUNT", "3" } } }),
		"outside the array's 3 tasks");
	REFUSED(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "8" }, { "SLURM_ARRAY_TASK_MIN", "5" },
				    { "SLURM_ARRAY_TASK_COUNT", "3" } } }),
		"outside the array's 3 tasks");
	REFUSED(((struct envtab){ { { "SLURM_ARRAY_TASK_ID", "1" },
				    { "SLURM_ARRAY_TASK_COUNT", "3" } } }),
		"SLURM_ARRAY_TASK_MIN is not");
}
