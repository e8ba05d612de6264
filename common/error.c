#include "ktstr/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Record what/where/hint and the formatted why (the caller checked that
 * nothing is recorded yet). */
__attribute__((format(printf, 5, 0))) static void
fill(struct ktstr_error *e, const char *what, const char *where, const char *hint,
		 const char *why_fmt, va_list ap)
{
	snprintf(e->what, sizeof(e->what), "%s", what);
	snprintf(e->where, sizeof(e->where), "%s", where ? where : "");
	snprintf(e->hint, sizeof(e->hint), "%s", hint ? hint : "");
	vsnprintf(e->why, sizeof(e->why), why_fmt, ap);
}

int ktstr_error_set(struct ktstr_error *e, int errnum, const char *what, const char *where,
		    const char *hint, const char *why_fmt, ...)
{
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	if (!errnum)
		errnum = EINVAL;
	if (e->errnum || ktstr_error_is_set(e))
		return -errnum;
	e->errnum = errnum;
	va_start(ap, why_fmt);
	fill(e, what, where, hint, why_fmt, ap);
	va_end(ap);
	return -errnum;
}

void ktstr_error_note(struct ktstr_error *e, const char *what, const char *where,
		      const char *hint, const char *why_fmt, ...)
{
	va_list ap;

	if (ktstr_error_is_set(e))
		return;
	va_start(ap, why_fmt);
	fill(e, what, where, hint, why_fmt, ap);
	va_end(ap);
}

void ktstr_error_format(const struct ktstr_error *e, char *out, size_t len)
{
	snprintf(out, len, "%s: %s%s%s%s%s%s", e->what, e->where, e->where[0] ? ": " : "",
		 e->why, e->hint[0] ? " (" : "", e->hint, e->hint[0] ? ")" : "");
}

void ktstr_error_to_pb(const struct ktstr_error *e, Ktstr__Error *pb)
{
	ktstr__error__init(pb);
	/* protobuf-c's char * fields are not const; packing only reads them. */
	pb->what = (char *)e->what;
	pb->where = e->where[0] ? (char *)e->where : NULL;
	pb->why = e->why[0] ? (char *)e->why : NULL;
	pb->hint = e->hint[0] ? (char *)e->hint : NULL;
	pb->has_errno_value = e->errnum != 0;
	pb->errno_value = e->errnum;
}

void ktstr_error_from_pb(const Ktstr__Error *pb, const char *fallback_what,
			 struct ktstr_error *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->what, sizeof(e->what), "%s",
		 pb && pb->what && pb->what[0] ? pb->what : fallback_what);
	if (pb && pb->where)
		snprintf(e->where, sizeof(e->where), "%s", pb->where);
	if (pb && pb->why)
		snprintf(e->why, sizeof(e->why), "%s", pb->why);
	if (pb && pb->hint)
		snprintf(e->hint, sizeof(e->hint), "%s", pb->hint);
	e->errnum = pb && pb->has_errno_value && pb->errno_value > 0 ? pb->errno_value : EIO;
}

Ktstr__Error *ktstr_error_pb_new(const struct ktstr_error *e)
{
	Ktstr__Error *pb = malloc(sizeof(*pb));

	if (!pb)
		return NULL;
	ktstr__error__init(pb);
	pb->what = strdup(e->what);
	pb->where = e->where[0] ? strdup(e->where) : NULL;
	pb->why = e->why[0] ? strdup(e->why) : NULL;
	pb->hint = e->hint[0] ? strdup(e->hint) : NULL;
	pb->has_errno_value = e->errnum != 0;
	pb->errno_value = e->errnum;
	if (!pb->what || (e->where[0] && !pb->where) || (e->why[0] && !pb->why) ||
	    (e->hint[0] && !pb->hint)) {
		ktstr__error__free_unpacked(pb, NULL);
		return NULL;
	}
	return pb;
}
