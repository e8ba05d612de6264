/* `ktstr-orch compare A B`: two result files matched test by test
 * (docs/reports.md, "Comparing two runs"). Tests match by their full
 * variant name (kernel, topology and profile suffixes included); what
 * differs is an item: a test only on one side, an outcome change, or a
 * metric's change judged by its dual gate (compare_metric.h). */
#ifndef KTSTR_ORCH_COMPARE_H
#define KTSTR_ORCH_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ktstr/util.h>

#include "compare_metric.h"
#include "compare_read.h"

enum cmp_kind {
	CK_ONLY_A,	  /* in A, not in B */
	CK_ONLY_B,
	CK_OUTCOME,	  /* verdicts differ */
	CK_METRIC,	  /* in both: judged */
	CK_MISSING_A,	  /* metric only in B */
	CK_MISSING_B,	  /* metric only in A */
};

struct cmp_item {
	enum cmp_kind kind;
	size_t ia, ib;		/* record indices (SIZE_MAX: not on that side) */
	const char *test;	/* borrowed from a result file */
	const char *va, *vb;	/* verdicts, borrowed */
	char metric[METRIC_KEY_MAX];
	const char *unit;
	enum metric_dir dir;
	double a, b, gate_abs, gate_rel, worse_abs, worse_rel;
	enum gate_result g;
	bool regression;
};

struct compare {
	struct cmp_item *it;	/* owned */
	size_t n, cap;
	size_t matched, regressions, metrics_omitted;
};

/* Compare a with b under the --gate overrides g[ng] (a key's gate wins
 * over its family's, both over the table). 0; -EINVAL with err for a
 * record that cannot be judged (unknown verdict, NaN metric); -ENOMEM. */
int compare_run(struct compare *c, const struct result_file *a, const struct result_file *b,
		const struct metric_gate *g, size_t ng, char *err, size_t errlen);
/* The text report: metadata differences, every item but unchanged metrics
 * (all of them when verbose), then the one summary line. */
void compare_print(FILE *f, const struct compare *c, const struct result_file *a,
		   const struct result_file *b, bool verbose);
/* The same as JSON ({"a":..., "b":..., "regressions":N, "items":[...]}). */
int compare_render_json(struct strbuf *sb, const struct compare *c, const struct result_file *a,
			const struct result_file *b);
void compare_free(struct compare *c);

#endif
