/* The HTML page's two entry points (html_report.h): `run --html FILE`
 * renders the run's own records, `ktstr-orch report --html OUT FILE` the
 * records of a --json file (a run's or merge's). Both go through the JSON
 * records, so the page shows exactly what the JSON file holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "html_cmd.h"
#include "html_report.h"
#include "jsonl_record.h"
#include "junit.h"
#include "report_file.h"

int html_render_run(struct strbuf *out, const struct suite *s, const struct plan *p,
		    const struct test_record *recs, size_t n, const struct runmeta *m,
		    const char *title)
{
	/* Our own records: no byte bound, the count is the plan's. */
	struct result_limits lim = RESULT_LIMITS_DEFAULT;
	struct result_file rf;
	struct strbuf js = { 0 };
	char err[512];
	int ret;

	lim.bytes = SIZE_MAX;
	lim.records = n;
	ret = json_render(&js, s, p, recs, n, m);
	if (!ret)
		ret = result_file_parse(&rf, title, js.buf, js.len, &lim, err, sizeof(err));
	sb_free(&js);
	if (ret)
		return ret;
	ret = html_render(out, &rf);
	result_file_free(&rf);
	return ret;
}

int cmd_report(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct result_limits lim = RESULT_LIMITS_DEFAULT;
	struct report_file out = REPORT_FILE_INIT;
	struct result_file rf;
	struct strbuf sb = { 0 };
	const char *html = NULL;
	char err[1024] = "";
	struct cli_parser cp;
	int c, ret;

	cli_begin(&cp, cmd, g, argc, argv);
	while ((c = cli_next(&cp)) > 0)
		if (c == 'H')
			html = optarg;
	if (c == CLI_STOP)
		return cp.exit;
	if (!html)
		return cli_usage_error(cmd, "--html OUT is required: the page is all it writes");
	ret = result_file_read(&rf, argv[optind], &lim, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ktstr-orch report: %s\n", err);
		return result_read_bad_content(ret) ? EXIT_USAGE : EXIT_INFRA;
	}
	err[0] = 0;
	ret = html_render(&sb, &rf);
	if (!ret)
		ret = report_file_open(&out, html, NULL, err, sizeof(err));
	if (!ret)
		ret = report_file_write(&out, sb.buf ? sb.buf : "", sb.len);
	if (ret)
		fprintf(stderr, "ktstr-orch report: cannot write %s: %s\n", html,
			err[0] ? err : strerror(-ret));
	report_file_close(&out);
	sb_free(&sb);
	result_file_free(&rf);
	return ret ? EXIT_INFRA : 0;
}
