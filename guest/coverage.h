/* Coverage of a C test (docs/c-api.md, "Coverage"): the binary runs with
 * GCOV_PREFIX pointing at KTSTR_COV_PREFIX, and after it PID 1 sends what it
 * left there as PROFRAW ring messages (ktstr/covmsg.h), within the
 * KTSTR_COV_* bounds of ktstr/guest_contract.h. */
#ifndef KTSTR_GUEST_COVERAGE_H
#define KTSTR_GUEST_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* Set (on) or clear the gcov runtime's environment in this process, which
 * the payload inherits (payload.c execs with environ). */
void coverage_env(int on);

/* Sends one encoded PROFRAW payload; 0 or -errno. */
typedef int (*coverage_send_fn)(void *ctx, const uint8_t *msg, size_t len);

struct coverage_stats {
	unsigned sent;		/* files sent */
	unsigned skipped;	/* files over a bound or unsendable */
	uint64_t bytes;		/* data bytes sent */
};

/* Walk dir (not following links) and send every regular file as a PROFRAW
 * message whose path is its path below dir ("/a/b.gcda"); then, when any
 * file was skipped, one note message naming the first few and the bound
 * each was over. Returns 0 (stats filled) or -errno when dir cannot be
 * opened (-ENOENT: the binary wrote nothing). */
int coverage_collect(const char *dir, coverage_send_fn send, void *ctx,
		     struct coverage_stats *st);

/* coverage_collect of KTSTR_COV_PREFIX to the ring, logged on COM2. */
void coverage_send(struct report *r);

#endif
