/* The outcome of one planned variant in a run: what the report, JUnit and
 * JSON writers read. */
#ifndef KTSTR_ORCH_RECORD_H
#define KTSTR_ORCH_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "verdict.h"
#include "worker.pb-c.h"

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
};

/* Whether QEMU ran under Landlock (VmResult.qemu_landlock): 1, 0, or -1
 * (not the QEMU engine, or no result). */
int record_qemu_landlock(const struct test_record *r);
/* Whether the worker of r's last attempt ran confined (VmResult.sandboxed):
 * 1, 0, or -1 unknown (no VM result). */
int record_worker_sandboxed(const struct test_record *r);
/* Either side known to have run unconfined. */
bool record_unsandboxed(const struct test_record *r);

void record_free(struct test_record *r);

struct run_totals {
	size_t passed, failed, skipped, infra, stopped;
	size_t xfailed;		/* expected failures seen (not failures) */
};
void records_totals(const struct test_record *r, size_t n, struct run_totals *t);
/* 0 all passed (skips allowed), 1 test failures, 3 infrastructure errors. */
int records_exit_code(const struct run_totals *t);

#endif
