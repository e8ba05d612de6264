/* What every result of a run records about the run itself (docs/results.md,
 * "Run metadata"): the tool's version, the host, when it started and how
 * long it took, the suite's and every kernel's and scheduler binary's
 * SHA-256, and the host CPUs the run held through host-wide reservation.
 * Written into the --json records, the --jsonl header, the JUnit
 * properties and the report header, so two result files can be told
 * apart (and compared) long after the run. */
#ifndef KTSTR_ORCH_RUNMETA_H
#define KTSTR_ORCH_RUNMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ktstr/sha256.h>
#include <ktstr/util.h>

#include "plan.h"
#include "suite.h"

/* The version of the result record layout (--json records, --jsonl lines):
 * raised when a field a consumer may rely on changes meaning or goes
 * away; new fields do not raise it (docs/results.md). */
#define RESULTS_SCHEMA 1

/* A file larger than this is not hashed (its digest is ""): a kernel
 * image is tens of MiB, a scheduler a few. */
#define RUNMETA_HASH_MAX (1ull << 30)

struct runmeta_file {
	const char *name;		 /* borrowed: kernel id / scheduler name */
	char sha256[SHA256_HEX_LEN + 1]; /* "" = not known */
};

struct runmeta {
	const char *tool_version;	/* ktstr_version(); tests put a fixed one */
	char host[256];			/* gethostname */
	uint64_t start_ms;		/* wall clock, ms since the epoch */
	char started[32];		/* start_ms in ISO 8601, UTC, to the second */
	uint64_t duration_ms;		/* set by runmeta_finish */
	bool finished;
	const char *arch;		/* the guest architecture (ktstr_arch_name) */
	const char *suite;		/* borrowed: the path as given */
	char suite_sha256[SHA256_HEX_LEN + 1];
	/* Host-wide reservation (hostres.h): the CPUs the run held for its
	 * whole life ("" = none), and in words what it held. */
	char host_cpus[512];
	char reservation[160];
	struct runmeta_file kernels[PLAN_KERNELS_MAX];
	size_t nkernels;
	struct runmeta_file *scheds;	/* owned: one per scheduler of the suite */
	size_t nscheds;
};

/* Start: version, host, start time, the suite's digest (read from
 * s->path), every scheduler binary's (resolved_path) and the kernels' ids
 * (their digests come from runmeta_hash_kernel). Reservation starts as
 * "none". Returns 0 or -ENOMEM; a file that cannot be hashed leaves its
 * digest "" (said in the results, not an error). */
int runmeta_init(struct runmeta *m, const struct suite *s, const struct plan *p);
/* Kernel k's image digest, read from fd with pread (the offset is kept). */
void runmeta_hash_kernel(struct runmeta *m, size_t k, int fd);
/* SHA-256 of a regular file's bytes (at most RUNMETA_HASH_MAX) into hex.
 * Returns 0 or -errno (hex is then ""). */
int runmeta_hash_fd(int fd, char hex[SHA256_HEX_LEN + 1]);
void runmeta_finish(struct runmeta *m);
/* ms since the epoch as "YYYY-MM-DDThh:mm:ssZ". */
void runmeta_iso8601(uint64_t ms, char *buf, size_t len);
/* The metadata as one JSON object (docs/results.md, "Run metadata"). */
int runmeta_json(struct strbuf *sb, const struct runmeta *m);
/* The report header: "# ktstr VERSION on HOST, started ..., suite ... (sha256 ...)",
 * "# guest architecture: ARCH", and one line per kernel and reservation. */
void runmeta_print(FILE *f, const struct runmeta *m);
void runmeta_free(struct runmeta *m);

#endif
