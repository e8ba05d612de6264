#include "expect.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const expect_keys[] = { "verdict", "detail_any", "why", "intermittent", NULL };

/* Verdicts a test may be expected to end with: the test's own failures.
 * Not INFRA_ERROR or STOPPED: those are never the scheduler's doing. */
static bool expectable(enum verdict_kind k)
{
	return k != V_PASS && k != V_SKIP && k != V_INFRA && k != V_STOPPED && k != V_XFAIL &&
	       k != V_XPASS;
}

int expect_parse(struct ys_ctx *c, const struct ynode *n, struct expect_failure *x)
{
	const struct ynode *v;
	int ret;

	memset(x, 0, sizeof(*x));
	if ((ret = ys_check_keys(c, n, "expect_failure", expect_keys)))
		return ret;
	v = ymap_get(n, "verdict");
	if (!v)
		return ys_fail(c, n, "expect_failure needs 'verdict' (e.g. SCHED_DIED, FAIL)");
	if ((ret = ys_expect(c, v, YNODE_SCALAR, "expect_failure.verdict")))
		return ret;
	for (int k = 0; k < V_KIND_COUNT; k++)
		if (!strcmp(verdict_name((enum verdict_kind)k), v->value) &&
		    expectable((enum verdict_kind)k)) {
			x->verdict = (enum verdict_kind)k;
			x->set = true;
		}
	if (!x->set)
		return ys_fail(c, v, "expect_failure.verdict '%s' is not a failure a test can be "
				     "expected to end with; use one of FAIL, SCHED_DIED, "
				     "SCHED_NOT_ATTACHED, SETUP_FAILED, GUEST_PANIC, TIMEOUT, "
				     "INIT_NEVER_STARTED, PAYLOAD_NEVER_RAN, NO_RESULT",
			       v->value);
	x->set = false;	/* until complete: expect_free must see a consistent x */
	if ((v = ymap_get(n, "detail_any")) &&
	    (ret = ys_strlist(c, v, "expect_failure.detail_any", &x->detail_any)))
		goto err;
	v = ymap_get(n, "why");
	if (!v) {
		ret = ys_fail(c, n, "expect_failure needs 'why': the known bug it documents, shown "
				    "in every report");
		goto err;
	}
	if ((ret = ys_str(c, v, "expect_failure.why", &x->why)))
		goto err;
	if ((v = ymap_get(n, "intermittent")) &&
	    (ret = ys_bool(c, v, "expect_failure.intermittent", &x->intermittent)))
		goto err;
	x->set = true;
	return 0;
err:
	expect_free(x);
	return ret;
}

void expect_free(struct expect_failure *x)
{
	strv_free(&x->detail_any);
	free(x->why);
	memset(x, 0, sizeof(*x));
}

static bool detail_matches(const struct expect_failure *x, const struct verdict *v)
{
	const char *reason = v->sched_exit && v->sched_exit->reason ? v->sched_exit->reason : "";

	if (!x->detail_any.n)
		return true;
	for (size_t i = 0; i < x->detail_any.n; i++)
		if ((v->detail && strstr(v->detail, x->detail_any.v[i])) ||
		    strstr(reason, x->detail_any.v[i]))
			return true;
	return false;
}

/* Replace v->detail (freed) with a printf that may use the old one. */
__attribute__((format(printf, 2, 3))) static int redetail(struct verdict *v, const char *fmt, ...)
{
	char *d = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&d, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(v->detail);
	v->detail = d;
	return 0;
}

int expect_apply(const struct expect_failure *x, struct verdict *v)
{
	const char *old = v->detail ? v->detail : "";
	int ret;

	if (!x->set)
		return 0;
	if (v->kind == x->verdict && detail_matches(x, v)) {
		ret = redetail(v, "expected %s (%s): %s", verdict_name(x->verdict), x->why, old);
		if (!ret)
			v->kind = V_XFAIL;
		return ret;
	}
	if (v->kind == V_PASS && x->intermittent)
		return 0; /* the race did not strike this time */
	if (v->kind == V_PASS) {
		ret = redetail(v, "passed, but expect_failure says %s (%s): the bug may be fixed; "
				  "remove expect_failure from the test",
			       verdict_name(x->verdict), x->why);
		if (!ret)
			v->kind = V_XPASS;
		return ret;
	}
	if (!expectable(v->kind))
		return 0;	/* infra, stopped, skipped: not the test's answer */
	/* Failed, but not the way the known bug fails: never hidden. */
	return redetail(v, "%s [expected %s (%s) instead]", old, verdict_name(x->verdict), x->why);
}
