/* Worker checks. Message formats match the reference so users can grep the
 * same strings: "tid N starved (0 work units)", "unfair cgroup: spread=42%
 * (8-50%) 4 workers on 4 cpus", "stuck 3500ms on cpu1 at +1200ms", "tid N ran
 * on unexpected CPUs 0-3". */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "verdict.h"

void verdict_limits_from_spec(const Ktstr__AssertSpec *a, struct verdict_limits *l)
{
	l->not_starved = true;
	l->max_spread_pct = VERDICT_DEFAULT_SPREAD_PCT;
	l->max_gap_ms = VERDICT_DEFAULT_GAP_MS;
	l->isolation = false;
	l->max_p99_wake_ns = 0;
	l->min_iteration_rate = 0;
	l->max_migration_ratio = -1;
	l->max_throughput_cv = -1;
	l->min_work_rate = 0;
	l->max_wake_latency_cv = -1;
	if (!a)
		return;
	if (a->has_not_starved)
		l->not_starved = a->not_starved;
	if (a->has_max_spread_pct)
		l->max_spread_pct = a->max_spread_pct;
	if (a->has_max_gap_ms)
		l->max_gap_ms = a->max_gap_ms;
	if (a->has_isolation)
		l->isolation = a->isolation;
	if (a->has_max_p99_wake_latency_ns)
		l->max_p99_wake_ns = a->max_p99_wake_latency_ns;
	if (a->has_min_iteration_rate)
		l->min_iteration_rate = a->min_iteration_rate;
	if (a->has_max_migration_ratio)
		l->max_migration_ratio = a->max_migration_ratio;
	if (a->has_max_throughput_cv)
		l->max_throughput_cv = a->max_throughput_cv;
	if (a->has_min_work_rate)
		l->min_work_rate = a->min_work_rate;
	if (a->has_max_wake_latency_cv)
		l->max_wake_latency_cv = a->max_wake_latency_cv;
}

double verdict_work_rate(const struct worker_report *r)
{
	return r->cpu_ns ? (double)r->work_units * 1e9 / (double)r->cpu_ns : 0.0;
}

/* Work units per CPU second of the cgroup's workers that ran: their count,
 * mean, coefficient of variation (population σ / μ) and range. */
static unsigned throughput_stats(const struct verdict_worker *w, size_t n, const char *cg,
				 double *cv, double *lo, double *hi)
{
	double sum = 0, sumsq = 0, mean;
	unsigned cnt = 0;

	*cv = *lo = *hi = 0;
	for (size_t i = 0; i < n; i++) {
		double r;

		if (strcmp(w[i].cgroup, cg) || !w[i].r->cpu_ns)
			continue;
		r = verdict_work_rate(w[i].r);
		sum += r;
		sumsq += r * r;
		if (!cnt || r < *lo)
			*lo = r;
		if (!cnt || r > *hi)
			*hi = r;
		cnt++;
	}
	mean = cnt ? sum / cnt : 0;
	if (mean > 0)
		*cv = sqrt(fmax(0.0, sumsq / cnt - mean * mean)) / mean;
	return cnt;
}

/* Every wake of the cgroup's workers, pooled: count, mean and CV. */
static uint64_t wake_stats(const struct verdict_worker *w, size_t n, const char *cg, double *cv,
			   double *mean)
{
	double sum = 0, sumsq = 0;
	uint64_t cnt = 0;

	*cv = *mean = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w[i].cgroup, cg)) {
			cnt += w[i].r->wake_samples;
			sum += w[i].r->wake_sum_ns;
			sumsq += w[i].r->wake_sumsq_ns2;
		}
	if (!cnt)
		return 0;
	*mean = sum / (double)cnt;
	if (*mean > 0)
		*cv = sqrt(fmax(0.0, sumsq / (double)cnt - *mean * *mean)) / *mean;
	return cnt;
}

double verdict_off_cpu_pct(const struct worker_report *r)
{
	if (!r->wall_ns)
		return 0.0;
	if (r->cpu_ns >= r->wall_ns)
		return 0.0;
	return (double)(r->wall_ns - r->cpu_ns) * 100.0 / (double)r->wall_ns;
}

unsigned verdict_cgroup_spread(const struct verdict_worker *w, size_t n, const char *cgroup,
			       double *min_pct, double *max_pct)
{
	unsigned cnt = 0;

	*min_pct = 0;
	*max_pct = 0;
	for (size_t i = 0; i < n; i++) {
		double p;

		if (strcmp(w[i].cgroup, cgroup))
			continue;
		p = verdict_off_cpu_pct(w[i].r);
		if (!cnt || p < *min_pct)
			*min_pct = p;
		if (!cnt || p > *max_pct)
			*max_pct = p;
		cnt++;
	}
	return cnt;
}

__attribute__((format(printf, 7, 8))) static int
add_failure(struct verdict_result *out, const char *check, const char *cgroup, uint32_t tid,
	    double value, double limit, const char *fmt, ...)
{
	struct verdict_failure *f;
	va_list ap;

	if (KTSTR_GROW(out->f, &out->cap, out->n + 1, 8))
		return -ENOMEM;
	f = &out->f[out->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->check, sizeof(f->check), "%s", check);
	snprintf(f->cgroup, sizeof(f->cgroup), "%s", cgroup ? cgroup : "");
	f->tid = tid;
	f->value = value;
	f->limit = limit;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return 0;
}

static bool seen_before(const struct verdict_worker *w, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(w[j].cgroup, w[i].cgroup))
			return true;
	return false;
}

static int check_cgroup(const struct verdict_limits *l, const struct verdict_worker *w, size_t n,
			size_t first, struct verdict_result *out)
{
	const char *cg = w[first].cgroup;
	double lo, hi;
	unsigned cnt = verdict_cgroup_spread(w, n, cg, &lo, &hi);
	int ret = 0;

	/* Spread needs two workers: one worker has nothing to be unfair to. */
	if (l->max_spread_pct >= 0 && cnt >= 2 && hi - lo > l->max_spread_pct)
		ret = add_failure(out, "spread", cg, 0, hi - lo, l->max_spread_pct,
				  "unfair cgroup: spread=%.0f%% (%.0f-%.0f%%) %u workers on %u cpus",
				  hi - lo, lo, hi, cnt, w[first].group_cpus);
	if (!ret && l->max_migration_ratio >= 0) {
		uint64_t mig = 0, it = 0;

		for (size_t i = 0; i < n; i++)
			if (!strcmp(w[i].cgroup, cg)) {
				mig += w[i].r->migrations;
				it += w[i].r->iterations;
			}
		if (it && (double)mig / (double)it > l->max_migration_ratio)
			ret = add_failure(out, "migration", cg, 0, (double)mig / (double)it,
					  l->max_migration_ratio,
					  "cgroup %s: migration ratio %.3f above %.3f (%llu migrations "
					  "in %llu iterations)",
					  cg, (double)mig / (double)it, l->max_migration_ratio,
					  (unsigned long long)mig, (unsigned long long)it);
	}
	if (!ret && l->max_throughput_cv >= 0) {
		double cv, rlo, rhi;
		unsigned ran = throughput_stats(w, n, cg, &cv, &rlo, &rhi);

		/* Like spread, variation needs two workers that ran. */
		if (ran >= 2 && cv > l->max_throughput_cv)
			ret = add_failure(out, "throughput", cg, 0, cv, l->max_throughput_cv,
					  "cgroup %s: throughput CV %.3f above %.3f (%u workers, "
					  "%.0f-%.0f work units per CPU second)",
					  cg, cv, l->max_throughput_cv, ran, rlo, rhi);
	}
	if (!ret && l->max_wake_latency_cv >= 0) {
		double cv, mean;
		uint64_t wakes = wake_stats(w, n, cg, &cv, &mean);

		if (wakes >= 2 && cv > l->max_wake_latency_cv)
			ret = add_failure(out, "wake_cv", cg, 0, cv, l->max_wake_latency_cv,
					  "cgroup %s: wake latency CV %.3f above %.3f (%llu wakes, "
					  "mean %.0fus)",
					  cg, cv, l->max_wake_latency_cv, (unsigned long long)wakes,
					  mean / 1000.0);
	}
	return ret;
}

static int check_worker(const struct verdict_limits *l, const struct verdict_worker *v,
			struct verdict_result *out)
{
	const struct worker_report *r = v->r;
	uint64_t gap_ms = r->max_gap_ns / 1000000u;
	int ret = 0;

	if (l->not_starved && r->work_units == 0)
		ret = add_failure(out, "starvation", v->cgroup, r->tid, 0, 0,
				  "tid %u starved (0 work units)", r->tid);
	if (!ret && l->max_gap_ms && gap_ms > l->max_gap_ms)
		ret = add_failure(out, "gap", v->cgroup, r->tid, (double)gap_ms, l->max_gap_ms,
				  "stuck %llums on cpu%u at +%llums", (unsigned long long)gap_ms,
				  r->max_gap_cpu,
				  (unsigned long long)(r->max_gap_at_ns / 1000000u));
	if (!ret && l->isolation && v->allowed && !cpuset_subset(&r->cpus_used, v->allowed)) {
		struct cpuset_bits bad = r->cpus_used;
		char list[256];

		for (unsigned i = 0; i < CPUSET_WORDS; i++)
			bad.w[i] &= ~v->allowed->w[i];
		if (cpulist_format(&bad, list, sizeof(list)) < 0)
			snprintf(list, sizeof(list), "(%u cpus)", cpuset_count(&bad));
		ret = add_failure(out, "isolation", v->cgroup, r->tid, cpuset_count(&bad), 0,
				  "tid %u ran on unexpected CPUs %s", r->tid, list);
	}
	if (!ret && l->max_p99_wake_ns && r->wake_samples && r->wake_p99_ns > l->max_p99_wake_ns)
		ret = add_failure(out, "wake_latency", v->cgroup, r->tid, (double)r->wake_p99_ns,
				  (double)l->max_p99_wake_ns,
				  "tid %u p99 wake latency %lluus above %lluus", r->tid,
				  (unsigned long long)(r->wake_p99_ns / 1000),
				  (unsigned long long)(l->max_p99_wake_ns / 1000));
	if (!ret && l->min_work_rate > 0 && r->cpu_ns && verdict_work_rate(r) < l->min_work_rate)
		ret = add_failure(out, "work_rate", v->cgroup, r->tid, verdict_work_rate(r),
				  l->min_work_rate,
				  "tid %u did %.0f work units per CPU second, below %.0f", r->tid,
				  verdict_work_rate(r), l->min_work_rate);
	if (!ret && l->min_iteration_rate > 0 && r->wall_ns) {
		double rate = (double)r->iterations * 1e9 / (double)r->wall_ns;

		if (rate < l->min_iteration_rate)
			ret = add_failure(out, "iteration_rate", v->cgroup, r->tid, rate,
					  l->min_iteration_rate,
					  "tid %u ran %.1f iterations/s, below %.1f", r->tid, rate,
					  l->min_iteration_rate);
	}
	return ret;
}

int verdict_evaluate(const struct verdict_limits *l, const struct verdict_worker *w, size_t n,
		     struct verdict_result *out)
{
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = check_worker(l, &w[i], out);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < n; i++) {
		if (seen_before(w, i))
			continue;
		ret = check_cgroup(l, w, n, i, out);
		if (ret)
			return ret;
	}
	return 0;
}

void verdict_result_free(struct verdict_result *r)
{
	free(r->f);
	r->f = NULL;
	r->n = r->cap = 0;
}
