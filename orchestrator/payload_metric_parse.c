/* A payload's `metrics:` (payload_metric.h): each one checked and its
 * pattern compiled when the suite is read, so a typo is exit 2 with
 * file:line:col, never a test that fails in a VM. */
#include "payload_metric.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_keys[] = { "name", "pattern", "min", "max", NULL };

/* Skip the bracket expression opening at p[i] ('['): its ']' may come
 * first (after an optional '^') as a literal, and "[:alpha:]", "[.x.]",
 * "[=e=]" hold a ']' of their own. Returns the index after it, or the end
 * (regcomp then refuses the pattern). */
static size_t skip_bracket(const char *p, size_t i)
{
	i++;
	if (p[i] == '^')
		i++;
	if (p[i] == ']')
		i++;
	while (p[i] && p[i] != ']') {
		if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
			const char *e = strchr(p + i + 2, p[i + 1]);

			while (e && e[1] != ']')
				e = strchr(e + 1, p[i + 1]);
			if (!e)
				return strlen(p);
			i = (size_t)(e - p) + 2;
			continue;
		}
		i++;
	}
	return p[i] ? i + 1 : i;
}

const char *payload_metric_pattern_why(const char *p)
{
	uint64_t repeat = 1;

	for (size_t i = 0; p[i];) {
		if (p[i] == '\n' || p[i] == '\r')
			return "it must not hold a line break: a pattern matches within one line";
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				return "back-references (\\1..\\9) are refused: glibc may take exponential "
				       "time matching them against the guest's output";
			i += p[i + 1] ? 2 : 1;
		} else if (p[i] == '[') {
			i = skip_bracket(p, i);
		} else if (p[i] == '{' &&
			   ((p[i + 1] >= '0' && p[i + 1] <= '9') || p[i + 1] == ',')) {
			/* An interval: "{m}", "{m,}", "{m,n}" or "{,n}", which glibc
			 * reads as {0,n} (regcomp checks the form). */
			unsigned long m = 0, n = 0;
			char *e = (char *)p + i + 1;

			if (*e != ',')
				m = strtoul(e, &e, 10);
			if (*e == ',' && e[1] >= '0' && e[1] <= '9')
				n = strtoul(e + 1, &e, 10);
			if (n > m)
				m = n;
			repeat *= m > PAYLOAD_METRIC_REPEAT_MAX ? PAYLOAD_METRIC_REPEAT_MAX + 1
			       : m ? m
				   : 1;
			if (repeat > PAYLOAD_METRIC_REPEAT_MAX)
				return "its repetition counts ({m,n}) multiply to more than 64 "
				       "(glibc copies each repeat, and nested ranges make the "
				       "search time the guest's choice)";
			i = (size_t)(e - p);
		} else {
			i++;
		}
	}
	return NULL;
}

static int parse_metric_name(struct ys_ctx *c, const struct ynode *n, const char *payload,
			     struct payload_metric_list *l, struct payload_metric *m)
{
	int ret = ys_expect(c, n, YNODE_SCALAR, "metric name");
	const char *s = n->value;
	size_t len;

	if (ret)
		return ret;
	len = strlen(s);
	if (!len || len > PAYLOAD_METRIC_NAME_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return ys_fail(c, n, "payload '%s': metric name '%s' must be 1-%d of [a-z0-9_]", payload,
			       s, PAYLOAD_METRIC_NAME_MAX);
	for (size_t k = 0; k < l->n; k++)
		if (!strcmp(l->v[k].name, s))
			return ys_fail(c, n, "payload '%s': metric '%s' declared twice", payload, s);
	memcpy(m->name, s, len + 1);
	return 0;
}

static int parse_metric_pattern(struct ys_ctx *c, const struct ynode *n, const char *payload,
				struct payload_metric *m)
{
	const char *why;
	char err[160];
	int ret = ys_expect(c, n, YNODE_SCALAR, "metric pattern"), rc;

	if (ret)
		return ret;
	if (!*n->value)
		return ys_fail(c, n, "payload '%s': metric '%s': pattern must not be empty", payload,
			       m->name);
	if (strlen(n->value) > PAYLOAD_METRIC_PATTERN_MAX)
		return ys_fail(c, n, "payload '%s': metric '%s': pattern is %zu bytes, more than %d",
			       payload, m->name, strlen(n->value), PAYLOAD_METRIC_PATTERN_MAX);
	if ((why = payload_metric_pattern_why(n->value)))
		return ys_fail(c, n, "payload '%s': metric '%s': pattern: %s", payload, m->name, why);
	rc = regcomp(&m->re, n->value, REG_EXTENDED | REG_NEWLINE);
	if (rc) {
		regerror(rc, &m->re, err, sizeof(err));
		return ys_fail(c, n, "payload '%s': metric '%s': pattern is not a POSIX extended "
				     "regular expression: %s", payload, m->name, err);
	}
	if (m->re.re_nsub != 1) {
		size_t groups = m->re.re_nsub;

		regfree(&m->re);
		return ys_fail(c, n, "payload '%s': metric '%s': pattern has %zu groups; it needs "
				     "exactly one, around the number (e.g. \"^Time: ([0-9.]+)\")",
			       payload, m->name, groups);
	}
	if (!(m->pattern = strdup(n->value))) {
		regfree(&m->re);
		return -ENOMEM;
	}
	return 0;
}

static int parse_metric(struct ys_ctx *c, const struct ynode *n, const char *payload,
			struct payload_metric_list *l)
{
	struct payload_metric *m = &l->v[l->n];
	char what[192]; /* a payload name (48), a metric name (64) and the words around */
	const struct ynode *v;
	int ret;

	memset(m, 0, sizeof(*m));
	if ((ret = ys_check_keys(c, n, "payload metric", metric_keys)))
		return ret;
	if (!(v = ymap_get(n, "name")))
		return ys_fail(c, n, "payload '%s': a metric needs 'name'", payload);
	if ((ret = parse_metric_name(c, v, payload, l, m)))
		return ret;
	if (!(v = ymap_get(n, "pattern")))
		return ys_fail(c, n, "payload '%s': metric '%s' needs 'pattern' (a POSIX extended "
				     "regex with one group around the number)", payload, m->name);
	/* The pattern is compiled last: every refusal before it leaves
	 * nothing to free. */
	snprintf(what, sizeof(what), "payload '%s': metric '%s': min", payload, m->name);
	if ((v = ymap_get(n, "min"))) {
		if ((ret = ys_double(c, v, what, &m->min)))
			return ret;
		m->has_min = true;
	}
	memcpy(what + strlen(what) - 3, "max", 3);
	if ((v = ymap_get(n, "max"))) {
		if ((ret = ys_double(c, v, what, &m->max)))
			return ret;
		m->has_max = true;
		if (m->has_min && m->min > m->max)
			return ys_fail(c, v, "payload '%s': metric '%s': max %g is below min %g",
				       payload, m->name, m->max, m->min);
	}
	if ((ret = parse_metric_pattern(c, ymap_get(n, "pattern"), payload, m)))
		return ret;
	l->n++; /* compiled: payload_metric_list_free frees it */
	return 0;
}

int payload_metric_parse(struct ys_ctx *c, const struct ynode *n, const char *payload,
			 struct payload_metric_list *out)
{
	int ret = ys_expect(c, n, YNODE_SEQ, "payload metrics");

	if (ret)
		return ret;
	if (n->n > PAYLOAD_METRIC_MAX)
		return ys_fail(c, n, "payload '%s': %zu metrics, more than the %d a payload may "
				     "declare", payload, n->n, PAYLOAD_METRIC_MAX);
	for (size_t i = 0; i < n->n; i++) {
		if ((ret = ys_expect(c, n->items[i], YNODE_MAP, "payload metric")) ||
		    (ret = parse_metric(c, n->items[i], payload, out)))
			return ret;
	}
	return 0;
}

void payload_metric_list_free(struct payload_metric_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		regfree(&l->v[i].re);
		free(l->v[i].pattern);
	}
	l->n = 0;
}
