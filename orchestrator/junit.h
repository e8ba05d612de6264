/* JUnit XML, the dialect Jenkins (Ant's junit task), GitLab, Codecov and
 * Maven Surefire read (docs/results.md, "JUnit"; tests/data/junit.xsd is
 * the schema the tests validate against). One writer serves a run
 * (junit_render, from its records) and `ktstr-orch merge` (from the
 * shards' JSON records): both fill a junit_case, so a merged file has the
 * same cases, properties and texts as an unsharded run's. */
#ifndef KTSTR_ORCH_JUNIT_H
#define KTSTR_ORCH_JUNIT_H

#include <stddef.h>

#include <ktstr/util.h>

#include "record.h"
#include "runmeta.h"
#include "suite.h"

/* Append s escaped for XML character data / attributes. Characters XML 1.0
 * forbids (most controls, invalid UTF-8) become U+FFFD. */
int xml_escape(struct strbuf *sb, const char *s, size_t len);
/* Append s with what xml_escape replaces replaced and nothing escaped: the
 * text a JSON record carries for a JUnit text, so that the merged file
 * (JSON -> JUnit) equals the direct one whatever bytes the guest printed. */
int xml_clean(struct strbuf *sb, const char *s, size_t len);

/* <system-out> of a test: the tail of its console (COM1), at most
 * JUNIT_OUT_LINES lines and JUNIT_OUT_MAX bytes (the last ones), cleaned
 * (xml_clean). A guest decides what it prints; these bound what a CI page
 * gets per test. */
#define JUNIT_OUT_LINES 100u
#define JUNIT_OUT_MAX (16u << 10)

struct junit_prop {
	char *name, *value; /* owned */
};
struct junit_props {
	struct junit_prop *v;
	size_t n, cap;
};
int junit_props_add(struct junit_props *pp, const char *name, const char *value);
void junit_props_free(struct junit_props *pp);
/* The properties of r's test case: kernel, engine, confinement, attempts
 * and flaky (after a retry), each payload metric. The one home: the JSON
 * record carries them as "properties" for merge. */
int junit_record_props(struct junit_props *pp, const struct plan *p, const struct test_record *r);
/* The run's properties (the testsuite's): tool version, host, suite and
 * its digest, kernels, schedulers, host CPUs, duration, unsandboxed_tests. */
int junit_run_props(struct junit_props *pp, const struct runmeta *m, size_t unsandboxed);

/* An attempt before the last (flakyFailure / rerunFailure). */
struct junit_attempt {
	enum verdict_kind kind;
	const char *message;
	const char *report;
	size_t report_len;
};

struct junit_case {
	const char *classname, *name; /* scheduler, variant name */
	const char *file;	      /* the suite file; NULL = none */
	unsigned line;		      /* of the test in it; 0 = none */
	double time_s;
	enum verdict_kind kind;
	const char *message;	      /* the verdict's detail ("" none) */
	const char *report;	      /* failure/error body; NULL none */
	size_t report_len;
	const char *out;	      /* <system-out>; NULL none */
	size_t out_len;
	const struct junit_props *props;
	const struct junit_attempt *earlier;
	size_t nearlier;
};
int junit_write_case(struct strbuf *sb, const struct junit_case *c);

struct junit_suite {
	const char *name;
	size_t tests, failures, errors, skipped;
	double time_s;
	const char *timestamp, *hostname; /* NULL = not written */
	const struct junit_props *props;
};
/* <?xml ...><testsuites ...><testsuite ...><properties>...; then the
 * cases; then junit_write_tail. */
int junit_write_head(struct strbuf *sb, const struct junit_suite *js);
int junit_write_tail(struct strbuf *sb);

/* The texts of r's case (owned by the caller, free()): report (failures
 * and errors: report_text), out (the console tail), and one report per
 * note. */
struct junit_texts {
	char *report, *out;
	size_t report_len, out_len;
	struct junit_attempt earlier[RECORD_NOTES_MAX];
	size_t nearlier;
};
int junit_texts_get(const struct suite *s, const struct plan *p, const struct test_record *r,
		    struct junit_texts *t);
void junit_texts_free(struct junit_texts *t);

/* The whole JUnit file of a run; m: its metadata (NULL: no timestamp,
 * hostname or run properties). */
int junit_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		 const struct test_record *r, size_t n, const struct runmeta *m);
#endif
