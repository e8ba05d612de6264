/* `run --jsonl FILE`: the results as JSON Lines, written as the run goes
 * (docs/results.md, "JSON Lines"): a header line (schema, tool version,
 * run metadata), one "test" line per test as it ends, an "end" line with
 * the totals when the run finishes. Each line is one write followed by
 * fdatasync, so a run killed at any point leaves the header and every
 * test that had ended, each a whole line. */
#ifndef KTSTR_ORCH_JSONL_H
#define KTSTR_ORCH_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "report_file.h"
#include "runmeta.h"
#include "suite.h"

struct jsonl {
	struct report_file rf;	/* the stream (report_file_open_stream) */
	const struct suite *s;	/* borrowed, from jsonl_start */
	const struct plan *p;
	const struct runmeta *m;
	bool *done;		/* owned: per plan variant, its line is written */
	size_t lines;
	int err;		/* the first write error (0 none): said once */
};

#define JSONL_INIT { REPORT_FILE_INIT, NULL, NULL, NULL, NULL, 0, 0 }

/* Create the file now (before the privilege drop). 0 or -errno with err. */
int jsonl_open(struct jsonl *j, const char *path, char *err, size_t errlen);
/* The header line. s, p and m are borrowed until jsonl_close. */
int jsonl_start(struct jsonl *j, const struct suite *s, const struct plan *p,
		const struct runmeta *m);
/* runner_cfg.on_done: r's "test" line. A write error is kept (j->err) and
 * said once; later lines are still tried. */
void jsonl_on_done(void *ctx, const struct test_record *r);
/* The records no line carried yet (tests the stop left unrun), then the
 * "end" line: totals, exit status, whether a signal stopped the run, and
 * the duration (m finished). Returns 0 or the first write error. */
int jsonl_finish(struct jsonl *j, const struct test_record *r, size_t n, int exit_code,
		 bool interrupted);
void jsonl_close(struct jsonl *j);

/* One line into sb (tests and the fuzzer build lines without a file). */
int jsonl_header_line(struct strbuf *sb, const struct runmeta *m);
int jsonl_test_line(struct strbuf *sb, const struct suite *s, const struct plan *p,
		    const struct test_record *r);
int jsonl_end_line(struct strbuf *sb, const struct test_record *r, size_t n, int exit_code,
		   bool interrupted, const struct runmeta *m);

#endif
