/* Kernel config text as data (kconfig_frag.h). */
#include "kconfig_frag.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_ok(const char *s, size_t len)
{
	if (!len || len > KCFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* y/m/n, a decimal or 0x hex number, or a quoted string whose only
 * escapes are \" and \\ and that holds no control byte. */
static bool value_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (!len || len > KCFG_VALUE_MAX)
		return false;
	if (len == 1 && (s[0] == 'y' || s[0] == 'm' || s[0] == 'n'))
		return true;
	if (s[0] == '"') {
		if (len < 2 || s[len - 1] != '"')
			return false;
		for (i = 1; i < len - 1; i++) {
			unsigned char ch = (unsigned char)s[i];

			if (ch < 0x20 || ch == 0x7f)
				return false;
			if (ch == '"')
				return false;
			if (ch == '\\') {
				if (i + 1 >= len - 1 || (s[i + 1] != '"' && s[i + 1] != '\\'))
					return false;
				i++;
			}
		}
		return true;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < len; i++)
			if (!isxdigit((unsigned char)s[i]))
				return false;
		return true;
	}
	if (s[0] == '-')
		i = 1;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t *slot_of(const struct kcfg *c, const char *name)
{
	size_t mask = c->idxcap - 1, i = (size_t)name_hash(name) & mask;

	for (;;) {
		if (c->idx[i] == SIZE_MAX || !strcmp(c->v[c->idx[i]].name, name))
			return &c->idx[i];
		i = (i + 1) & mask;
	}
}

/* Keep the index at most half full. */
static int index_grow(struct kcfg *c)
{
	size_t ncap = c->idxcap ? c->idxcap * 2 : 256, *old = c->idx;

	if (c->idxcap && c->n + 1 <= c->idxcap / 2)
		return 0;
	c->idx = malloc(ncap * sizeof(*c->idx));
	if (!c->idx) {
		c->idx = old;
		return -ENOMEM;
	}
	c->idxcap = ncap;
	for (size_t i = 0; i < ncap; i++)
		c->idx[i] = SIZE_MAX;
	for (size_t i = 0; i < c->n; i++)
		*slot_of(c, c->v[i].name) = i;
	free(old);
	return 0;
}

const struct kcfg_opt *kcfg_get(const struct kcfg *c, const char *name)
{
	size_t *s;

	if (!c->idxcap)
		return NULL;
	s = slot_of(c, name);
	return *s == SIZE_MAX ? NULL : &c->v[*s];
}

static int set_n(struct kcfg *c, const char *name, size_t nlen, const char *value, size_t vlen,
		 const char *origin)
{
	char nm[KCFG_NAME_MAX + 1];
	char *v;
	size_t *slot;
	int ret;

	if (!name_ok(name, nlen) || !value_ok(value, vlen))
		return -EINVAL;
	memcpy(nm, name, nlen);
	nm[nlen] = '\0';
	if ((ret = index_grow(c)))
		return ret;
	slot = slot_of(c, nm);
	if (*slot == SIZE_MAX && c->n >= KCFG_OPTS_MAX)
		return -E2BIG;
	if (!(v = strndup(value, vlen)))
		return -ENOMEM;
	if (*slot != SIZE_MAX) {
		struct kcfg_opt *o = &c->v[*slot];

		free(o->value);
		o->value = v;
		snprintf(o->origin, sizeof(o->origin), "%s", origin);
		return 0;
	}
	if ((ret = ktstr_grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v), 64))) {
		free(v);
		return ret;
	}
	c->v[c->n].name = strdup(nm);
	if (!c->v[c->n].name) {
		free(v);
		return -ENOMEM;
	}
	c->v[c->n].value = v;
	snprintf(c->v[c->n].origin, sizeof(c->v[c->n].origin), "%s", origin);
	*slot = c->n++;
	return 0;
}

int kcfg_set(struct kcfg *c, const char *name, const char *value, const char *origin)
{
	return set_n(c, name, strlen(name), value, strlen(value), origin);
}

/* One line (without its newline): 0 and *name, *value when it sets an
 * option, 1 when it is a comment or blank, -EINVAL when it is neither. */
static int parse_line(const char *s, size_t len, const char **name, size_t *nlen,
		      const char **value, size_t *vlen)
{
	static const char notset[] = " is not set";
	const char *eq;

	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (!len)
		return 1;
	if (s[0] == '#') {
		/* "# CONFIG_X is not set" sets X to n; any other comment is one. */
		size_t sl = sizeof(notset) - 1;

		if (len > 9 + sl && !strncmp(s, "# CONFIG_", 9) &&
		    !memcmp(s + len - sl, notset, sl)) {
			*name = s + 9;
			*nlen = len - 9 - sl;
			*value = "n";
			*vlen = 1;
			return name_ok(*name, *nlen) ? 0 : -EINVAL;
		}
		return 1;
	}
	if (len < 8 || strncmp(s, "CONFIG_", 7))
		return -EINVAL;
	eq = memchr(s, '=', len);
	if (!eq)
		return -EINVAL;
	*name = s + 7;
	*nlen = (size_t)(eq - *name);
	*value = eq + 1;
	*vlen = len - (size_t)(eq + 1 - s);
	return 0;
}

int kcfg_parse(struct kcfg *c, const char *text, size_t len, const char *origin, char *err,
	       size_t errlen)
{
	size_t off = 0;
	unsigned line = 0;

	if (len > KCFG_TEXT_MAX) {
		snprintf(err, errlen, "%s: %zu bytes, more than a kernel config has (at most %u)",
			 origin, len, KCFG_TEXT_MAX);
		return -E2BIG;
	}
	while (off < len) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - s) : len - off;
		const char *name, *value;
		size_t nlen, vlen;
		char where[96];
		int r;

		off += ll + (nl ? 1 : 0);
		line++;
		if (ll > KCFG_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line of %zu bytes (at most %u)", origin, line,
				 ll, KCFG_LINE_MAX);
			return -E2BIG;
		}
		if (memchr(s, '\0', ll)) {
			snprintf(err, errlen, "%s:%u: a NUL byte: not a config text", origin, line);
			return -EINVAL;
		}
		r = parse_line(s, ll, &name, &nlen, &value, &vlen);
		if (r == 1)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: '%.*s' is neither CONFIG_NAME=VALUE nor "
					      "'# CONFIG_NAME is not set' nor a comment",
				 origin, line, (int)(ll > 80 ? 80 : ll), s);
			return -EINVAL;
		}
		snprintf(where, sizeof(where), "%s:%u", origin, line);
		r = set_n(c, name, nlen, value, vlen, where);
		if (r == -EINVAL) {
			snprintf(err, errlen, "%s:%u: CONFIG_%.*s: %s", origin, line,
				 (int)(nlen > KCFG_NAME_MAX ? KCFG_NAME_MAX : nlen), name,
				 !name_ok(name, nlen)
					 ? "the name must be letters, digits and '_' (at most 128)"
					 : "the value must be y, m, n, a number, 0x hex or a "
					   "\"quoted string\" (at most 2048 bytes)");
			return r;
		}
		if (r == -E2BIG) {
			snprintf(err, errlen, "%s:%u: more than %u options", origin, line,
				 KCFG_OPTS_MAX);
			return r;
		}
		if (r)
			return r;
	}
	return 0;
}

int kcfg_merge(struct kcfg *c, const struct kcfg *from)
{
	for (size_t i = 0; i < from->n; i++) {
		int r = kcfg_set(c, from->v[i].name, from->v[i].value, from->v[i].origin);

		if (r)
			return r;
	}
	return 0;
}

int kcfg_overlay(const struct kcfg *base, const struct kcfg *over, struct kcfg *out)
{
	for (size_t i = 0; i < base->n; i++) {
		int r;

		if (kcfg_get(over, base->v[i].name))
			continue;
		if ((r = kcfg_set(out, base->v[i].name, base->v[i].value, base->v[i].origin)))
			return r;
	}
	return kcfg_merge(out, over);
}

int kcfg_render(const struct kcfg *c, struct strbuf *out)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct kcfg_opt *o = &c->v[i];
		int r = strcmp(o->value, "n") ? sb_printf(out, "CONFIG_%s=%s\n", o->name, o->value)
					      : sb_printf(out, "# CONFIG_%s is not set\n", o->name);

		if (r)
			return r;
	}
	return 0;
}

int kcfg_unmet(const struct kcfg *want, const struct kcfg *got, struct strbuf *report)
{
	int n = 0;

	for (size_t i = 0; i < want->n; i++) {
		const struct kcfg_opt *w = &want->v[i], *g = kcfg_get(got, w->name);
		const char *have = g ? g->value : "n";

		if (!strcmp(have, w->value))
			continue;
		n++;
		if (sb_printf(report, "  CONFIG_%s=%s (set by %s) became: %s\n", w->name, w->value,
			      w->origin, strcmp(have, "n") ? have : "not set"))
			return -ENOMEM;
	}
	return n;
}

void kcfg_free(struct kcfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].value);
	}
	free(c->v);
	free(c->idx);
	memset(c, 0, sizeof(*c));
}
