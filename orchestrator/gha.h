/* GitHub Actions (docs/results.md, "GitHub Actions"): when GITHUB_ACTIONS
 * is "true", an ::error workflow command per failed test (a ::warning per
 * flaky one) naming the suite file and the test's line, so the failure
 * shows on the run's page and in the pull request's diff; and a Markdown
 * summary appended to $GITHUB_STEP_SUMMARY. Both carry guest bytes (a
 * verdict's detail): bounded and escaped here. */
#ifndef KTSTR_ORCH_GHA_H
#define KTSTR_ORCH_GHA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ktstr/util.h>

#include "record.h"
#include "runmeta.h"
#include "suite.h"

#define GHA_ENV "GITHUB_ACTIONS"
#define GHA_SUMMARY_ENV "GITHUB_STEP_SUMMARY"
/* Annotations per run: GitHub shows 10 per step, 50 per job. */
#define GHA_ANNOTATIONS_MAX 50u
/* Bytes of a detail in one annotation, before escaping. */
#define GHA_MESSAGE_MAX 4096u
/* The summary ktstr appends (GitHub takes 1 MiB per step), and bytes of a
 * detail in one row of it. */
#define GHA_SUMMARY_MAX (64u << 10)
#define GHA_CELL_MAX 300u

bool gha_enabled(void);
/* Workflow-command escaping: data (a message) gets %, CR and LF as %25,
 * %0D, %0A; a property value (file=, title=) also ':' and ',' as %3A,
 * %2C. Bytes that are not UTF-8, or controls, become U+FFFD first. */
int gha_escape_data(struct strbuf *sb, const char *s, size_t len);
int gha_escape_prop(struct strbuf *sb, const char *s, size_t len);
/* The annotation lines of a run, at most GHA_ANNOTATIONS_MAX (then one
 * ::notice saying how many more). */
int gha_annotations(struct strbuf *sb, const struct suite *s, const struct plan *p,
		    const struct test_record *r, size_t n);
/* The Markdown summary, at most max bytes (rows that do not fit are
 * counted in a last line). m may be NULL. */
int gha_summary(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n, const struct runmeta *m, size_t max);
/* Append buf to path, which comes from the environment: opened
 * O_APPEND|O_NOFOLLOW|O_NONBLOCK, never created, refused unless a regular
 * file. Returns 0 or -errno (-EINVAL: not a regular file). */
int gha_summary_append(const char *path, const char *buf, size_t len);
/* Both, when gha_enabled(): annotations on out, the summary to
 * $GITHUB_STEP_SUMMARY when set. A problem is a warning, never the run's
 * verdict. */
void gha_report(FILE *out, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n, const struct runmeta *m);

#endif
