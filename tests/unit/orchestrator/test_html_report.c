/* The HTML page's writer: escaping of every string from a result file,
 * and the page's parts (heatmap cells, bars, lanes) drawn from records.
 * The page as a browser renders it: tests/integration/reports.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "html_report.h"

static char *esc(const char *s, size_t max)
{
	struct strbuf sb = { 0 };

	cr_assert_eq(html_esc(&sb, s, max), 0);
	cr_assert_eq(sb_append(&sb, "", 1), 0);
	return sb.buf;
}

Test(html, escapes_markup_controls_and_bad_utf8)
{
	char *s = esc("<script>alert('x')</script> & \"q\"", 1000);

	cr_assert_str_eq(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	free(s);
	s = esc("a\x01" "b\xff" "c\x7f", 1000);
	cr_assert_str_eq(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD");
	free(s);
	s = esc("caf\xc3\xa9", 1000);
	cr_assert_str_eq(s, "caf\xc3\xa9");
	free(s);
	s = esc("abcdefgh", 4);
	cr_assert_str_eq(s, "abcd...");
	free(s);
}

static char *page(const char *json)
{
	static const struct result_limits lim = RESULT_LIMITS_DEFAULT;
	struct result_file rf;
	struct strbuf sb = { 0 };
	char err[512];

	cr_assert_eq(result_file_parse(&rf, "r.json", json, strlen(json), &lim, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(html_render(&sb, &rf), 0);
	cr_assert_eq(sb_append(&sb, "", 1), 0);
	result_file_free(&rf);
	return sb.buf;
}

Test(html, heatmap_places_gauntlet_variants_by_preset_and_profile)
{
	char *p = page("[{\"name\":\"gauntlet/t/tiny/default\",\"verdict\":\"PASS\",\"profile\":\"default\"},"
		       "{\"name\":\"gauntlet/t/tiny/fifo\",\"verdict\":\"FAIL\",\"detail\":\"gap <b>\"},"
		       "{\"name\":\"gauntlet/t/smt/fifo\",\"verdict\":\"SKIP\"},"
		       "{\"name\":\"plain\",\"verdict\":\"TIMEOUT\",\"profile\":\"default\"}]");
	const char *map = strstr(p, "<table class=\"heatmap\" data-group=\"t\">");

	cr_assert_not_null(map, "%s", p);
	/* Row tiny: default PASS then fifo FAIL; row smt: no default, fifo SKIP. */
	const char *tiny = strstr(map, "<th class=\"row\">tiny</th><td class=\"cell pass\" "
				       "data-verdict=\"PASS\" data-test=\"gauntlet/t/tiny/default\"");
	cr_assert_not_null(tiny, "%s", map);
	cr_assert_not_null(strstr(tiny, "<td class=\"cell fail\" data-verdict=\"FAIL\" "
					"data-test=\"gauntlet/t/tiny/fifo\" title=\"gauntlet/t/tiny/"
					"fifo: FAIL - gap &lt;b&gt;\""), "%s", map);
	cr_assert_not_null(strstr(map, "<th class=\"row\">smt</th><td class=\"cell none\"></td>"
				       "<td class=\"cell skip\""), "%s", map);
	cr_assert_not_null(strstr(p, "<table class=\"heatmap\" data-group=\"tests\">"));
	cr_assert_not_null(strstr(p, "data-verdict=\"TIMEOUT\" data-test=\"plain\""));
	cr_assert_not_null(strstr(p, "1 passed, 2 failed, 1 skipped, 0 other (4 tests)"));
	free(p);
}

Test(html, shares_and_lanes_from_metrics)
{
	char *p = page("[{\"name\":\"t\",\"verdict\":\"PASS\",\"metrics\":{\"guest_cpus\":2,"
		       "\"cgroups\":[{\"name\":\"<cg0>\",\"total_work_units\":300},"
		       "{\"name\":\"cg1\",\"total_work_units\":100}],"
		       "\"workers\":[{\"tid\":5,\"cgroup\":\"cg1\",\"wall_ns\":2000000000,"
		       "\"max_gap_ms\":120,\"max_gap_cpu\":1,\"max_gap_at_ms\":1500},"
		       "{\"tid\":6,\"cgroup\":\"cg1\",\"max_gap_ms\":1,\"max_gap_cpu\":9,"
		       "\"max_gap_at_ms\":1}]}}]");

	cr_assert_not_null(strstr(p, "<g class=\"share\" data-cgroup=\"&lt;cg0&gt;\" "
				     "data-pct=\"75.0\">"), "%s", p);
	cr_assert_not_null(strstr(p, "<g class=\"share\" data-cgroup=\"cg1\" data-pct=\"25.0\">"));
	cr_assert_not_null(strstr(p, "data-span-ms=\"2000\""), "%s", p);
	/* Lanes for cpu0..cpu9: the second worker resumed on cpu9. */
	cr_assert_not_null(strstr(p, "<g class=\"lane\" data-cpu=\"0\">"));
	cr_assert_not_null(strstr(p, "<g class=\"lane\" data-cpu=\"9\">"));
	cr_assert_null(strstr(p, "<g class=\"lane\" data-cpu=\"10\">"));
	/* 1380..1500 ms of 2000 on a 600-pixel lane from x 60. */
	cr_assert_not_null(strstr(p, "<rect class=\"gap\" data-cpu=\"1\" data-ms=\"120\" "
				     "x=\"474.0\" y=\"14\" width=\"36.0\""), "%s", p);
	cr_assert_null(strstr(p, "<cg0>"));
	free(p);
}

Test(html, no_script_and_nothing_fetched)
{
	char *p = page("[{\"name\":\"<script src=http://x/></script>\",\"verdict\":\"PASS\"}]");

	cr_assert_null(strstr(p, "<script"), "%s", p);
	cr_assert_not_null(strstr(p, "<th class=\"row\">&lt;script src=http://x/&gt;"), "%s", p);
	cr_assert_not_null(strstr(p, "default-src 'none'"));
	free(p);
}

Test(html, bounds_on_records_drawn)
{
	struct strbuf js = { 0 };
	char *p;

	cr_assert_eq(sb_printf(&js, "["), 0);
	for (int i = 0; i < HTML_DETAIL_MAX + 5; i++)
		cr_assert_eq(sb_printf(&js, "%s{\"name\":\"t%d\",\"verdict\":\"PASS\",\"metrics\":"
					    "{\"cgroups\":[{\"name\":\"c\",\"total_work_units\":1}]}}",
				       i ? "," : "", i), 0);
	cr_assert_eq(sb_printf(&js, "]"), 0);
	cr_assert_eq(sb_append(&js, "", 1), 0);
	p = page(js.buf);
	size_t n = 0;
	for (const char *q = p; (q = strstr(q, "<figure class=\"shares\"")); q++)
		n++;
	cr_assert_eq(n, HTML_DETAIL_MAX);
	cr_assert_not_null(strstr(p, "5 more in the heatmaps"));
	free(p);
	sb_free(&js);
}

Test(html, monitor_lanes_cells_and_steps)
{
	char *p = page("[{\"name\":\"t\",\"verdict\":\"PASS\",\"vm\":{\"monitor\":{"
		       "\"lane_bucket_ns\":500000000,\"phases\":[{\"start_ns\":0},"
		       "{\"step_index\":0,\"start_ns\":1000000000}],\"cpu_lanes\":["
		       "{\"cpu\":0,\"max_nr_running\":[0,1,3,9],\"stuck_samples\":[0,0,0,0]},"
		       "{\"cpu\":1,\"max_nr_running\":[1,2,2,2],\"stuck_samples\":[0,0,4,0]}]}}}]");

	cr_assert_not_null(strstr(p, "<figure class=\"cpu-lanes\" data-test=\"t\" data-buckets=\"4\" "
				     "data-bucket-ms=\"500\">"), "%s", p);
	cr_assert_not_null(strstr(p, "<g class=\"cpu-lane\" data-cpu=\"1\">"));
	/* cpu1's third cell: 4 stuck samples, red, 150 pixels from x 60+300. */
	cr_assert_not_null(strstr(p, "<rect class=\"bucket\" data-nr=\"2\" data-stuck=\"4\" "
				     "x=\"360.0\" y=\"14\" width=\"150.0\" height=\"12\" "
				     "fill=\"#b2182b\">"), "%s", p);
	cr_assert_not_null(strstr(p, "data-nr=\"9\" data-stuck=\"0\""));
	/* Step 0 at 1 s of 2 s: the middle of the lanes. */
	cr_assert_not_null(strstr(p, "<line class=\"step\" x1=\"360.0\""), "%s", p);
	/* Only the step: the time before the first step is no mark. */
	cr_assert_null(strstr(strstr(p, "<line class=\"step\"") + 1, "<line class=\"step\""));
	free(p);
}
