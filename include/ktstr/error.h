/* The one error record of ktstr: what failed, where, why, and what the user
 * can do, with the errno. Filled at the point of failure (where the file and
 * the reason are known), carried as the wire's Ktstr__Error (common.proto)
 * between processes, and printed whole in the report. Every component uses
 * this type: the builder's build errors, the engines' setup errors, the
 * worker's VmResult.error, the orchestrator's infrastructure errors. */
#ifndef KTSTR_ERROR_H
#define KTSTR_ERROR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common.pb-c.h"

struct ktstr_error {
	int errnum;			/* positive errno, 0 = no error */
	char what[256];			/* the step that failed */
	char where[PATH_MAX + 64];	/* the file, device or guest path; "" = none */
	char why[512];			/* the reason */
	char hint[256];			/* what the user can do; "" = none */
};

/* Record an error. The first one wins: a later call while one is set keeps
 * the original, which is the root cause. errnum may be given negative or
 * positive; 0 becomes EINVAL. where and hint may be NULL. Returns -errnum
 * so callers can `return ktstr_error_set(...)`. */
int ktstr_error_set(struct ktstr_error *e, int errnum, const char *what, const char *where,
		    const char *hint, const char *why_fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The same for a failure without an errno (the guest flooded the ring, a
 * KVM exit reason): errnum stays 0. First wins too. */
void ktstr_error_note(struct ktstr_error *e, const char *what, const char *where,
		      const char *hint, const char *why_fmt, ...) __attribute__((format(printf, 5, 6)));

/* True once an error is recorded (set or noted). */
static inline bool ktstr_error_is_set(const struct ktstr_error *e)
{
	return e->what[0] != '\0';
}

/* "what: where: why (hint)" for logs, messages and tests. */
void ktstr_error_format(const struct ktstr_error *e, char *out, size_t len);

/* View e as a Ktstr__Error for packing: pb's strings point into e (borrowed;
 * e must outlive pb), empty where/why/hint are left out. */
void ktstr_error_to_pb(const struct ktstr_error *e, Ktstr__Error *pb);

/* A heap copy of e as a Ktstr__Error that protobuf-c's free_unpacked (NULL
 * allocator) frees, so it can hang in a message the receiver owns (a
 * synthesized VmResult). NULL when out of memory. */
Ktstr__Error *ktstr_error_pb_new(const struct ktstr_error *e);

/* Copy a received Ktstr__Error (untrusted: each string is truncated to its
 * field) into e. A missing or empty `what` becomes fallback_what. */
void ktstr_error_from_pb(const Ktstr__Error *pb, const char *fallback_what,
			 struct ktstr_error *e);

#endif
