#include "yaml_schema.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ys_fail(struct ys_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at)
		snprintf(c->err, c->errlen, "%s:%u:%u: %s", c->file, at->line, at->col, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
	return -EINVAL;
}

static const char *kind_name(enum ynode_kind k)
{
	return k == YNODE_MAP ? "a mapping" : k == YNODE_SEQ ? "a list" : "a value";
}

int ys_expect(struct ys_ctx *c, const struct ynode *n, enum ynode_kind kind, const char *what)
{
	if (n->kind != kind)
		return ys_fail(c, n, "%s must be %s, found %s", what, kind_name(kind),
			       kind_name(n->kind));
	return 0;
}

int ys_check_keys(struct ys_ctx *c, const struct ynode *map, const char *what,
		  const char *const *allowed)
{
	int ret = ys_expect(c, map, YNODE_MAP, what);

	if (ret)
		return ret;
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->keys[i]->value;
		bool ok = false;
		char list[512] = "";
		size_t off = 0;

		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, k))
				ok = true;
		if (ok)
			continue;
		for (const char *const *a = allowed; *a && off < sizeof(list); a++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						a == allowed ? "" : ", ", *a);
		return ys_fail(c, map->keys[i], "unknown key '%s' in %s (allowed: %s)", k, what,
			       list);
	}
	return 0;
}

int ys_str(struct ys_ctx *c, const struct ynode *n, const char *what, char **out)
{
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	*out = strdup(n->value);
	return *out ? 0 : -ENOMEM;
}

int ys_u64(struct ys_ctx *c, const struct ynode *n, const char *what, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	errno = 0;
	v = strtoull(n->value, &end, 0);
	if (errno || end == n->value || *end || n->value[0] == '-')
		return ys_fail(c, n, "%s must be a non-negative integer, found '%s'", what,
			       n->value);
	*out = v;
	return 0;
}

int ys_u32(struct ys_ctx *c, const struct ynode *n, const char *what, uint32_t min, uint32_t max,
	   uint32_t *out)
{
	uint64_t v;
	int ret = ys_u64(c, n, what, &v);

	if (ret)
		return ret;
	if (v < min || v > max)
		return ys_fail(c, n, "%s must be between %u and %u, found %llu", what, min, max,
			       (unsigned long long)v);
	*out = (uint32_t)v;
	return 0;
}

int ys_i32(struct ys_ctx *c, const struct ynode *n, const char *what, int32_t *out)
{
	char *end;
	long v;
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	errno = 0;
	v = strtol(n->value, &end, 0);
	if (errno || end == n->value || *end || v < INT32_MIN || v > INT32_MAX)
		return ys_fail(c, n, "%s must be an integer, found '%s'", what, n->value);
	*out = (int32_t)v;
	return 0;
}

int ys_double(struct ys_ctx *c, const struct ynode *n, const char *what, double *out)
{
	char *end;
	double v;
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	errno = 0;
	v = strtod(n->value, &end);
	if (errno || end == n->value || *end || !isfinite(v))
		return ys_fail(c, n, "%s must be a number, found '%s'", what, n->value);
	*out = v;
	return 0;
}

int ys_bool(struct ys_ctx *c, const struct ynode *n, const char *what, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	for (size_t i = 0; yes[i]; i++) {
		if (!strcasecmp(n->value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(n->value, no[i])) {
			*out = false;
			return 0;
		}
	}
	return ys_fail(c, n, "%s must be true or false, found '%s'", what, n->value);
}

int ys_strlist(struct ys_ctx *c, const struct ynode *n, const char *what, struct strv *out)
{
	if (n->kind == YNODE_SCALAR)
		return strv_push(out, n->value);
	if (n->kind != YNODE_SEQ)
		return ys_fail(c, n, "%s must be a list of strings", what);
	for (size_t i = 0; i < n->n; i++) {
		int ret;

		if (n->items[i]->kind != YNODE_SCALAR)
			return ys_fail(c, n->items[i], "%s: every item must be a string", what);
		ret = strv_push(out, n->items[i]->value);
		if (ret)
			return ret;
	}
	return 0;
}

int ys_duration_ms(struct ys_ctx *c, const struct ynode *n, const char *what, uint32_t *out_ms)
{
	char *end;
	double v, scale = 1000.0;
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	errno = 0;
	v = strtod(n->value, &end);
	if (!strcmp(end, "ms"))
		scale = 1.0;
	else if (!strcmp(end, "m"))
		scale = 60000.0;
	else if (*end && strcmp(end, "s"))
		end = n->value; /* force the error below */
	if (errno || end == n->value || !isfinite(v) || v <= 0 || v * scale > 86400000.0)
		return ys_fail(c, n,
			       "%s must be a positive duration such as 2, 1.5s, 500ms or 1m "
			       "(at most 24h), found '%s'",
			       what, n->value);
	*out_ms = (uint32_t)(v * scale + 0.5);
	if (*out_ms == 0)
		*out_ms = 1;
	return 0;
}
