/* The payload rules of ktstr/payload.h, shared by ktstr-orch and the guest. */
#include "ktstr/payload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ktstr/scenario_rules.h"

int ktstr_payload_name_check(const char *name)
{
	return ktstr_cgroup_name_check(name);
}

int ktstr_payload_guest_path(const char *name, const char *host_path, char *buf, size_t len)
{
	const char *base = strrchr(host_path, '/');
	int n;

	base = base ? base + 1 : host_path;
	n = snprintf(buf, len, "%s/%s/%s", KTSTR_PAYLOAD_DIR, name, *base ? base : name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct pwalk {
	char *path, *why;
	size_t pathlen, whylen;
};

static int __attribute__((format(printf, 4, 5)))
pfail(struct pwalk *w, const char *at, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(w->path, w->pathlen, "%s%s%s", at, *field ? "." : "", field);
	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int check_args(struct pwalk *w, const char *at, const char *field, char *const *args,
		      size_t n, size_t before)
{
	if (n + before > KTSTR_PAYLOAD_ARGS_MAX)
		return pfail(w, at, field,
			     "%zu arguments (%zu declared with the payload and %zu here) are more "
			     "than the %d one run may take",
			     n + before, before, n, KTSTR_PAYLOAD_ARGS_MAX);
	for (size_t i = 0; i < n; i++)
		if (strlen(args[i]) > KTSTR_PAYLOAD_ARG_MAX)
			return pfail(w, at, field,
				     "argument %zu is %zu bytes, more than the %d one may have", i,
				     strlen(args[i]), KTSTR_PAYLOAD_ARG_MAX);
	return 0;
}

static int check_decls(struct pwalk *w, Ktstr__PayloadSpec *const *pl, size_t npl)
{
	char at[32], want[600];

	if (npl > KTSTR_PAYLOAD_MAX)
		return pfail(w, "payloads", "", "%zu payloads declared, more than the %d a suite "
						"may have",
			     npl, KTSTR_PAYLOAD_MAX);
	for (size_t i = 0; i < npl; i++) {
		snprintf(at, sizeof(at), "payloads[%zu]", i);
		if (ktstr_payload_name_check(pl[i]->name))
			return pfail(w, at, "name",
				     "payload name '%s' must be 1-48 of [A-Za-z0-9_.-], not . or ..",
				     pl[i]->name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(pl[k]->name, pl[i]->name))
				return pfail(w, at, "name", "payload '%s' declared twice",
					     pl[i]->name);
		if (ktstr_payload_guest_path(pl[i]->name, pl[i]->path, want, sizeof(want)) ||
		    strcmp(want, pl[i]->path))
			return pfail(w, at, "path", "payload '%s' must be at %s/%s/BASENAME "
						    "(got '%s')",
				     pl[i]->name, KTSTR_PAYLOAD_DIR, pl[i]->name, pl[i]->path);
		if (check_args(w, at, "args", pl[i]->args, pl[i]->n_args, 0))
			return -EINVAL;
	}
	return 0;
}

static long find_decl(Ktstr__PayloadSpec *const *pl, size_t npl, const char *name)
{
	for (size_t i = 0; i < npl; i++)
		if (!strcmp(pl[i]->name, name))
			return (long)i;
	return -1;
}

static void list_names(Ktstr__PayloadSpec *const *pl, size_t npl, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < npl && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", pl[i]->name);
	if (!npl)
		snprintf(buf, len, "none: declare it under payloads:");
}

int ktstr_payload_ops_check(const Ktstr__Scenario *sc, Ktstr__PayloadSpec *const *pl, size_t npl,
			    char *path, size_t pathlen, char *why, size_t whylen)
{
	struct pwalk w = { path, why, pathlen, whylen };
	/* Where each declared payload was started in the background and is
	 * still running ("" = not running). */
	char bg[KTSTR_PAYLOAD_MAX][64];
	unsigned runs = 0;
	char at[80], names[400];

	if (check_decls(&w, pl, npl))
		return -EINVAL;
	memset(bg, 0, sizeof(bg));
	for (size_t s = 0; s < sc->n_steps; s++)
		for (size_t o = 0; o < sc->steps[s]->n_ops; o++) {
			const Ktstr__Op *op = sc->steps[s]->ops[o];
			const Ktstr__PayloadOp *po = op->payload;
			const char *kind = op->kind == KTSTR__OP__KIND__RUN_PAYLOAD    ? "run_payload"
					   : op->kind == KTSTR__OP__KIND__WAIT_PAYLOAD ? "wait_payload"
										       : "kill_payload";
			long i;

			snprintf(at, sizeof(at), "steps[%zu].ops[%zu]", s, o);
			if (op->kind < KTSTR__OP__KIND__RUN_PAYLOAD) {
				if (po)
					return pfail(&w, at, "payload",
						     "only run_payload, wait_payload and "
						     "kill_payload take a payload");
				continue;
			}
			if (!po || !po->name)
				return pfail(&w, at, po ? "payload" : "",
					     "%s needs payload: {name: NAME}, a payload declared "
					     "under payloads:",
					     kind);
			snprintf(at + strlen(at), sizeof(at) - strlen(at), ".payload");
			list_names(pl, npl, names, sizeof(names));
			i = find_decl(pl, npl, po->name);
			if (i < 0)
				return pfail(&w, at, "name", "%s: unknown payload '%s' (declared: %s)",
					     kind, po->name, names);
			if (po->timeout_ms > KTSTR_PAYLOAD_TIMEOUT_MAX_MS)
				return pfail(&w, at, "timeout_ms",
					     "%u ms is more than the 1 h (%u ms) a payload may be "
					     "given",
					     po->timeout_ms, KTSTR_PAYLOAD_TIMEOUT_MAX_MS);
			if (op->kind != KTSTR__OP__KIND__RUN_PAYLOAD) {
				const char *extra = po->n_args	      ? "args"
						    : po->has_background  ? "background"
						    : po->has_expect_exit ? "expect_exit"
						    : op->kind == KTSTR__OP__KIND__KILL_PAYLOAD &&
								      po->has_timeout_ms
							    ? "timeout_ms"
							    : NULL;

				if (extra)
					return pfail(&w, at, extra,
						     "%s takes only name%s; %s belongs to the "
						     "run_payload that starts it",
						     kind,
						     op->kind == KTSTR__OP__KIND__WAIT_PAYLOAD
							     ? " and timeout_ms"
							     : "",
						     extra);
				if (!bg[i][0])
					return pfail(&w, at, "name",
						     "%s: payload '%s' is not running in the "
						     "background here; start it with run_payload "
						     "{background: true} in an earlier op",
						     kind, po->name);
				bg[i][0] = '\0';
				continue;
			}
			if (bg[i][0])
				return pfail(&w, at, "name",
					     "run_payload: payload '%s' is still running in the "
					     "background (started by %s); wait_payload or "
					     "kill_payload it first",
					     po->name, bg[i]);
			if (po->expect_exit > 255)
				return pfail(&w, at, "expect_exit",
					     "%u is not an exit status (0..255)", po->expect_exit);
			if (check_args(&w, at, "args", po->args, po->n_args, pl[i]->n_args))
				return -EINVAL;
			if (++runs > KTSTR_PAYLOAD_RUNS_MAX)
				return pfail(&w, at, "",
					     "run_payload %u of this scenario: at most %d runs "
					     "(each keeps an output tail in the result)",
					     runs, KTSTR_PAYLOAD_RUNS_MAX);
			if (po->background)
				snprintf(bg[i], sizeof(bg[i]), "steps[%zu].ops[%zu]", s, o);
		}
	return 0;
}
