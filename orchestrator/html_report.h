/* The HTML page of a run (docs/reports.md, "The HTML page"): one
 * self-contained file, inline CSS and SVG, no script and nothing fetched.
 * It is drawn from the run's --json records (compare_read.h), so one
 * renderer serves `run --html`, and `report --html` on the file of a run
 * or of `merge`. Every string from the file (test names, details, cgroup
 * names: the guest's or another host's) is cut to a bound and escaped. */
#ifndef KTSTR_ORCH_HTML_REPORT_H
#define KTSTR_ORCH_HTML_REPORT_H

#include <stddef.h>

#include <ktstr/util.h>

#include "compare_read.h"

/* Records shown with work-share bars and gap lanes (all are in the
 * heatmap); the rest are counted in a note. */
#define HTML_DETAIL_MAX 200
/* Heatmap cells drawn, and rows / columns of one heatmap. */
#define HTML_CELLS_MAX 20000
#define HTML_AXIS_MAX 256
/* Lanes (CPUs) of one record, cgroups of one bar, gaps of one record. */
#define HTML_LANES_MAX 256
#define HTML_BARS_MAX 64
#define HTML_GAPS_MAX 1024
/* Buckets of one monitor lane drawn (the worker sends at most 64). */
#define HTML_BUCKETS_MAX 64
/* Bytes of one string from the file written (a title, a name). */
#define HTML_STR_MAX 512

/* The colours of the outcomes: the screenshot test looks for them. */
#define HTML_COLOR_PASS "#1a9850"
#define HTML_COLOR_FAIL "#d73027"

/* Append to sb the HTML-escaped s (at most max bytes of it, then "..."):
 * & < > " ' as entities, control characters and invalid UTF-8 as U+FFFD. */
int html_esc(struct strbuf *sb, const char *s, size_t max);
/* The whole page of rf. 0 or -ENOMEM. */
int html_render(struct strbuf *sb, const struct result_file *rf);

#endif
