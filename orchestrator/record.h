/* The outcome of one planned variant in a run: what the report, JUnit and
 * JSON writers read. */
#ifndef KTSTR_ORCH_RECORD_H
#define KTSTR_ORCH_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "verdict.h"
#include "worker.pb-c.h"

/* An attempt that failed before the test's last one (--retries): what
 * JUnit's flakyFailure / rerunFailure and the JSON's earlier_attempts
 * carry. Owned by the record. */
struct attempt_note {
	enum verdict_kind kind;
	char *detail;		/* owned; NULL = none */
	char *report;		/* owned: report_text of the attempt; NULL = none */
	size_t report_len;
};
/* Attempts kept per test: the first ones (--retries takes up to 100; a
 * report is up to REPORT_TEXT_MAX bytes). The count of all is attempts. */
#define RECORD_NOTES_MAX 8

struct test_record {
	size_t vidx;		/* index into plan.v */
	struct verdict verdict;
	Ktstr__VmResult *vm;	/* last attempt's result, owned, may be NULL */
	uint64_t wall_ms;	/* all attempts */
	unsigned attempts;	/* 0 = never ran (skipped / interrupted) */
	char engine[24];	/* "qemu-tcg", "kvm", ... or "" */
	/* Whether the builder that made this test's image ran confined
	 * (BuildOk.sandboxed): 1, 0, or -1 unknown (never built: skipped). */
	int builder_sandboxed;
	/* Landlock in the builder of its image (BuildOk.landlock): 1, 0, -1. */
	int builder_landlock;
	/* The failed attempts before the last (at most RECORD_NOTES_MAX). */
	struct attempt_note *notes;
	size_t nnotes;
};

/* Whether QEMU ran under Landlock (VmResult.qemu_landlock): 1, 0, or -1
 * (not the QEMU engine, or no result). */
int record_qemu_landlock(const struct test_record *r);
/* Whether the worker of r's last attempt ran confined (VmResult.sandboxed):
 * 1, 0, or -1 unknown (no VM result). */
int record_worker_sandboxed(const struct test_record *r);
/* Either side known to have run unconfined. */
bool record_unsandboxed(const struct test_record *r);

/* Free everything r owns; record_free_attempt only the last attempt's
 * verdict and result (the notes of earlier attempts stay). */
void record_free(struct test_record *r);
void record_free_attempt(struct test_record *r);
/* Keep r's current (failed) attempt as a note, with report (owned by the
 * note from here; may be NULL). Beyond RECORD_NOTES_MAX the report is
 * freed and nothing is kept. Returns 0 or -ENOMEM (report freed). */
int record_note_attempt(struct test_record *r, char *report, size_t report_len);
/* Passed (or an expected failure) after failed attempts. */
bool record_flaky(const struct test_record *r);

struct run_totals {
	size_t passed, failed, skipped, infra, stopped;
	size_t xfailed;		/* expected failures seen (not failures) */
	size_t flaky;		/* passed only on a retry (counted in passed) */
};
void records_totals(const struct test_record *r, size_t n, struct run_totals *t);
/* 0 all passed (skips allowed), 1 test failures, 3 infrastructure errors. */
int records_exit_code(const struct run_totals *t);

#endif
