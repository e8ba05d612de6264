/* Payload metrics (docs/suite-format.md, "Payloads"): numbers a suite reads
 * out of a payload's output with a regular expression, e.g. hackbench's
 * "Time: 0.512". A payload declares them (payload_metric_parse, when the
 * suite is read); the host extracts them from every judged run's output
 * tail once the test is judged (payload_metrics_judge), because that output
 * is the guest's: untrusted data, searched within fixed bounds; the text
 * report, JUnit and JSON print them through payload_metric_num, the one
 * place that writes a value. */
#ifndef KTSTR_ORCH_PAYLOAD_METRIC_H
#define KTSTR_ORCH_PAYLOAD_METRIC_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include <ktstr/util.h>

#include "yaml_schema.h"

/* Metrics one payload may declare. */
#define PAYLOAD_METRIC_MAX 8
/* A metric name: 1..64 of [a-z0-9_] (a JSON key and a JUnit property). */
#define PAYLOAD_METRIC_NAME_MAX 64
/* Bytes of a pattern as written. */
#define PAYLOAD_METRIC_PATTERN_MAX 256
/* glibc compiles a counted repetition into that many copies, and a range
 * ({m,n}) nested in another makes the guest's output, not the suite,
 * decide the search time: (x{1,256}){1,256} took 81 s and 2.4 GB on one
 * 1 KiB line, (x{1,64}){1,64} 1.3 s. The counts of a pattern's intervals
 * ({m}, {m,}, {m,n}, {,n}: the larger bound, at least 1) multiplied may
 * not pass this: at 64, (x{0,8}){0,8} searches a 1 KiB line in 1 ms. */
#define PAYLOAD_METRIC_REPEAT_MAX 64u
/* A pattern matches within one line, and only the first this many bytes of
 * a line are searched: glibc's search is quadratic in what it searches (a
 * 64 KiB line of 'a' against "a[^z]*(z)" takes 9 s; in 1 KiB lines, 0.25 s for
 * the whole tail). */
#define PAYLOAD_METRIC_LINE_MAX 1024u
/* Bytes of a capture strtod reads; a longer one is not a number. */
#define PAYLOAD_METRIC_NUMBER_MAX 63u

/* One declared metric; read-only after the parse, shared by job threads
 * (glibc's regexec is thread-safe on one regex_t). */
struct payload_metric {
	char name[PAYLOAD_METRIC_NAME_MAX + 1];
	char *pattern;		/* as written, for messages; owned */
	regex_t re;		/* REG_EXTENDED | REG_NEWLINE, exactly one group */
	bool has_min, has_max;
	double min, max;	/* finite, min <= max */
};

struct payload_metric_list {
	struct payload_metric v[PAYLOAD_METRIC_MAX];
	size_t n;		/* compiled entries of v (payload_metric_list_free) */
};

/* Parse `metrics:` (a sequence of {name, pattern, min, max}) of payload
 * `payload` into *out (empty on entry). Every refusal names file:line:col
 * through c. 0 or -errno; *out is freed by payload_metric_list_free even on
 * failure. */
int payload_metric_parse(struct ys_ctx *c, const struct ynode *n, const char *payload,
			 struct payload_metric_list *out);
void payload_metric_list_free(struct payload_metric_list *l);

/* Compile pattern into m->re and m->pattern (freed with the list): 0,
 * -EINVAL with why filled (empty, too long, refused by
 * payload_metric_pattern_why, not an ERE, not exactly one group), or
 * -ENOMEM. The parser's check and the fuzz target's, one home. */
int payload_metric_compile(struct payload_metric *m, const char *pattern, char *why,
			   size_t whylen);

/* Why pattern cannot be a metric's (no newline, no back-reference, the
 * repetition bound), or NULL when it may; regcomp judges the rest. */
const char *payload_metric_pattern_why(const char *pattern);

enum payload_metric_status {
	PM_OK,			/* value read, within its bounds */
	PM_NO_MATCH,		/* no line of the output matches */
	PM_NOT_A_NUMBER,	/* the last match's group is not a finite number */
	PM_BELOW_MIN,		/* value < min */
	PM_ABOVE_MAX,		/* value > max */
};

/* One metric of one judged payload run, as the host read it. */
struct payload_metric_value {
	uint32_t run;		/* index into TestResult.payloads */
	char name[PAYLOAD_METRIC_NAME_MAX + 1];
	enum payload_metric_status status;
	double value;		/* PM_OK, PM_BELOW_MIN, PM_ABOVE_MAX */
	double limit;		/* the bound it broke */
	char text[PAYLOAD_METRIC_NUMBER_MAX + 1]; /* PM_NOT_A_NUMBER: the capture, cut */
};

/* Whether v holds a number (in or out of its bounds). */
static inline bool payload_metric_read(const struct payload_metric_value *v)
{
	return v->status != PM_NO_MATCH && v->status != PM_NOT_A_NUMBER;
}

/* Read metric m from out[0..len): the last match of its pattern (the last
 * matching line, searched backwards; within it, the last match), its group
 * through strtod (finite, the whole group), then min/max. Only the last
 * KTSTR_PAYLOAD_TAIL_BYTES of out are searched, whatever the guest sent.
 * out (NULL: empty) must hold a NUL at or after out[len], as a protobuf
 * string does: regexec never reads past len, but ASan's interceptor reads
 * the string whole. Fills v (not v->run). */
void payload_metric_extract(const struct payload_metric *m, const char *out, size_t len,
			    struct payload_metric_value *v);

/* The one way a value is written (report, JUnit, JSON): the shortest %g
 * that reads back as d. */
void payload_metric_num(double d, char *buf, size_t len);
/* "time_s=0.512", "time_s=31.2 (> max 30)", "time_s: no match",
 * "time_s: '1.2.3' is not a number" (the capture cleaned of controls). */
void payload_metric_describe(const struct payload_metric_value *v, char *buf, size_t len);

struct suite;
struct verdict;

/* After a test is judged, before expect_failure (expect.c) sees it: read
 * every metric of each judged run of a payload that declares them into
 * v->metrics. A metric that fails turns PASS into FAIL with its message as
 * the detail (`payload hackbench: metric time_s 31.2 > max 30`), and is
 * appended to a FAIL's detail, so expect_failure's detail_any matches it
 * like any other check; other verdicts keep theirs. 0 or -ENOMEM. */
int payload_metrics_judge(const struct suite *s, struct verdict *v);

/* A json_pb extra (json_pb.h) with ctx the verdict: adds `"metrics":{NAME:
 * VALUE}` (null when none was read) to each PayloadResult of v->tr. */
int payload_metrics_json(struct strbuf *sb, const ProtobufCMessage *msg, bool first,
			 const void *ctx);

#endif
