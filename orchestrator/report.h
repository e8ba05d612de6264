/* Human output of a run: one line per test, the live progress line on a
 * terminal, the failure report and the final summary line. */
#ifndef KTSTR_ORCH_REPORT_H
#define KTSTR_ORCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "record.h"
#include "suite.h"

/* "PASS  name  (qemu-tcg, 4.2s)" plus the reason for non-passes. */
int report_test_line(FILE *f, const struct suite *s, const struct plan *p,
		     const struct test_record *r);
/* The failure report of one test (facts 2.11 shape): verdict, failed
 * checks, stats, timeline of STIMULUS events, scheduler log tail, console
 * tail. */
int report_failure(FILE *f, const struct suite *s, const struct plan *p,
		   const struct test_record *r);
/* Exactly "N passed, N failed, N skipped". */
void report_summary(FILE *f, const struct run_totals *t);

/* Live progress on a terminal: one line rewritten in place. */
struct progress {
	FILE *f;
	bool tty;
	size_t total, done, running;
	bool shown;
};
void progress_init(struct progress *pg, FILE *f, size_t total);
void progress_update(struct progress *pg, const char *current);
/* Erase the progress line (before printing a normal line). */
void progress_clear(struct progress *pg);

#endif
