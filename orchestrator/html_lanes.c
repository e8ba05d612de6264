/* The HTML page's lanes (html_report.h, docs/reports.md "The HTML page"):
 * the monitor's CPU lanes and the workers' gap lanes of one record, as
 * inline SVG. Every value from the record is bounded and every string
 * escaped. */
#include "html_lanes.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "compare_read.h"
#include "html_report.h"

double html_num_or(struct json_object *o, const char *key, double dflt)
{
	double v;
	bool fin;

	return rj_num(o, key, &v, &fin) && fin ? v : dflt;
}

/* Gap lanes: a lane per CPU over the workers' time; each worker's longest
 * gap is a bar on the lane of the CPU it resumed on, ending when it
 * resumed (metrics.workers[].max_gap_ms, _cpu, _at_ms). */
int html_gap_lanes(struct strbuf *sb, struct json_object *rec, const char *name)
{
	json_object *m = rj_obj(rec, "metrics");
	json_object *w = rj_arr(m, "workers");
	size_t nw = w ? json_object_array_length(w) : 0;
	double span = 0, ncpu = html_num_or(m, "guest_cpus", 0);
	const double W = 600, LH = 14, L0 = 60;
	int ret;

	ncpu = fmax(ncpu, html_num_or(rj_obj(rj_obj(rec, "vm"), "monitor"), "nr_cpus", 0));
	if (nw > HTML_GAPS_MAX)
		nw = HTML_GAPS_MAX;
	for (size_t i = 0; i < nw; i++) {
		json_object *o = json_object_array_get_idx(w, i);

		span = fmax(span, html_num_or(o, "wall_ns", 0) / 1e6);
		span = fmax(span, html_num_or(o, "max_gap_at_ms", 0));
		ncpu = fmax(ncpu, html_num_or(o, "max_gap_cpu", -1) + 1);
	}
	if (!nw || span <= 0 || ncpu < 1)
		return 0;
	if (ncpu > HTML_LANES_MAX)
		ncpu = HTML_LANES_MAX;
	ret = sb_printf(sb, "<figure class=\"lanes\" data-test=\"");
	if (!ret)
		ret = html_esc(sb, name, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "\" data-span-ms=\"%.0f\"><figcaption>", span);
	if (!ret)
		ret = html_esc(sb, name, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, ": each worker's longest gap, on the CPU it resumed on, "
				    "over %.0f ms</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" "
				    "width=\"%.0f\" height=\"%.0f\">", span, L0 + W + 2,
				ncpu * LH + 16);
	for (unsigned c = 0; !ret && c < (unsigned)ncpu; c++)
		ret = sb_printf(sb, "<g class=\"lane\" data-cpu=\"%u\"><text x=\"0\" y=\"%.0f\" "
				    "font-size=\"11\">cpu%u</text><rect x=\"%.0f\" y=\"%.0f\" "
				    "width=\"%.0f\" height=\"%.0f\" fill=\"#eef\"/></g>",
				c, c * LH + 11, c, L0, c * LH, W, LH - 2);
	for (size_t i = 0; !ret && i < nw; i++) {
		json_object *o = json_object_array_get_idx(w, i);
		double gap = html_num_or(o, "max_gap_ms", -1), at = html_num_or(o, "max_gap_at_ms", -1);
		double cpu = html_num_or(o, "max_gap_cpu", -1), x0, x1;
		const char *cg = rj_str(o, "cgroup", 64);

		if (gap < 0 || at < 0 || cpu < 0 || cpu >= ncpu)
			continue;
		x0 = L0 + fmax(0, at - gap) / span * W;
		x1 = L0 + fmin(at, span) / span * W;
		ret = sb_printf(sb, "<rect class=\"gap\" data-cpu=\"%.0f\" data-ms=\"%.0f\" "
				    "x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
				    "fill=\"#b2182b\"><title>worker %.0f (",
				cpu, gap, x0, cpu * LH, fmax(1, x1 - x0), LH - 2,
				html_num_or(o, "tid", 0));
		if (!ret)
			ret = html_esc(sb, cg ? cg : "?", 64);
		if (!ret)
			ret = sb_printf(sb, ") waited %.0f ms, resumed on cpu%.0f at +%.0f ms"
					    "</title></rect>", gap, cpu, at);
	}
	if (!ret)
		ret = sb_printf(sb, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">0 ms</text>"
				    "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" "
				    "text-anchor=\"end\">%.0f ms</text></svg></figure>\n",
				L0, ncpu * LH + 12, L0 + W, ncpu * LH + 12, span);
	return ret;
}

/* The fill of a bucket: how many tasks were runnable at most (blue, darker
 * with more), or red when the rq clock was seen stuck. */
static const char *bucket_fill(double nr, double stuck)
{
	if (stuck > 0)
		return "#b2182b";
	return nr <= 0 ? "#eef" : nr <= 1 ? "#c6dbef" : nr <= 2 ? "#6baed6" : nr <= 4 ? "#2171b5"
										       : "#08306b";
}

/* The monitor's lanes (vm.monitor.cpu_lanes, docs/monitor.md "Lanes"): a
 * lane per CPU over monitor time, a cell per bucket, the scenario's steps
 * as marks. */
int html_cpu_lanes(struct strbuf *sb, struct json_object *rec, const char *name)
{
	json_object *mon = rj_obj(rj_obj(rec, "vm"), "monitor");
	json_object *lanes = rj_arr(mon, "cpu_lanes"), *ph = rj_arr(mon, "phases");
	size_t nl = lanes ? json_object_array_length(lanes) : 0, nb = 0;
	double bns = html_num_or(mon, "lane_bucket_ns", 0), span;
	const double W = 600, LH = 14, L0 = 60;
	int ret;

	if (!nl || bns <= 0)
		return 0;
	if (nl > HTML_LANES_MAX)
		nl = HTML_LANES_MAX;
	for (size_t i = 0; i < nl; i++) {
		json_object *a = rj_arr(json_object_array_get_idx(lanes, i), "max_nr_running");
		size_t n = a ? json_object_array_length(a) : 0;

		nb = n > nb ? n : nb;
	}
	if (!nb)
		return 0;
	if (nb > HTML_BUCKETS_MAX)
		nb = HTML_BUCKETS_MAX;
	span = bns * (double)nb / 1e6;
	ret = sb_printf(sb, "<figure class=\"cpu-lanes\" data-test=\"");
	if (!ret)
		ret = html_esc(sb, name, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "\" data-buckets=\"%zu\" data-bucket-ms=\"%.0f\"><figcaption>", nb,
				bns / 1e6);
	if (!ret)
		ret = html_esc(sb, name, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, ": each CPU as the monitor sampled it, %.0f ms a cell from VM "
				    "start; blue: most tasks runnable, red: rq clock stuck while "
				    "tasks were runnable</figcaption><svg xmlns=\"http://www.w3.org/"
				    "2000/svg\" width=\"%.0f\" height=\"%.0f\">",
				bns / 1e6, L0 + W + 2, (double)nl * LH + 16);
	for (size_t i = 0; !ret && i < nl; i++) {
		json_object *l = json_object_array_get_idx(lanes, i);
		json_object *nr = rj_arr(l, "max_nr_running"), *st = rj_arr(l, "stuck_samples");
		double cpu = html_num_or(l, "cpu", (double)i);
		size_t n = nr ? json_object_array_length(nr) : 0;

		ret = sb_printf(sb, "<g class=\"cpu-lane\" data-cpu=\"%.0f\"><text x=\"0\" "
				    "y=\"%.0f\" font-size=\"11\">cpu%.0f</text>",
				cpu, (double)i * LH + 11, cpu);
		for (size_t b = 0; !ret && b < n && b < nb; b++) {
			json_object *v = json_object_array_get_idx(nr, b);
			json_object *k = st ? json_object_array_get_idx(st, b) : NULL;
			double nv = v ? json_object_get_double(v) : 0, kv = k ? json_object_get_double(k) : 0;

			if (!isfinite(nv) || !isfinite(kv))
				continue;
			ret = sb_printf(sb, "<rect class=\"bucket\" data-nr=\"%.0f\" data-stuck=\"%.0f\" "
					    "x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
					    "fill=\"%s\"><title>cpu%.0f +%.2f s: up to %.0f runnable, "
					    "%.0f stuck-clock samples</title></rect>",
					nv, kv, L0 + (double)b * W / (double)nb, (double)i * LH,
					W / (double)nb, LH - 2, bucket_fill(nv, kv), cpu,
					(double)b * bns / 1e9, nv, kv);
		}
		if (!ret)
			ret = sb_printf(sb, "</g>");
	}
	/* The scenario's steps, where the monitor saw them begin. */
	for (size_t i = 0; !ret && ph && i < json_object_array_length(ph) && i < 64; i++) {
		json_object *p = json_object_array_get_idx(ph, i);
		double t = html_num_or(p, "start_ns", -1) / 1e6, step = html_num_or(p, "step_index", -1);

		if (step < 0 || t < 0 || t > span)
			continue;
		ret = sb_printf(sb, "<line class=\"step\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" "
				    "y2=\"%.0f\" stroke=\"#000\"><title>step %.0f at +%.0f ms"
				    "</title></line>", L0 + t / span * W, L0 + t / span * W,
				(double)nl * LH, step, t);
	}
	if (!ret)
		ret = sb_printf(sb, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">0 s</text>"
				    "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" "
				    "text-anchor=\"end\">%.1f s</text></svg></figure>\n",
				L0, (double)nl * LH + 12, L0 + W, (double)nl * LH + 12, span / 1e3);
	return ret;
}

