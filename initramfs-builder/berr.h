/* A build error in the shape of Ktstr__Error (what/where/why/hint/errno):
 * filled at the point of failure, where the file name and reason are known,
 * and copied into BuilderReply.error by the server. */
#ifndef KTSTR_BUILDER_BERR_H
#define KTSTR_BUILDER_BERR_H

#include <limits.h>

struct berr {
	int errnum;			/* positive errno, 0 = no error */
	char what[128];			/* the step that failed */
	char where[PATH_MAX + 64];	/* file (host path, or guest path) */
	char why[512];			/* reason */
	char hint[256];			/* what the user can do */
};

/* Record an error (first one wins: later calls with an error already set
 * keep the original, which is the root cause). Returns -errnum so callers
 * can `return berr_set(...)`. where and hint may be NULL. */
int berr_set(struct berr *e, int errnum, const char *what, const char *where,
	     const char *hint, const char *why_fmt, ...) __attribute__((format(printf, 6, 7)));

/* "what: where: why (hint)" for logs and tests. */
void berr_format(const struct berr *e, char *out, size_t len);

#endif
