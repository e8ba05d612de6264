#include "html_report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <ktstr/utf8.h>

#include "html_lanes.h"
#include "verdict.h"

int html_esc(struct strbuf *sb, const char *s, size_t max)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t len = strlen((const char *)p), i = 0;
	int ret = 0;

	while (!ret && i < len) {
		uint32_t cp;
		size_t n;

		if (i >= max) {
			ret = sb_append(sb, "...", 3);
			break;
		}
		n = utf8_decode(p + i, len - i, &cp);
		if (!n || (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f) {
			ret = sb_append(sb, KTSTR_UTF8_REPLACEMENT, 3);
			i += n ? n : 1;
			continue;
		}
		switch (cp) {
		case '&':
			ret = sb_append(sb, "&amp;", 5);
			break;
		case '<':
			ret = sb_append(sb, "&lt;", 4);
			break;
		case '>':
			ret = sb_append(sb, "&gt;", 4);
			break;
		case '"':
			ret = sb_append(sb, "&quot;", 6);
			break;
		case '\'':
			ret = sb_append(sb, "&#39;", 5);
			break;
		default:
			ret = sb_append(sb, p + i, n);
		}
		i += n;
	}
	return ret;
}

/* The class of a verdict: the colour of its cell. */
static const char *vclass(const char *v)
{
	enum verdict_kind k = V_KIND_COUNT;

	for (int i = 0; v && i < V_KIND_COUNT; i++)
		if (!strcmp(verdict_name((enum verdict_kind)i), v))
			k = (enum verdict_kind)i;
	if (k == V_PASS)
		return "pass";
	if (k == V_SKIP)
		return "skip";
	if (k == V_XFAIL || k == V_XPASS)
		return "expected";
	if (k == V_INFRA || k == V_STOPPED)
		return "infra";
	return "fail";
}

static const char css[] =
	"body{font:14px/1.4 sans-serif;margin:16px;color:#222;background:#fff}"
	"h1{font-size:20px}h2{font-size:17px;margin-top:24px}h3{font-size:15px}"
	"table.meta td,table.meta th{padding:1px 8px;text-align:left}"
	"table.heatmap{border-collapse:collapse;margin-bottom:12px}"
	"table.heatmap th{font-weight:normal;padding:2px 6px;text-align:left}"
	"td.cell{width:44px;height:28px;border:2px solid #fff;text-align:center;color:#fff}"
	"td.pass{background:" HTML_COLOR_PASS "}td.fail{background:" HTML_COLOR_FAIL "}"
	"td.skip{background:#a0a0a0}td.infra{background:#f2a900}td.expected{background:#7b61c9}"
	"td.none{background:#eee}"
	".legend span{display:inline-block;padding:2px 8px;margin-right:6px;color:#fff}"
	"figure{margin:8px 0 16px 0}figcaption{font-size:13px;margin-bottom:4px}"
	"p.note{color:#666}";

struct cell {
	size_t rec;
	char group[HTML_STR_MAX], row[HTML_STR_MAX], col[HTML_STR_MAX];
};

/* Where a record sits in the heatmaps: a gauntlet variant
 * (gauntlet/TEST/PRESET/PROFILE[/k=KERNEL]) in TEST's map at row PRESET,
 * column PROFILE; any other test in the "tests" map, row its name. */
static void place(json_object *rec, const char *name, struct cell *c)
{
	const char *prof = rj_str(rec, "profile", HTML_STR_MAX - 1);
	const char *k = strstr(name, "/k=");
	char buf[HTML_STR_MAX * 2];
	char *parts[4] = { 0 }, *save = NULL, *t;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", name);
	if (k && strlen(name) - strlen(k) < sizeof(buf))
		buf[strlen(name) - strlen(k)] = 0;
	if (!strncmp(buf, "gauntlet/", 9))
		for (t = strtok_r(buf, "/", &save); t && n < 4; t = strtok_r(NULL, "/", &save))
			parts[n++] = t;
	if (n == 4) {
		snprintf(c->group, sizeof(c->group), "%.250s%s%.250s", parts[1], k ? " " : "",
			 k ? k + 1 : "");
		snprintf(c->row, sizeof(c->row), "%.500s", parts[2]);
		snprintf(c->col, sizeof(c->col), "%.500s", parts[3]);
		return;
	}
	snprintf(c->group, sizeof(c->group), "tests%s%.250s", k ? " " : "", k ? k + 1 : "");
	snprintf(c->row, sizeof(c->row), "%.500s", buf);
	snprintf(c->col, sizeof(c->col), "%.500s", prof ? prof : "default");
}

static long idx_of(char (*v)[HTML_STR_MAX], size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return (long)i;
	return -1;
}

/* One heatmap: the cells of group g (cells[from..ncell) that share it). */
static int heatmap(struct strbuf *sb, const struct result_file *rf, struct cell *cells,
		   size_t ncell, const char *g, size_t *omitted)
{
	static char rows[HTML_AXIS_MAX][HTML_STR_MAX], cols[HTML_AXIS_MAX][HTML_STR_MAX];
	size_t nr = 0, nc = 0;
	long *m;
	int ret;

	for (size_t i = 0; i < ncell; i++) {
		if (strcmp(cells[i].group, g))
			continue;
		if (idx_of(rows, nr, cells[i].row) < 0 && nr < HTML_AXIS_MAX)
			snprintf(rows[nr++], HTML_STR_MAX, "%s", cells[i].row);
		if (idx_of(cols, nc, cells[i].col) < 0 && nc < HTML_AXIS_MAX)
			snprintf(cols[nc++], HTML_STR_MAX, "%s", cells[i].col);
	}
	m = malloc(nr * nc * sizeof(*m) + 1);
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < nr * nc; i++)
		m[i] = -1;
	for (size_t i = 0; i < ncell; i++) {
		long r, c;

		if (strcmp(cells[i].group, g))
			continue;
		r = idx_of(rows, nr, cells[i].row);
		c = idx_of(cols, nc, cells[i].col);
		if (r < 0 || c < 0)
			++*omitted;
		else
			m[(size_t)r * nc + (size_t)c] = (long)cells[i].rec;
	}
	ret = sb_printf(sb, "<h3>");
	if (!ret)
		ret = html_esc(sb, g, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "</h3>\n<table class=\"heatmap\" data-group=\"");
	if (!ret)
		ret = html_esc(sb, g, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "\"><tr><th></th>");
	for (size_t c = 0; !ret && c < nc; c++) {
		ret = sb_printf(sb, "<th class=\"col\">");
		if (!ret)
			ret = html_esc(sb, cols[c], HTML_STR_MAX);
		if (!ret)
			ret = sb_printf(sb, "</th>");
	}
	for (size_t r = 0; !ret && r < nr; r++) {
		ret = sb_printf(sb, "</tr>\n<tr><th class=\"row\">");
		if (!ret)
			ret = html_esc(sb, rows[r], HTML_STR_MAX);
		if (!ret)
			ret = sb_printf(sb, "</th>");
		for (size_t c = 0; !ret && c < nc; c++) {
			long i = m[r * nc + c];
			const char *v, *d;

			if (i < 0) {
				ret = sb_printf(sb, "<td class=\"cell none\"></td>");
				continue;
			}
			v = rj_str(rf->rec[i], "verdict", 32);
			d = rj_str(rf->rec[i], "detail", 65536);
			ret = sb_printf(sb, "<td class=\"cell %s\" data-verdict=\"", vclass(v));
			if (!ret)
				ret = html_esc(sb, v ? v : "?", 32);
			if (!ret)
				ret = sb_printf(sb, "\" data-test=\"");
			if (!ret)
				ret = html_esc(sb, rf->name[i], HTML_STR_MAX);
			if (!ret)
				ret = sb_printf(sb, "\" title=\"");
			if (!ret)
				ret = html_esc(sb, rf->name[i], HTML_STR_MAX);
			if (!ret)
				ret = sb_printf(sb, ": ");
			if (!ret)
				ret = html_esc(sb, v ? v : "?", 32);
			if (!ret && d && *d) {
				ret = sb_printf(sb, " - ");
				if (!ret)
					ret = html_esc(sb, d, HTML_STR_MAX);
			}
			if (!ret)
				ret = sb_printf(sb, "\">%s</td>", !strcmp(vclass(v), "pass") ? "" : "!");
		}
	}
	free(m);
	return ret ? ret : sb_printf(sb, "</tr></table>\n");
}

static int heatmaps(struct strbuf *sb, const struct result_file *rf)
{
	static char groups[HTML_AXIS_MAX][HTML_STR_MAX];
	size_t n = rf->nrec < HTML_CELLS_MAX ? rf->nrec : HTML_CELLS_MAX, ng = 0, omitted = 0;
	struct cell *cells = calloc(n ? n : 1, sizeof(*cells));
	int ret = 0;

	if (!cells)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cells[i].rec = i;
		place(rf->rec[i], rf->name[i], &cells[i]);
		if (idx_of(groups, ng, cells[i].group) < 0) {
			if (ng < HTML_AXIS_MAX)
				snprintf(groups[ng++], HTML_STR_MAX, "%s", cells[i].group);
		}
	}
	ret = sb_printf(sb, "<h2>Outcomes</h2>\n<p class=\"legend\"><span style=\"background:"
			    HTML_COLOR_PASS "\">pass</span><span style=\"background:"
			    HTML_COLOR_FAIL "\">fail</span><span style=\"background:#a0a0a0\">"
			    "skip</span><span style=\"background:#f2a900\">infrastructure</span>"
			    "<span style=\"background:#7b61c9\">expected failure</span></p>\n");
	for (size_t g = 0; !ret && g < ng; g++)
		ret = heatmap(sb, rf, cells, n, groups[g], &omitted);
	for (size_t i = 0; i < n; i++)
		omitted += idx_of(groups, ng, cells[i].group) < 0;
	omitted += rf->nrec - n;
	if (!ret && omitted)
		ret = sb_printf(sb, "<p class=\"note\">%zu tests past the heatmaps' bounds (%d "
				    "cells, %d rows, columns or maps) not drawn.</p>\n",
				omitted, HTML_CELLS_MAX, HTML_AXIS_MAX);
	free(cells);
	return ret;
}

/* Work shares: one stacked bar, a segment per cgroup. */
static int shares(struct strbuf *sb, json_object *rec, const char *name)
{
	static const char *const pal[] = { "#4575b4", "#fdae61", "#74add1", "#f46d43",
					   "#abd9e9", "#a50026", "#313695", "#fee090" };
	json_object *cg = rj_arr(rj_obj(rec, "metrics"), "cgroups");
	size_t n = cg ? json_object_array_length(cg) : 0;
	double total = 0, x = 0;
	const double W = 600;
	int ret = 0;

	if (n > HTML_BARS_MAX)
		n = HTML_BARS_MAX;
	for (size_t i = 0; i < n; i++)
		total += fmax(0, html_num_or(json_object_array_get_idx(cg, i), "total_work_units", 0));
	if (total <= 0)
		return 0;
	ret = sb_printf(sb, "<figure class=\"shares\" data-test=\"");
	if (!ret)
		ret = html_esc(sb, name, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "\"><figcaption>");
	if (!ret)
		ret = html_esc(sb, name, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" "
				    "width=\"%.0f\" height=\"40\">", W + 2);
	for (size_t i = 0; !ret && i < n; i++) {
		json_object *c = json_object_array_get_idx(cg, i);
		const char *cn = rj_str(c, "name", HTML_STR_MAX);
		double u = fmax(0, html_num_or(c, "total_work_units", 0)), pct = u / total * 100,
		       w = u / total * W;

		ret = sb_printf(sb, "<g class=\"share\" data-cgroup=\"");
		if (!ret)
			ret = html_esc(sb, cn ? cn : "?", 64);
		if (!ret)
			ret = sb_printf(sb, "\" data-pct=\"%.1f\"><rect x=\"%.1f\" y=\"0\" "
					    "width=\"%.1f\" height=\"24\" fill=\"%s\"><title>",
					pct, 1 + x, w, pal[i % 8]);
		if (!ret)
			ret = html_esc(sb, cn ? cn : "?", 64);
		if (!ret)
			ret = sb_printf(sb, ": %.1f%% of the work</title></rect>", pct);
		if (!ret && w > 40) {
			ret = sb_printf(sb, "<text x=\"%.1f\" y=\"37\" font-size=\"11\">", 1 + x);
			if (!ret)
				ret = html_esc(sb, cn ? cn : "?", 16);
			if (!ret)
				ret = sb_printf(sb, " %.1f%%</text>", pct);
		}
		if (!ret)
			ret = sb_printf(sb, "</g>");
		x += w;
	}
	return ret ? ret : sb_printf(sb, "</svg></figure>\n");
}

static int header(struct strbuf *sb, const struct result_file *rf)
{
	size_t pass = 0, fail = 0, skip = 0, other = 0;
	int ret;

	for (size_t i = 0; i < rf->nrec; i++) {
		const char *c = vclass(rj_str(rf->rec[i], "verdict", 32));

		pass += !strcmp(c, "pass");
		fail += !strcmp(c, "fail");
		skip += !strcmp(c, "skip");
		other += !strcmp(c, "infra") || !strcmp(c, "expected");
	}
	ret = sb_printf(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			    "'none'; style-src 'unsafe-inline'\"><title>ktstr: ");
	if (!ret)
		ret = html_esc(sb, rf->path, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "</title><style>%s</style></head><body>\n<h1>ktstr run: ", css);
	if (!ret)
		ret = html_esc(sb, rf->path, HTML_STR_MAX);
	if (!ret)
		ret = sb_printf(sb, "</h1>\n<p id=\"summary\">%zu passed, %zu failed, %zu skipped, "
				    "%zu other (%zu tests)</p>\n", pass, fail, skip, other,
				rf->nrec);
	if (!ret && rf->nmeta) {
		ret = sb_printf(sb, "<table class=\"meta\">");
		for (size_t i = 0; !ret && i < rf->nmeta; i++) {
			ret = sb_printf(sb, "<tr><th>");
			if (!ret)
				ret = html_esc(sb, rf->meta[i].key, sizeof(rf->meta[i].key));
			if (!ret)
				ret = sb_printf(sb, "</th><td>");
			if (!ret)
				ret = html_esc(sb, rf->meta[i].value, sizeof(rf->meta[i].value));
			if (!ret)
				ret = sb_printf(sb, "</td></tr>");
		}
		if (!ret)
			ret = sb_printf(sb, "</table>\n");
	}
	return ret;
}

int html_render(struct strbuf *sb, const struct result_file *rf)
{
	size_t n = rf->nrec < HTML_DETAIL_MAX ? rf->nrec : HTML_DETAIL_MAX;
	int ret = header(sb, rf);

	if (!ret)
		ret = heatmaps(sb, rf);
	if (!ret)
		ret = sb_printf(sb, "<h2>Work shares</h2>\n");
	for (size_t i = 0; !ret && i < n; i++)
		ret = shares(sb, rf->rec[i], rf->name[i]);
	if (!ret)
		ret = sb_printf(sb, "<h2>Lanes</h2>\n");
	for (size_t i = 0; !ret && i < n; i++) {
		ret = html_cpu_lanes(sb, rf->rec[i], rf->name[i]);
		if (!ret)
			ret = html_gap_lanes(sb, rf->rec[i], rf->name[i]);
	}
	if (!ret && n < rf->nrec)
		ret = sb_printf(sb, "<p class=\"note\">Work shares and gap lanes of the first %d "
				    "tests only; %zu more in the heatmaps.</p>\n",
				HTML_DETAIL_MAX, rf->nrec - n);
	return ret ? ret : sb_printf(sb, "</body></html>\n");
}
