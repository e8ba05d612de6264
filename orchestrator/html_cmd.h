/* The HTML page of a run's own records (`run --html FILE`), through the
 * same JSON records `report --html` reads (html_report.h). */
#ifndef KTSTR_ORCH_HTML_CMD_H
#define KTSTR_ORCH_HTML_CMD_H

#include <stddef.h>

#include <ktstr/util.h>

#include "record.h"
#include "suite.h"

struct runmeta;

/* The page of recs[n] into out, with the run's metadata m (may be NULL);
 * title names the page (the --html path). 0 or -errno. */
int html_render_run(struct strbuf *out, const struct suite *s, const struct plan *p,
		    const struct test_record *recs, size_t n, const struct runmeta *m,
		    const char *title);

#endif
