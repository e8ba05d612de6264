/* `ktstr-orch merge`: the --json files of a sharded run's shards, read
 * back (json-c) into the report an unsharded run writes (docs/farms.md,
 * "Merging"). The files come from other hosts: every size is bounded
 * before it is trusted, and a file that breaks a bound or contradicts the
 * others is refused by name, never half-used. */
#ifndef KTSTR_ORCH_SHARD_MERGE_H
#define KTSTR_ORCH_SHARD_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ktstr/util.h>

struct merge_limits {
	size_t file_bytes; /* one file */
	size_t files;	   /* files given */
	size_t records;	   /* test records in all files together */
};
/* A --json record is a few KiB (metrics, STIMULUS events): 64 MiB is
 * thousands of tests in one shard; 100000 records is SHARD_TOTAL_MAX
 * shards of one test. */
#define MERGE_LIMITS_DEFAULT { 64u << 20, 1024, 100000 }
/* What a record carries for the JUnit writer (docs/results.md), bounded
 * by what a run writes (report.h REPORT_TEXT_MAX, junit.h JUNIT_OUT_MAX)
 * with room for U+FFFD replacements; a longer text is left out, properties
 * past the count are dropped. */
#define MERGE_REPORT_MAX (4u * (256u << 10))
#define MERGE_OUT_MAX (4u * (16u << 10))
#define MERGE_PROPS_MAX 4096u
/* json-c's nesting limit for a record: a metrics message is a few levels. */
#define MERGE_JSON_DEPTH 64

struct merge_rec;

struct merge {
	struct merge_limits lim;
	uint32_t expect; /* --expect-shards, 0 = what the files say */
	FILE *log;	 /* where each problem is said (stderr) */
	/* Set by the first file read whole; every other file must agree. */
	const char *ref_path;
	uint32_t total;
	char plan[17], suite[512];
	uint64_t variants, selected, assigned; /* assigned: summed over shards read */
	const char **shard_path;		 /* [total]: the file of each shard, or NULL */
	struct merge_rec *rec;			 /* owned */
	size_t nrec, cap;
	void **trees; /* owned json_object roots: one per file merged, one
			 per missing shard's record */
	size_t ntrees, trees_cap;
	size_t nfiles; /* given so far, read or not */
	bool infra; /* a file refused, a shard missing, a test twice */
};

/* Start with lim, --expect-shards (0 = none) and where problems go. */
void merge_init(struct merge *m, const struct merge_limits *lim, uint32_t expect, FILE *log);
/* Read one shard file (path borrowed until merge_free). A file that
 * cannot be used is said on m->log and counts as infrastructure trouble;
 * the others still merge. Returns 0, or -E2BIG past lim.files. */
int merge_add_file(struct merge *m, const char *path);
/* Sort the records into plan order, refuse a test two shards reported,
 * and add a record for each shard no file carried. Returns 0 or
 * -ENOMEM. */
int merge_finish(struct merge *m);
/* The merged --json array (json_render's layout) and JUnit XML. */
int merge_render_json(const struct merge *m, struct strbuf *sb);
int merge_render_junit(const struct merge *m, struct strbuf *sb);
/* The summary line an unsharded run prints, and the exit status: 0 all
 * passed, 1 failures, 3 when m->infra or a record is INFRA_ERROR. */
int merge_summary(const struct merge *m, FILE *out);
void merge_free(struct merge *m);

#endif
