#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "berr.h"

int berr_set(struct berr *e, int errnum, const char *what, const char *where,
	     const char *hint, const char *why_fmt, ...)
{
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	if (!errnum)
		errnum = EINVAL;
	if (e->errnum)
		return -errnum;
	e->errnum = errnum;
	snprintf(e->what, sizeof(e->what), "%s", what);
	snprintf(e->where, sizeof(e->where), "%s", where ? where : "");
	snprintf(e->hint, sizeof(e->hint), "%s", hint ? hint : "");
	va_start(ap, why_fmt);
	vsnprintf(e->why, sizeof(e->why), why_fmt, ap);
	va_end(ap);
	return -errnum;
}

void berr_format(const struct berr *e, char *out, size_t len)
{
	snprintf(out, len, "%s: %s%s%s%s%s%s", e->what, e->where, e->where[0] ? ": " : "",
		 e->why, e->hint[0] ? " (" : "", e->hint, e->hint[0] ? ")" : "");
}
