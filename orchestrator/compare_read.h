/* A result file (`run --json`, `merge --json`) read back for `compare` and
 * the HTML report (docs/reports.md). The file is untrusted (another host,
 * another version, a hand edit): its bytes, its records and every string
 * taken from it are bounded before use, and a refusal names the file and
 * the byte, line and column where it went wrong. */
#ifndef KTSTR_ORCH_COMPARE_READ_H
#define KTSTR_ORCH_COMPARE_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "json_get.h"

struct json_object;

struct result_limits {
	size_t bytes;	  /* the file */
	size_t records;	  /* test records in it */
	size_t name_max;  /* bytes of a test name */
	size_t meta_max;  /* metadata fields kept (the rest counted) */
};
/* A record is a few KiB; 64 MiB and 100000 records are what merge allows
 * (shard_merge.h); a gauntlet name with every flag is a few hundred bytes. */
#define RESULT_LIMITS_DEFAULT { 64u << 20, 100000, 4096, 64 }
/* json-c's nesting limit: a record is a few levels deep. */
#define RESULT_JSON_DEPTH 64
/* Bytes of a metadata value kept (longer ones are cut, said with "..."). */
#define RESULT_META_VALUE_MAX 256

/* One "key=value" of the run's metadata (tool version, kernel, host...),
 * flattened: "run.kernel", "schema". */
struct result_meta {
	char key[96];
	char value[RESULT_META_VALUE_MAX + 4];
};

struct result_file {
	const char *path;		/* borrowed: for messages */
	struct json_object *root;	/* owned */
	struct json_object **rec;	/* owned array of records borrowed from root */
	const char **name;		/* [nrec]: each record's "name", borrowed */
	size_t *sorted;			/* owned: record indices in name order */
	size_t nrec;
	size_t cut_line;		/* JSON Lines cut inside this line (a killed
					   run's stream): left out; 0 = none */
	struct result_meta *meta;	/* owned; NULL when the file has none */
	size_t nmeta, meta_omitted;
};

/* Read path: a regular file (never a FIFO), at most lim->bytes. Returns
 * 0; -EIO-class errors (-ENOENT, -EACCES, -EISDIR...) when it cannot be
 * read (exit 3); -EINVAL / -EFBIG / -E2BIG when what it holds is not a
 * result file (exit 2). err says which and where. */
int result_file_read(struct result_file *rf, const char *path, const struct result_limits *lim,
		     char *err, size_t errlen);
/* The same from memory (len bytes of buf, no NUL needed). */
int result_file_parse(struct result_file *rf, const char *path, const char *buf, size_t len,
		      const struct result_limits *lim, char *err, size_t errlen);
/* Whether a read error is about the file's content (exit 2) rather than
 * reaching it (exit 3). */
bool result_read_bad_content(int err);
/* The index of the record named name, or -1 (names are unique in a file). */
long result_find(const struct result_file *rf, const char *name);
void result_file_free(struct result_file *rf);

#endif
