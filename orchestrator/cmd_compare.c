/* `ktstr-orch compare [--json OUT] [--gate METRIC=ABS,REL%[,lower|higher]]...
 * [--verbose] A B`: two result files, test by test (compare.h,
 * docs/reports.md "Comparing two runs"). Starts nothing, keeps its ids.
 * Exit: 0 no regression, 1 regressions, 2 usage or a file that is not a
 * result file, 3 a file that cannot be read or the report not written. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compare.h"
#include "report_file.h"

/* --gate options one command line may give. */
#define COMPARE_GATES_MAX 64

static void compare_usage(FILE *f)
{
	fputs("usage: ktstr-orch compare [--json OUT] [--gate METRIC=ABS,REL%[,lower|higher]]...\n"
	      "                          [--verbose] A.json B.json\n"
	      "  A regression: a test that passed in A and fails in B, or a metric worse in B\n"
	      "  than both its gate's thresholds. Metrics and default gates:\n", f);
	for (size_t i = 0; i < compare_nmetrics; i++) {
		const struct metric_def *d = &compare_metrics[i];

		if (d->dir == MD_NONE)
			fprintf(f, "    %-18s %s\n", "payload.P.M", "set with --gate ...,lower|higher");
		else
			fprintf(f, "    %-18s %-5s %g and %g%% (%s)\n", d->name, d->unit, d->abs,
				d->rel_pct, metric_dir_name(d->dir));
	}
	fputs("  exit: 0 no regression, 1 regressions, 2 usage or bad input, 3 unreadable file\n",
	      f);
}

int cmd_compare(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "gate", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct result_limits lim = RESULT_LIMITS_DEFAULT;
	struct metric_gate gates[COMPARE_GATES_MAX];
	struct result_file rf[2] = { 0 };
	struct compare cmp = { 0 };
	const char *json = NULL;
	size_t ngates = 0;
	bool verbose = false;
	char err[1024];
	int c, ret, rc = EXIT_USAGE;

	(void)g;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = optarg;
			break;
		case 'g':
			if (ngates == COMPARE_GATES_MAX) {
				fprintf(stderr, "ktstr-orch compare: at most %d --gate options\n",
					COMPARE_GATES_MAX);
				return EXIT_USAGE;
			}
			if (metric_gate_parse(optarg, &gates[ngates], err, sizeof(err))) {
				fprintf(stderr, "ktstr-orch compare: --gate %s\n", err);
				return EXIT_USAGE;
			}
			ngates++;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			compare_usage(stdout);
			return 0;
		default:
			compare_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "ktstr-orch compare: needs exactly two result files, A (the "
				"baseline) and B, got %d\n", argc - optind);
		compare_usage(stderr);
		return EXIT_USAGE;
	}
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
	compare_print(stdout, &cmp, &rf[0], &rf[1], verbose);
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
