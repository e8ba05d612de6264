/* Payload metrics on the host (payload_metric.h): read from the output tail
 * of each judged run the guest reported, judged against their bounds, and
 * written for people and programs. The output is the guest's: every search
 * is bounded by KTSTR_PAYLOAD_TAIL_BYTES and PAYLOAD_METRIC_LINE_MAX, and
 * no length it claims is believed. */
#include "payload_metric.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/payload.h>

#include "json_pb.h"
#include "suite.h"
#include "verdict.h"

/* The last match of m in line [ls, le) of out, in *last; false if none. */
static bool last_match_in_line(const struct payload_metric *m, const char *out, size_t ls,
			       size_t le, regmatch_t last[2])
{
	/* A longer line is searched in its first PAYLOAD_METRIC_LINE_MAX bytes;
	 * '$' must not match where it was cut. */
	int eflags = REG_STARTEND | (le - ls > PAYLOAD_METRIC_LINE_MAX ? REG_NOTEOL : 0);
	size_t off = ls;
	bool found = false;

	if (le - ls > PAYLOAD_METRIC_LINE_MAX)
		le = ls + PAYLOAD_METRIC_LINE_MAX;
	for (;;) {
		/* REG_STARTEND: search out[off..le), '^' still seeing the byte
		 * before off (a match after the line's start is not at one). */
		regmatch_t mm[2] = { { .rm_so = (regoff_t)off, .rm_eo = (regoff_t)le } };

		if (regexec(&m->re, out, 2, mm, eflags))
			return found;
		memcpy(last, mm, sizeof(mm));
		found = true;
		if (mm[0].rm_eo > mm[0].rm_so)
			off = (size_t)mm[0].rm_eo;
		else if ((size_t)mm[0].rm_so < le)
			off = (size_t)mm[0].rm_so + 1; /* an empty match: step past it */
		else
			return found;
	}
}

/* The capture as text for a message: controls and non-ASCII as '?', cut
 * with "..." past what v->text holds. */
static void keep_text(struct payload_metric_value *v, const char *s, size_t n)
{
	size_t max = sizeof(v->text) - 1, k;

	for (k = 0; k < n && k < max; k++)
		v->text[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
	if (n > max)
		memcpy(v->text + max - 3, "...", 3);
	v->text[k] = '\0';
}

static void read_number(const struct payload_metric *m, const char *out, const regmatch_t *g,
			struct payload_metric_value *v)
{
	char num[PAYLOAD_METRIC_NUMBER_MAX + 1], *end;
	size_t n;

	v->status = PM_NOT_A_NUMBER;
	if (g->rm_so < 0) /* the group took no part in the match */
		return;
	n = (size_t)(g->rm_eo - g->rm_so);
	keep_text(v, out + g->rm_so, n);
	if (n > PAYLOAD_METRIC_NUMBER_MAX || memchr(out + g->rm_so, '\0', n))
		return;
	memcpy(num, out + g->rm_so, n);
	num[n] = '\0';
	v->value = strtod(num, &end);
	if (end == num || *end || !isfinite(v->value))
		return;
	v->text[0] = '\0';
	v->status = PM_OK;
	if (m->has_min && v->value < m->min) {
		v->status = PM_BELOW_MIN;
		v->limit = m->min;
	} else if (m->has_max && v->value > m->max) {
		v->status = PM_ABOVE_MAX;
		v->limit = m->max;
	}
}

void payload_metric_extract(const struct payload_metric *m, const char *out, size_t len,
			    struct payload_metric_value *v)
{
	size_t start, end;
	regmatch_t last[2];

	if (!out) {
		out = "";
		len = 0;
	}
	start = len > KTSTR_PAYLOAD_TAIL_BYTES ? len - KTSTR_PAYLOAD_TAIL_BYTES : 0;
	end = len;
	snprintf(v->name, sizeof(v->name), "%s", m->name);
	v->status = PM_NO_MATCH;
	v->value = v->limit = 0;
	v->text[0] = '\0';
	/* From the last line back: the first that matches holds the last match. */
	for (;;) {
		const char *nl = end > start ? memrchr(out + start, '\n', end - start) : NULL;
		size_t ls = nl ? (size_t)(nl - out) + 1 : start;

		if (last_match_in_line(m, out, ls, end, last)) {
			read_number(m, out, &last[1], v);
			return;
		}
		if (!nl)
			return;
		end = ls - 1;
	}
}

void payload_metric_num(double d, char *buf, size_t len)
{
	/* %.15g reads back exactly for most decimals people write; %.17g always. */
	snprintf(buf, len, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, len, "%.17g", d);
}

void payload_metric_describe(const struct payload_metric_value *v, char *buf, size_t len)
{
	char val[32], lim[32];

	payload_metric_num(v->value, val, sizeof(val));
	payload_metric_num(v->limit, lim, sizeof(lim));
	switch (v->status) {
	case PM_OK:
		snprintf(buf, len, "%s=%s", v->name, val);
		break;
	case PM_NO_MATCH:
		snprintf(buf, len, "%s: no match", v->name);
		break;
	case PM_NOT_A_NUMBER:
		snprintf(buf, len, "%s: '%s' is not a number", v->name, v->text);
		break;
	case PM_BELOW_MIN:
		snprintf(buf, len, "%s %s < min %s", v->name, val, lim);
		break;
	case PM_ABOVE_MAX:
		snprintf(buf, len, "%s %s > max %s", v->name, val, lim);
		break;
	}
}

static const struct payload_def *find_payload(const struct suite *s, const char *name)
{
	for (size_t i = 0; name && i < s->npayloads; i++)
		if (!strcmp(s->payloads[i].spec.name, name))
			return &s->payloads[i];
	return NULL;
}

/* The runs metrics are read from: judged ones of a payload that declares
 * some, among the first KTSTR_PAYLOAD_RUNS_MAX (more is a guest's lie). */
static const struct payload_def *metric_run(const struct suite *s, const Ktstr__TestResult *tr,
					    size_t i)
{
	const Ktstr__PayloadResult *p = tr->payloads[i];
	const struct payload_def *pd;

	if (i >= KTSTR_PAYLOAD_RUNS_MAX || !p->has_judged || !p->judged)
		return NULL;
	pd = find_payload(s, p->name);
	return pd && pd->metrics.n ? pd : NULL;
}

/* "payload NAME: metric ..." for the verdict, with the pattern that never
 * matched spelled out. malloc'd, NULL on OOM. */
static char *failure_text(const struct payload_def *pd, const struct payload_metric_value *v)
{
	const struct payload_metric *m = NULL;
	char what[PAYLOAD_METRIC_NAME_MAX + 128];
	char *out = NULL;

	for (size_t k = 0; k < pd->metrics.n; k++)
		if (!strcmp(pd->metrics.v[k].name, v->name))
			m = &pd->metrics.v[k];
	payload_metric_describe(v, what, sizeof(what));
	if (asprintf(&out, "payload %s: metric %s%s%s%s", pd->spec.name, what,
		     v->status == PM_NO_MATCH && m ? " of \"" : "",
		     v->status == PM_NO_MATCH && m ? m->pattern : "",
		     v->status == PM_NO_MATCH && m ? "\" in its output" : "") < 0)
		return NULL;
	return out;
}

/* v's kind and detail once nfail metrics failed, the first as first. */
static int apply_failures(struct verdict *v, const char *first, size_t nfail)
{
	char more[48] = "", *d = NULL;
	int n;

	if (nfail > 1)
		snprintf(more, sizeof(more), " (and %zu more)", nfail - 1);
	if (v->kind == V_PASS)
		n = asprintf(&d, "%s%s", first, more);
	else if (v->kind == V_FAIL)
		n = asprintf(&d, "%s; %s%s", v->detail ? v->detail : "", first, more);
	else
		return 0; /* already a worse failure, or not the test's answer */
	if (n < 0)
		return -ENOMEM;
	free(v->detail);
	v->detail = d;
	v->kind = V_FAIL;
	return 0;
}

int payload_metrics_judge(const struct suite *s, struct verdict *v)
{
	const Ktstr__TestResult *tr = v->tr;
	struct payload_metric_value *vals;
	char *first = NULL;
	size_t n = 0, nfail = 0;
	int ret;

	if (!tr || v->metrics)
		return 0;
	for (size_t i = 0; i < tr->n_payloads; i++) {
		const struct payload_def *pd = metric_run(s, tr, i);

		n += pd ? pd->metrics.n : 0;
	}
	if (!n)
		return 0;
	if (!(vals = calloc(n, sizeof(*vals))))
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < tr->n_payloads; i++) {
		const struct payload_def *pd = metric_run(s, tr, i);
		const char *out = tr->payloads[i]->output ? tr->payloads[i]->output : "";

		for (size_t k = 0; pd && k < pd->metrics.n; k++, n++) {
			payload_metric_extract(&pd->metrics.v[k], out, strlen(out), &vals[n]);
			vals[n].run = (uint32_t)i;
			if (vals[n].status == PM_OK)
				continue;
			if (!nfail++ && !(first = failure_text(pd, &vals[n]))) {
				free(vals);
				return -ENOMEM;
			}
		}
	}
	v->metrics = vals;
	v->nmetrics = n;
	ret = nfail ? apply_failures(v, first, nfail) : 0;
	free(first);
	return ret;
}

int payload_metrics_json(struct strbuf *sb, const ProtobufCMessage *msg, bool first,
			 const void *ctx)
{
	const struct verdict *v = ctx;
	size_t run = SIZE_MAX;
	bool any = false;
	int ret = 0;

	if (msg->descriptor != &ktstr__payload_result__descriptor || !v->tr || !v->nmetrics)
		return 0;
	/* Metrics exist only for the first KTSTR_PAYLOAD_RUNS_MAX runs
	 * (metric_run): a guest that reported more does not make this
	 * quadratic. */
	for (size_t i = 0; i < v->tr->n_payloads && i < KTSTR_PAYLOAD_RUNS_MAX; i++)
		if (&v->tr->payloads[i]->base == msg)
			run = i;
	for (size_t k = 0; !ret && k < v->nmetrics; k++) {
		const struct payload_metric_value *m = &v->metrics[k];
		char num[32];

		if (m->run != run)
			continue;
		ret = sb_printf(sb, "%s", any ? "," : first ? "\"metrics\":{" : ",\"metrics\":{");
		if (!ret)
			ret = json_str(sb, m->name, strlen(m->name));
		payload_metric_num(m->value, num, sizeof(num));
		if (!ret)
			ret = sb_printf(sb, ":%s", payload_metric_read(m) ? num : "null");
		any = true;
	}
	return !ret && any ? sb_append(sb, "}", 1) : ret;
}
