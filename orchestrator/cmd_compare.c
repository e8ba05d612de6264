/* `ktstr-orch compare [--json OUT] [--gate METRIC=ABS,REL%[,lower|higher]]...
 * [-v] A B`: two result files, test by test (compare.h,
 * docs/reports.md "Comparing two runs"). Starts nothing, keeps its ids.
 * Exit: 0 no regression, 1 regressions, 2 usage or a file that is not a
 * result file, 3 a file that cannot be read or the report not written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compare.h"
#include "report_file.h"

/* --gate options one command line may give. */
#define COMPARE_GATES_MAX 64

int cmd_compare(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct result_limits lim = RESULT_LIMITS_DEFAULT;
	struct metric_gate gates[COMPARE_GATES_MAX];
	struct result_file rf[2] = { 0 };
	struct compare cmp = { 0 };
	const char *json = NULL;
	size_t ngates = 0;
	struct cli_parser cp;
	char err[1024];
	int c, ret, rc = EXIT_USAGE;

	cli_begin(&cp, cmd, g, argc, argv);
	while ((c = cli_next(&cp)) > 0) {
		switch (c) {
		case 'j':
			json = optarg;
			break;
		case 'g':
			if (ngates == COMPARE_GATES_MAX)
				return cli_usage_error(cmd, "at most %d --gate options",
						       COMPARE_GATES_MAX);
			if (metric_gate_parse(optarg, &gates[ngates], err, sizeof(err)))
				return cli_usage_error(cmd, "--gate %s", err);
			ngates++;
			break;
		}
	}
	if (c == CLI_STOP)
		return cp.exit;
	for (int i = 0; i < 2; i++) {
		ret = result_file_read(&rf[i], argv[optind + i], &lim, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "ktstr-orch compare: %s\n", err);
			rc = result_read_bad_content(ret) ? EXIT_USAGE : EXIT_INFRA;
			goto out;
		}
	}
	ret = compare_run(&cmp, &rf[0], &rf[1], gates, ngates, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ktstr-orch compare: %s\n", err);
		rc = ret == -ENOMEM ? EXIT_INFRA : EXIT_USAGE;
		goto out;
	}
	compare_print(stdout, &cmp, &rf[0], &rf[1], g->verbosity > 0);
	rc = cmp.regressions ? EXIT_TESTS_FAILED : 0;
	if (json) {
		struct report_file out = REPORT_FILE_INIT;
		struct strbuf sb = { 0 };

		err[0] = 0;
		ret = report_file_open(&out, json, NULL, err, sizeof(err));
		if (!ret)
			ret = compare_render_json(&sb, &cmp, &rf[0], &rf[1]);
		if (!ret)
			ret = report_file_write(&out, sb.buf ? sb.buf : "", sb.len);
		if (ret) {
			fprintf(stderr, "ktstr-orch compare: cannot write %s: %s\n", json,
				err[0] ? err : strerror(-ret));
			rc = EXIT_INFRA;
		}
		sb_free(&sb);
		report_file_close(&out);
	}
out:
	compare_free(&cmp);
	result_file_free(&rf[0]);
	result_file_free(&rf[1]);
	return rc;
}
