/* The metrics `ktstr-orch compare` reads out of a test record and how each
 * is gated (docs/reports.md, "Metrics and gates": the table there is this
 * one, in words). A change is a regression only when it is worse than both
 * the absolute and the relative threshold, in the metric's worse direction. */
#ifndef KTSTR_ORCH_COMPARE_METRIC_H
#define KTSTR_ORCH_COMPARE_METRIC_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

enum metric_dir {
	MD_LOWER_BETTER,  /* latency, gaps, spread: higher is worse */
	MD_HIGHER_BETTER, /* throughput: lower is worse */
	MD_EITHER,	  /* a share: a move either way is worse */
	MD_NONE,	  /* reported, never gated (a payload metric with no --gate) */
};

struct metric_def {
	const char *name;	/* a family: "share_pct" covers "share_pct[cg0]" */
	const char *unit;
	enum metric_dir dir;
	double abs, rel_pct;	/* default gate: worse by more than both */
	const char *what;	/* where it comes from, for --help and the docs */
};

/* The table, one home; the last entry is the payload family. */
extern const struct metric_def compare_metrics[];
extern const size_t compare_nmetrics;
const struct metric_def *metric_def_find(const char *family);

/* One gate from --gate METRIC=ABS,REL%[,lower|higher]: for a family or
 * one key ("share_pct[cg0]", "payload.hackbench.time_s"). */
struct metric_gate {
	char metric[160];
	double abs, rel_pct;
	enum metric_dir dir;	/* MD_NONE: the table's */
};
/* Parse "METRIC=ABS,REL%[,lower|higher]" (ABS >= 0, REL >= 0, finite;
 * lower/higher: which is better, needed for payload metrics). 0 or
 * -EINVAL with why. */
int metric_gate_parse(const char *arg, struct metric_gate *g, char *why, size_t whylen);

#define METRIC_KEY_MAX 160
struct metric_value {
	char key[METRIC_KEY_MAX];	/* "max_gap_ms", "share_pct[cg0]", "payload.P.M" */
	const struct metric_def *def;
	double v;
};
/* Values a record may yield; more (payload metrics, cgroups) are counted
 * in *omitted. */
#define METRIC_VALUES_MAX 256
/* Bounds on the arrays of a record walked (the guest bounds them too; a
 * result file is not trusted to have kept them). */
#define METRIC_ARRAY_MAX 4096

/* The metrics of one record into out[METRIC_VALUES_MAX]; a metric the
 * record lacks is absent. -EINVAL with why for a number that is not finite
 * (NaN, inf) or negative where it cannot be. */
int metrics_extract(struct json_object *rec, struct metric_value *out, size_t *n,
		    size_t *omitted, char *why, size_t whylen);

enum gate_result {
	G_SAME,
	G_BETTER,
	G_WORSE,	/* worse, within the gate */
	G_REGRESSION,	/* worse than both thresholds */
	G_CHANGED,	/* MD_NONE: changed, not judged */
};
/* Judge a -> b. *worse_abs / *worse_rel_pct: how much worse (<= 0 better;
 * rel is +inf when a is 0 and b worse). a and b must be finite. */
enum gate_result gate_judge(enum metric_dir dir, double abs, double rel_pct, double a, double b,
			    double *worse_abs, double *worse_rel_pct);
const char *gate_result_name(enum gate_result g);
const char *metric_dir_name(enum metric_dir d);

#endif
