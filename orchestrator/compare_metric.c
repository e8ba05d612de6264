#include "compare_metric.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "compare_read.h"

/* Defaults chosen so that TCG's run-to-run noise (measured: gaps of
 * 30..60 ms, spreads of a few %) stays under them while a scheduler that
 * doubles a latency or starves a cgroup does not. */
const struct metric_def compare_metrics[] = {
	{ "max_gap_ms", "ms", MD_LOWER_BETTER, 50, 25,
	  "longest time a worker waited to run (metrics.workers[].max_gap_ms, the worst worker)" },
	{ "wake_p99_us", "us", MD_LOWER_BETTER, 100, 25,
	  "99th percentile wake-up latency (metrics.workers[].wake_p99_ns, the worst worker)" },
	{ "wake_p50_us", "us", MD_LOWER_BETTER, 50, 25,
	  "median wake-up latency (metrics.workers[].wake_p50_ns, the worst worker)" },
	{ "off_cpu_pct", "%", MD_LOWER_BETTER, 5, 20,
	  "share of wall time a worker was off CPU (metrics.workers[].off_cpu_pct, the worst)" },
	{ "spread_pct", "%", MD_LOWER_BETTER, 5, 50,
	  "fairness spread of work between a cgroup's workers (metrics.cgroups[].spread_pct, "
	  "the worst cgroup)" },
	{ "work_units", "units", MD_HIGHER_BETTER, 0, 25,
	  "work done by all workers (sum of metrics.cgroups[].total_work_units)" },
	{ "share_pct", "%", MD_EITHER, 5, 20,
	  "a cgroup's share of all work, one per cgroup: share_pct[NAME]" },
	{ "migrations", "count", MD_LOWER_BETTER, 50, 100,
	  "CPU migrations of all workers (sum of metrics.workers[].migrations)" },
	{ "imbalance_ratio", "ratio", MD_LOWER_BETTER, 1, 25,
	  "worst nr_running imbalance between CPUs the monitor saw "
	  "(vm.monitor.worst_imbalance_ratio)" },
	{ "local_dsq_max", "tasks", MD_LOWER_BETTER, 8, 50,
	  "deepest local dispatch queue of any CPU (vm.monitor.cpu_peaks[].max_local_dsq)" },
	{ "monitor_violations", "count", MD_LOWER_BETTER, 0, 0,
	  "thresholds the monitor saw exceeded (vm.monitor.violations, with those omitted)" },
	{ "payload", "", MD_NONE, 0, 0,
	  "a payload metric, payload.PAYLOAD.METRIC (metrics.payloads[].metrics): reported; "
	  "gated only by --gate with lower or higher" },
};
const size_t compare_nmetrics = sizeof(compare_metrics) / sizeof(compare_metrics[0]);

const struct metric_def *metric_def_find(const char *family)
{
	for (size_t i = 0; i < compare_nmetrics; i++)
		if (!strcmp(compare_metrics[i].name, family))
			return &compare_metrics[i];
	return NULL;
}

const char *metric_dir_name(enum metric_dir d)
{
	switch (d) {
	case MD_LOWER_BETTER:
		return "lower is better";
	case MD_HIGHER_BETTER:
		return "higher is better";
	case MD_EITHER:
		return "a change either way is worse";
	case MD_NONE:
		break;
	}
	return "not gated";
}

const char *gate_result_name(enum gate_result g)
{
	static const char *const n[] = { "same", "better", "worse", "REGRESSION", "changed" };

	return g <= G_CHANGED ? n[g] : "?";
}

/* A finite, non-negative number; "inf", "nan" and the rest refused. */
static int parse_num(const char *s, const char *end, double *out)
{
	char buf[64], *e;

	if (end - s <= 0 || end - s >= (long)sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = 0;
	if (strspn(buf, "0123456789.eE+-") != strlen(buf))
		return -EINVAL;
	*out = strtod(buf, &e);
	return *e || !isfinite(*out) || *out < 0 ? -EINVAL : 0;
}

int metric_gate_parse(const char *arg, struct metric_gate *g, char *why, size_t whylen)
{
	const char *eq = strchr(arg, '='), *comma, *pct, *rest;

	memset(g, 0, sizeof(*g));
	g->dir = MD_NONE;
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(g->metric)) {
		snprintf(why, whylen, "'%s' is not METRIC=ABS,REL%%[,lower|higher]", arg);
		return -EINVAL;
	}
	memcpy(g->metric, arg, (size_t)(eq - arg));
	comma = strchr(eq + 1, ',');
	pct = comma ? strchr(comma + 1, '%') : NULL;
	if (!comma || !pct || parse_num(eq + 1, comma, &g->abs) ||
	    parse_num(comma + 1, pct, &g->rel_pct)) {
		snprintf(why, whylen, "'%s': the gate is ABS,REL%% with two finite numbers >= 0 "
				      "(e.g. max_gap_ms=50,25%%)", arg);
		return -EINVAL;
	}
	rest = pct + 1;
	if (!strcmp(rest, ",lower"))
		g->dir = MD_LOWER_BETTER;
	else if (!strcmp(rest, ",higher"))
		g->dir = MD_HIGHER_BETTER;
	else if (*rest) {
		snprintf(why, whylen, "'%s': after REL%% only ,lower or ,higher (which is better)",
			 arg);
		return -EINVAL;
	}
	if (!strncmp(g->metric, "payload.", 8)) {
		if (g->dir == MD_NONE) {
			snprintf(why, whylen, "'%s': a payload metric's gate says which way is better: "
					      "%s,lower or %s,higher", arg, arg, arg);
			return -EINVAL;
		}
		return 0;
	}
	{
		char fam[160];
		size_t fl = strcspn(g->metric, "[");

		snprintf(fam, sizeof(fam), "%.*s", (int)fl, g->metric);
		if (!metric_def_find(fam) || !strcmp(fam, "payload")) {
			snprintf(why, whylen, "'%s': no metric '%s' (see docs/reports.md, \"Metrics "
					      "and gates\")", arg, fam);
			return -EINVAL;
		}
	}
	return 0;
}

enum gate_result gate_judge(enum metric_dir dir, double abs, double rel_pct, double a, double b,
			    double *worse_abs, double *worse_rel_pct)
{
	double w;

	switch (dir) {
	case MD_LOWER_BETTER:
		w = b - a;
		break;
	case MD_HIGHER_BETTER:
		w = a - b;
		break;
	default:
		w = fabs(b - a);
		break;
	}
	*worse_abs = w;
	*worse_rel_pct = a != 0 ? w / fabs(a) * 100.0 : w > 0 ? INFINITY : w < 0 ? -INFINITY : 0;
	if (a == b)
		return G_SAME;
	if (dir == MD_NONE)
		return G_CHANGED;
	if (w <= 0)
		return G_BETTER;
	return w > abs && *worse_rel_pct > rel_pct ? G_REGRESSION : G_WORSE;
}

struct acc {
	struct metric_value *out;
	size_t n, omitted;
	char *why;
	size_t whylen;
	const char *where;
};

static int put(struct acc *a, const char *family, const char *key, double v)
{
	if (!isfinite(v)) {
		snprintf(a->why, a->whylen, "%s: metric %s is %g, not a finite number", a->where, key,
			 v);
		return -EINVAL;
	}
	if (a->n == METRIC_VALUES_MAX) {
		a->omitted++;
		return 0;
	}
	snprintf(a->out[a->n].key, METRIC_KEY_MAX, "%s", key);
	a->out[a->n].def = metric_def_find(family);
	a->out[a->n].v = v;
	a->n++;
	return 0;
}

/* Fold field key of every object of arr (at most METRIC_ARRAY_MAX) into
 * the max or the sum; false when none has it. A non-finite one is an
 * error. */
static int fold(struct acc *a, json_object *arr, const char *key, bool sum, double scale,
		const char *family)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	double r = 0;
	bool any = false;

	for (size_t i = 0; i < n && i < METRIC_ARRAY_MAX; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		double v;
		bool fin;

		if (!o || !json_object_is_type(o, json_type_object) || !rj_num(o, key, &v, &fin))
			continue;
		if (!fin)
			return put(a, family, family, v);
		v *= scale;
		r = !any ? v : sum ? r + v : fmax(r, v);
		any = true;
	}
	return any ? put(a, family, family, r) : 0;
}

static int payloads(struct acc *a, json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n && i < METRIC_ARRAY_MAX; i++) {
		json_object *p = json_object_array_get_idx(arr, i), *m;
		const char *pname = rj_str(p, "name", 64);
		unsigned seen = 0;

		m = rj_obj(p, "metrics");
		if (!pname || !m)
			continue;
		/* The same payload run twice: its second run is "#2". */
		for (size_t k = 0; k < i; k++) {
			const char *o = rj_str(json_object_array_get_idx(arr, k), "name", 64);

			seen += o && !strcmp(o, pname);
		}
		json_object_object_foreach(m, mk, mv) {
			char key[METRIC_KEY_MAX];
			double v;
			int ret;

			if (!mv || strlen(mk) > 64)
				continue; /* null: the metric was not read */
			if (!json_object_is_type(mv, json_type_int) &&
			    !json_object_is_type(mv, json_type_double))
				continue;
			v = json_object_get_double(mv);
			if (seen)
				snprintf(key, sizeof(key), "payload.%s#%u.%s", pname, seen + 1, mk);
			else
				snprintf(key, sizeof(key), "payload.%s.%s", pname, mk);
			ret = put(a, "payload", key, v);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Each cgroup's share of the work of all cgroups. */
static int shares(struct acc *a, json_object *cgs)
{
	size_t n = cgs ? json_object_array_length(cgs) : 0;
	double total = 0, v;
	bool fin;

	for (size_t i = 0; i < n && i < METRIC_ARRAY_MAX; i++)
		if (rj_num(json_object_array_get_idx(cgs, i), "total_work_units", &v, &fin) && fin)
			total += v;
	if (total <= 0)
		return 0;
	for (size_t i = 0; i < n && i < METRIC_ARRAY_MAX; i++) {
		json_object *c = json_object_array_get_idx(cgs, i);
		const char *name = rj_str(c, "name", 64);
		char key[METRIC_KEY_MAX];
		int ret;

		if (!name || !rj_num(c, "total_work_units", &v, &fin))
			continue;
		snprintf(key, sizeof(key), "share_pct[%s]", name);
		ret = put(a, "share_pct", key, v / total * 100.0);
		if (ret)
			return ret;
	}
	return 0;
}

int metrics_extract(json_object *rec, struct metric_value *out, size_t *n, size_t *omitted,
		    char *why, size_t whylen)
{
	json_object *m = rj_obj(rec, "metrics"), *mon = rj_obj(rj_obj(rec, "vm"), "monitor");
	json_object *w = rj_arr(m, "workers"), *cg = rj_arr(m, "cgroups");
	const char *name = rj_str(rec, "name", 4096);
	struct acc a = { out, 0, 0, why, whylen, name ? name : "?" };
	double v;
	bool fin;
	int ret = 0;

	if (!ret)
		ret = fold(&a, w, "max_gap_ms", false, 1, "max_gap_ms");
	if (!ret)
		ret = fold(&a, w, "wake_p99_ns", false, 1e-3, "wake_p99_us");
	if (!ret)
		ret = fold(&a, w, "wake_p50_ns", false, 1e-3, "wake_p50_us");
	if (!ret)
		ret = fold(&a, w, "off_cpu_pct", false, 1, "off_cpu_pct");
	if (!ret)
		ret = fold(&a, cg, "spread_pct", false, 1, "spread_pct");
	if (!ret)
		ret = fold(&a, cg, "total_work_units", true, 1, "work_units");
	if (!ret)
		ret = shares(&a, cg);
	if (!ret)
		ret = fold(&a, w, "migrations", true, 1, "migrations");
	if (!ret && rj_num(mon, "worst_imbalance_ratio", &v, &fin))
		ret = put(&a, "imbalance_ratio", "imbalance_ratio", v);
	if (!ret)
		ret = fold(&a, rj_arr(mon, "cpu_peaks"), "max_local_dsq", false, 1, "local_dsq_max");
	if (!ret && mon) {
		json_object *viol = rj_arr(mon, "violations");
		double om = 0;

		if (!rj_num(mon, "violations_omitted", &om, &fin))
			om = 0;
		ret = put(&a, "monitor_violations", "monitor_violations",
			  (double)(viol ? json_object_array_length(viol) : 0) + om);
	}
	if (!ret)
		ret = payloads(&a, rj_arr(m, "payloads"));
	*n = a.n;
	*omitted = a.omitted;
	return ret;
}
