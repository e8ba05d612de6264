/* A payload's `metrics:` (payload_metric.h): each one checked and its
 * pattern compiled when the suite is read, so a typo is exit 2 with
 * file:line:col, never a test that fails in a VM. */
#include "payload_metric.h"

#include <errno.h>
#include <stdbool.h>
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

/* glibc compiles x+ as x x* and x{m,n} as n copies of x, so a repetition
 * nested in another (((x+)+)+, (x+){8}) multiplies what it compiles, and
 * stacked operators (x++++) nest without parentheses: "up" and 20 '+'
 * compiled for 16 s into 1 GB (found by tests/fuzz/fuzz_payload_metric.c).
 * The walk below keeps, per group, the largest copy factor of its atoms:
 * an atom is 1, a group its largest inner factor, x+ twice x's, x{m,n}
 * max(m,n,1) times; * and ? copy nothing. */
#define PM_GROUP_DEPTH_MAX 16u

struct pm_walk {
	uint64_t grp[PM_GROUP_DEPTH_MAX + 1]; /* largest factor in each open group */
	unsigned depth;
	uint64_t last;		/* factor of the last atom, 0: none to repeat */
	bool last_rep;		/* the previous token was a repetition operator */
};

static void pm_atom(struct pm_walk *w, uint64_t f)
{
	w->last = f;
	w->last_rep = false;
	if (f > w->grp[w->depth])
		w->grp[w->depth] = f;
}

/* A repetition operator copying `times` of the last atom. */
static const char *pm_repeat(struct pm_walk *w, uint64_t times)
{
	if (w->last_rep)
		return "stacked repetition operators (x++, x+*, x{2}+) are refused: POSIX leaves "
		       "them undefined and glibc nests them, compiling exponentially many copies";
	w->last_rep = true;
	if (!w->last)
		return NULL; /* nothing to repeat: regcomp judges */
	w->last *= times;
	if (w->last > PAYLOAD_METRIC_REPEAT_MAX)
		return "its repetitions nested in one another (x+ counts 2, x{m,n} its larger "
		       "bound) multiply to more than 64 (glibc compiles that many copies)";
	if (w->last > w->grp[w->depth])
		w->grp[w->depth] = w->last;
	return NULL;
}

const char *payload_metric_pattern_why(const char *p)
{
	struct pm_walk w = { .grp = { 1 }, .depth = 0, .last = 0, .last_rep = false };
	uint64_t repeat = 1;
	const char *why;

	for (size_t i = 0; p[i];) {
		if (p[i] == '\n' || p[i] == '\r')
			return "it must not hold a line break: a pattern matches within one line";
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				return "back-references (\\1..\\9) are refused: glibc may take exponential "
				       "time matching them against the guest's output";
			i += p[i + 1] ? 2 : 1;
			pm_atom(&w, 1);
		} else if (p[i] == '[') {
			i = skip_bracket(p, i);
			pm_atom(&w, 1);
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
			m = m > PAYLOAD_METRIC_REPEAT_MAX ? PAYLOAD_METRIC_REPEAT_MAX + 1 : m ? m : 1;
			repeat *= m;
			if (repeat > PAYLOAD_METRIC_REPEAT_MAX)
				return "its repetition counts ({m,n}) multiply to more than 64 "
				       "(glibc copies each repeat, and nested ranges make the "
				       "search time the guest's choice)";
			if ((why = pm_repeat(&w, m)))
				return why;
			i = (size_t)(e - p);
			if (p[i] == '}')
				i++;
		} else if (p[i] == '+' || p[i] == '*' || p[i] == '?') {
			if ((why = pm_repeat(&w, p[i] == '+' ? 2 : 1)))
				return why;
			i++;
		} else if (p[i] == '(') {
			if (w.depth == PM_GROUP_DEPTH_MAX)
				return "its groups nest deeper than 16";
			w.grp[++w.depth] = 1;
			w.last = 0;
			w.last_rep = false;
			i++;
		} else if (p[i] == ')' && w.depth) {
			uint64_t f = w.grp[w.depth--];

			pm_atom(&w, f);
			i++;
		} else if (p[i] == '|' || p[i] == '^' || p[i] == '$') {
			w.last = 0;
			w.last_rep = false;
			i++;
		} else {
			pm_atom(&w, 1);
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

int payload_metric_compile(struct payload_metric *m, const char *pattern, char *why,
			   size_t whylen)
{
	const char *bad;
	char err[160];
	int rc;

	if (!*pattern) {
		snprintf(why, whylen, "pattern must not be empty");
		return -EINVAL;
	}
	if (strlen(pattern) > PAYLOAD_METRIC_PATTERN_MAX) {
		snprintf(why, whylen, "pattern is %zu bytes, more than %d", strlen(pattern),
			 PAYLOAD_METRIC_PATTERN_MAX);
		return -EINVAL;
	}
	if ((bad = payload_metric_pattern_why(pattern))) {
		snprintf(why, whylen, "pattern: %s", bad);
		return -EINVAL;
	}
	rc = regcomp(&m->re, pattern, REG_EXTENDED | REG_NEWLINE);
	if (rc) {
		regerror(rc, &m->re, err, sizeof(err));
		snprintf(why, whylen, "pattern is not a POSIX extended regular expression: %s", err);
		return -EINVAL;
	}
	if (m->re.re_nsub != 1) {
		snprintf(why, whylen, "pattern has %zu groups; it needs exactly one, around the "
				      "number (e.g. \"^Time: ([0-9.]+)\")", m->re.re_nsub);
		regfree(&m->re);
		return -EINVAL;
	}
	if (!(m->pattern = strdup(pattern))) {
		regfree(&m->re);
		return -ENOMEM;
	}
	return 0;
}

static int parse_metric_pattern(struct ys_ctx *c, const struct ynode *n, const char *payload,
				struct payload_metric *m)
{
	char why[256];
	int ret = ys_expect(c, n, YNODE_SCALAR, "metric pattern");

	if (ret)
		return ret;
	ret = payload_metric_compile(m, n->value, why, sizeof(why));
	if (ret == -EINVAL)
		return ys_fail(c, n, "payload '%s': metric '%s': %s", payload, m->name, why);
	return ret;
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
