/* c_test: a test whose body is a function of a C test binary. One plan,
 * one packing path, one result path: the binary is a payload and the test's
 * scenario runs it, so the planner, images.c (the ELF closure), the guest's
 * payload machinery (timeout, signal, output tail) and the reports treat it
 * as they treat any payload; the guest then takes the function's own
 * verdict (guest/ctest.c). */
#include "suite_ctest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/payload.h>

#include "pathjoin.h"

static const char *const ctest_keys[] = { "binary", "function", NULL };

int suite_payloads_alloc(struct suite *s)
{
	if (s->payloads)
		return 0;
	s->payloads = calloc(KTSTR_PAYLOAD_MAX, sizeof(*s->payloads));
	s->pspecs = calloc(KTSTR_PAYLOAD_MAX, sizeof(*s->pspecs));
	return s->payloads && s->pspecs ? 0 : -ENOMEM;
}

static bool c_ident(const char *p)
{
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* The payload carrying host (one per file: a binary with many tests is
 * packed once), declared here if no payload names that file yet. */
static int binary_payload(struct ys_ctx *c, const struct ynode *v, struct suite *s,
			  const char *host, const char **name)
{
	char pname[64], guest[PATH_MAX];
	const char *base = strrchr(host, '/') ? strrchr(host, '/') + 1 : host;
	struct payload_def *pd;
	int ret;

	for (size_t i = 0; i < s->npayloads; i++)
		if (!strcmp(s->payloads[i].host_path, host)) {
			*name = s->payloads[i].spec.name;
			return 0;
		}
	if (s->npayloads == KTSTR_PAYLOAD_MAX)
		return ys_fail(c, v,
			       "c_test binary %s: the suite already has %d payloads (c_test "
			       "binaries count as payloads), the most it may declare",
			       host, KTSTR_PAYLOAD_MAX);
	/* c_test.BASENAME when that is a valid and unused name, else
	 * c_test.N: a name in reports, never written by the user. */
	if (strlen(base) + 8 <= sizeof(pname))
		snprintf(pname, sizeof(pname), "c_test.%.56s", base);
	else
		pname[0] = '\0';
	for (size_t i = 0; i < s->npayloads; i++)
		if (!strcmp(s->payloads[i].spec.name, pname))
			pname[0] = '\0';
	if (!pname[0] || ktstr_payload_name_check(pname))
		snprintf(pname, sizeof(pname), "c_test.%zu", s->npayloads);
	if ((ret = suite_payloads_alloc(s)))
		return ret;
	if (ktstr_payload_guest_path(pname, host, guest, sizeof(guest)))
		return ys_fail(c, v, "c_test binary: path too long");
	pd = &s->payloads[s->npayloads];
	ktstr__payload_spec__init(&pd->spec);
	pd->line = v->line;
	s->pspecs[s->npayloads] = &pd->spec;
	s->npayloads++; /* counted now so suite_free frees what follows */
	if (!(pd->host_path = strdup(host)) || !(pd->spec.name = strdup(pname)) ||
	    !(pd->spec.path = strdup(guest)))
		return -ENOMEM;
	*name = pd->spec.name;
	return 0;
}

/* One step: run the binary in the foreground (its timeout: the scenario's
 * duration), no hold after it, no settle before. Every part is malloc'd
 * separately: the scenario is freed with free_unpacked. */
static int build_scenario(struct test_def *t, const char *payload)
{
	Ktstr__Scenario *sc = calloc(1, sizeof(*sc));
	Ktstr__Step *st = calloc(1, sizeof(*st));
	Ktstr__Op *op = calloc(1, sizeof(*op));
	Ktstr__PayloadOp *po = calloc(1, sizeof(*po));
	Ktstr__HoldSpec *h = calloc(1, sizeof(*h));

	if (sc)
		ktstr__scenario__init(sc);
	t->scenario = sc;
	if (!sc || !st || !op || !po || !h) {
		free(st);
		free(op);
		free(po);
		free(h);
		return -ENOMEM;
	}
	ktstr__step__init(st);
	ktstr__op__init(op);
	ktstr__payload_op__init(po);
	ktstr__hold_spec__init(h);
	sc->steps = calloc(1, sizeof(*sc->steps));
	if (!sc->steps) {
		free(st);
		free(op);
		free(po);
		free(h);
		return -ENOMEM;
	}
	sc->steps[0] = st;
	sc->n_steps = 1;
	st->hold = h;
	h->kind = KTSTR__HOLD_SPEC__KIND__FIXED;
	h->has_ms = 1;
	h->ms = 0;
	st->ops = calloc(1, sizeof(*st->ops));
	if (!st->ops) {
		free(op);
		free(po);
		return -ENOMEM;
	}
	st->ops[0] = op;
	st->n_ops = 1;
	op->kind = KTSTR__OP__KIND__RUN_PAYLOAD;
	op->payload = po;
	sc->has_duration_ms = 1;
	sc->duration_ms = CTEST_DEFAULT_DURATION_MS;
	sc->has_settle_ms = 1;
	sc->settle_ms = 0;
	po->args = calloc(2, sizeof(*po->args));
	if (!(sc->name = strdup(t->name)) || !(po->name = strdup(payload)) || !po->args)
		return -ENOMEM;
	po->args[0] = strdup(KTSTR_CTEST_RUN_ARG);
	po->args[1] = strdup(t->c_test_function);
	po->n_args = 2;
	return po->args[0] && po->args[1] ? 0 : -ENOMEM;
}

int suite_ctest_parse(struct ys_ctx *c, const struct ynode *n, struct suite *s,
		      struct test_def *t)
{
	const struct ynode *b, *f;
	const char *payload = NULL;
	char host[PATH_MAX];
	struct stat st;
	int ret;

	if ((ret = ys_expect(c, n, YNODE_MAP, "c_test")) ||
	    (ret = ys_check_keys(c, n, "c_test", ctest_keys)))
		return ret;
	if (!(b = ymap_get(n, "binary")))
		return ys_fail(c, n, "c_test: missing required key 'binary' (the C test binary "
				     "on this host, relative to the suite file)");
	if (!(f = ymap_get(n, "function")))
		return ys_fail(c, n, "c_test: missing required key 'function' (the name given "
				     "to KTSTR_TEST in the binary)");
	if ((ret = ys_expect(c, b, YNODE_SCALAR, "c_test binary")) ||
	    (ret = ys_expect(c, f, YNODE_SCALAR, "c_test function")))
		return ret;
	if (!*b->value)
		return ys_fail(c, b, "c_test binary must not be empty");
	if (strlen(f->value) > CTEST_FUNCTION_MAX || !c_ident(f->value))
		return ys_fail(c, f,
			       "c_test function '%s' must be a C identifier of 1-%d characters "
			       "(the name given to KTSTR_TEST)",
			       f->value, CTEST_FUNCTION_MAX);
	if (b->value[0] == '/')
		ret = snprintf(host, sizeof(host), "%s", b->value) >= (int)sizeof(host)
			      ? -ENAMETOOLONG
			      : 0;
	else
		ret = path_join(host, sizeof(host), s->dir, b->value, NULL);
	if (ret)
		return ys_fail(c, b, "c_test binary: path too long");
	if (stat(host, &st))
		return ys_fail(c, b, "c_test binary %s: %s", host, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(host, X_OK))
		return ys_fail(c, b, "c_test binary %s is not an executable file%s", host,
			       S_ISREG(st.st_mode) ? " (chmod +x it)" : "");
	if ((ret = binary_payload(c, b, s, host, &payload)))
		return ret;
	if (!(t->c_test_function = strdup(f->value)) || !(t->c_test_payload = strdup(payload)))
		return -ENOMEM;
	return build_scenario(t, payload);
}
