/* Building the TestResult message: owns every string and array hung off the
 * protobuf-c struct so one result_free releases it all. */
#ifndef KTSTR_GUEST_RESULT_H
#define KTSTR_GUEST_RESULT_H

#include "guest.pb-c.h"
#include "verdict.h"
#include "wreport.h"

struct result {
	Ktstr__TestResult tr; /* arrays and strings below are owned */
	size_t cap_f, cap_w, cap_c, cap_p;
};

void result_init(struct result *r, const char *test_name);
/* Set status and a one-line detail (copied). */
void result_set(struct result *r, Ktstr__TestResult__Status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Set status and a detail copied whole (result_set stops at 1 KiB; a
 * topology mismatch prints two full layouts). */
void result_set_detail(struct result *r, Ktstr__TestResult__Status st, const char *detail);
/* Replace an owned string field (copies s; NULL clears). */
void result_str(char **field, const char *s);
int result_add_failure(struct result *r, const struct verdict_failure *f);
int result_add_worker(struct result *r, const struct worker_report *rep, const char *cgroup,
		      Ktstr__WorkType type);
int result_add_cgroup(struct result *r, const char *name, const char *cpus, uint32_t workers,
		      double spread_pct, uint64_t max_gap_ms, uint64_t total_units);
/* Append pr (owned from here on, freed by result_free even on failure). */
int result_add_payload(struct result *r, Ktstr__PayloadResult *pr);
/* Move child's failures, cgroups and workers onto r (a C test's result,
 * guest/ctest.c); child keeps nothing of them and is still the caller's
 * to free. -ENOMEM leaves the rest in child. */
int result_adopt(struct result *r, Ktstr__TestResult *child);
/* Exit code for the host: 0 for PASSED/SKIPPED, 1 otherwise. */
int result_exit_code(const struct result *r);
void result_free(struct result *r);

#endif
