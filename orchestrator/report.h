/* Human output of a run: one line per test, the live progress line on a
 * terminal, the failure report and the final summary line. */
#ifndef KTSTR_ORCH_REPORT_H
#define KTSTR_ORCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "hostcaps.h"
#include "kernel_cache.h"
#include "record.h"
#include "suite.h"

/* "PASS  name  (qemu-tcg, 4.2s)" plus the reason for non-passes. */
int report_test_line(FILE *f, const struct suite *s, const struct plan *p,
		     const struct test_record *r);
/* The failure report of one test (docs/reference.md, "Failure report shape"):
 * verdict, failed checks, stats, timeline of STIMULUS events, scheduler log
 * tail, console tail. */
int report_failure(FILE *f, const struct suite *s, const struct plan *p,
		   const struct test_record *r);
/* The failure report as text (what report_failure prints), at most
 * REPORT_TEXT_MAX bytes (a longer one keeps its head and says how much was
 * cut). *out is malloc'd, owned by the caller. Returns 0 or -ENOMEM. */
#define REPORT_TEXT_MAX (256u << 10)
int report_text(const struct suite *s, const struct plan *p, const struct test_record *r,
		char **out, size_t *len);
/* Keep r's failed attempt (before a retry) as a note with its report
 * (record_note_attempt). Returns 0 or -ENOMEM. */
int report_note_attempt(const struct suite *s, const struct plan *p, struct test_record *r);
/* One line on confinement before the summary: "sandbox: confined: ..." or
 * a loud "WARNING: UNSANDBOXED: ..." when any worker or builder ran
 * unconfined. Nothing when no test reached a builder or a VM. */
void report_sandbox(FILE *f, const struct test_record *r, size_t n);
/* `ktstr-orch list`: a host line (with the nkc kernels of p, in plan
 * order; nkc 0 = none known), one line per variant (state, name,
 * topology, profile, why), then the counts. Golden-tested. */
int report_list(FILE *f, const struct suite *s, const struct plan *p, const struct host_caps *hc,
		const struct kernel_choice *kc, size_t nkc);
/* Exactly "N passed, N failed, N skipped". */
void report_summary(FILE *f, const struct run_totals *t);

/* Live progress on a terminal: one line rewritten in place. */
struct progress {
	FILE *f;
	bool tty;
	size_t total, done, running;
	bool shown;
	char cur[64];	/* what the last update named, for progress_redraw */
};
void progress_init(struct progress *pg, FILE *f, size_t total);
void progress_update(struct progress *pg, const char *current);
/* Erase the progress line (before printing a normal line). */
void progress_clear(struct progress *pg);
/* Draw it again as the last update left it (after a relayed log line). */
void progress_redraw(struct progress *pg);

#endif
