/* The JSON record of one test (docs/results.md, "The test record"): the
 * element of the --json array and the "test" line of --jsonl. One writer
 * for both, so a consumer reads either with one parser. */
#ifndef KTSTR_ORCH_JSONL_RECORD_H
#define KTSTR_ORCH_JSONL_RECORD_H

#include <stdbool.h>

#include <ktstr/util.h>

#include "record.h"
#include "runmeta.h"
#include "suite.h"

/* r's members, "key":value separated by commas, without the braces (a
 * --jsonl line puts "type" first). m non-NULL: "schema", "tool_version"
 * and the whole "run" object too (--json: each record says which run
 * made it, and keeps saying so through merge). */
int json_record_members(struct strbuf *sb, const struct suite *s, const struct plan *p,
			const struct test_record *r, const struct runmeta *m);
/* The --json array: one record per test, each with m (may be NULL). */
int json_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n, const struct runmeta *m);

#endif
