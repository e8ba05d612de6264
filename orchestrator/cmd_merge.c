/* `ktstr-orch merge [--json OUT] [--junit OUT] [--expect-shards N] FILE...`:
 * one report from the --json files of a sharded run's shards
 * (shard_merge.h, docs/farms.md "Merging"). Starts nothing, keeps its ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report_file.h"
#include "shard_assign.h"
#include "shard_merge.h"

struct merge_opts {
	const char *out[2]; /* --junit, --json */
	uint32_t expect;
};

/* Returns true to go on; false with *rc the exit status (--help: 0, a
 * usage error: 2, said). */
static bool parse_merge_opts(struct cli_parser *cp, struct merge_opts *o, int *rc)
{
	char *end;
	unsigned long v;
	int c;

	while ((c = cli_next(cp)) > 0) {
		switch (c) {
		case 'J':
		case 'j':
			o->out[c == 'j'] = optarg;
			break;
		case 'n':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || !v ||
			    v > SHARD_TOTAL_MAX) {
				*rc = cli_usage_error(cp->cmd, "--expect-shards takes 1..%u, got '%s'",
						      SHARD_TOTAL_MAX, optarg);
				return false;
			}
			o->expect = (uint32_t)v;
			break;
		}
	}
	*rc = cp->exit;
	return c != CLI_STOP;
}

/* Both outputs, atomically (report_file.h); a failure is said and is an
 * infrastructure error. */
static int write_outputs(const struct merge_opts *o, const struct merge *m)
{
	int rc = 0;

	for (int which = 0; which < 2; which++) {
		struct report_file rf = REPORT_FILE_INIT;
		struct strbuf sb = { 0 };
		char err[1024] = "";
		int ret;

		if (!o->out[which])
			continue;
		ret = report_file_open(&rf, o->out[which], NULL, err, sizeof(err));
		if (!ret)
			ret = which ? merge_render_json(m, &sb) : merge_render_junit(m, &sb);
		if (!ret)
			ret = report_file_write(&rf, sb.buf ? sb.buf : "", sb.len);
		if (ret) {
			fprintf(stderr, "ktstr-orch merge: cannot write the %s report %s: %s\n",
				which ? "JSON" : "JUnit", o->out[which], err[0] ? err : strerror(-ret));
			rc = EXIT_INFRA;
		}
		sb_free(&sb);
		report_file_close(&rf);
	}
	return rc;
}

int cmd_merge(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli_parser cp;
	static const struct merge_limits lim = MERGE_LIMITS_DEFAULT;
	struct merge_opts o = { { NULL, NULL }, 0 };
	struct merge m;
	int rc, wrc;

	cli_begin(&cp, cmd, g, argc, argv);
	if (!parse_merge_opts(&cp, &o, &rc))
		return rc;
	merge_init(&m, &lim, o.expect, stderr);
	for (int i = optind; i < argc; i++)
		if (merge_add_file(&m, argv[i]))
			break;
	if (merge_finish(&m)) {
		fprintf(stderr, "ktstr-orch merge: out of memory\n");
		merge_free(&m);
		return EXIT_INFRA;
	}
	wrc = write_outputs(&o, &m);
	rc = merge_summary(&m, stdout);
	merge_free(&m);
	return wrc ? wrc : rc;
}
