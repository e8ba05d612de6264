#include "junit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/utf8.h>

#include "payload_metric.h"
#include "report.h"

/* XML 1.0's Char production: what may appear in a document at all. */
static bool xml_char_ok(uint32_t cp)
{
	return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF && cp != 0x7F) ||
	       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

static int xml_text(struct strbuf *sb, const char *s, size_t len, bool escape)
{
	const uint8_t *p = (const uint8_t *)s;
	int ret = 0;

	for (size_t i = 0; !ret && i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (!n || !xml_char_ok(cp)) {
			/* One replacement per bad byte (or per unusable char). */
			ret = sb_append(sb, KTSTR_UTF8_REPLACEMENT, 3);
			i += n ? n : 1;
			continue;
		}
		if (escape && cp == '&')
			ret = sb_append(sb, "&amp;", 5);
		else if (escape && cp == '<')
			ret = sb_append(sb, "&lt;", 4);
		else if (escape && cp == '>')
			ret = sb_append(sb, "&gt;", 4);
		else if (escape && cp == '"')
			ret = sb_append(sb, "&quot;", 6);
		else if (escape && cp == '\'')
			ret = sb_append(sb, "&apos;", 6);
		else if (escape && cp == '\r')
			/* A parser turns a raw CR into LF: kept as a reference. */
			ret = sb_append(sb, "&#13;", 5);
		else
			ret = sb_append(sb, p + i, n);
		i += n;
	}
	return ret;
}

int xml_escape(struct strbuf *sb, const char *s, size_t len)
{
	return xml_text(sb, s, len, true);
}

int xml_clean(struct strbuf *sb, const char *s, size_t len)
{
	return xml_text(sb, s, len, false);
}

static int xml_str(struct strbuf *sb, const char *s)
{
	return xml_escape(sb, s, strlen(s));
}

int junit_props_add(struct junit_props *pp, const char *name, const char *value)
{
	char *n, *v;

	if (KTSTR_GROW(pp->v, &pp->cap, pp->n + 1, 16))
		return -ENOMEM;
	n = strdup(name);
	v = strdup(value ? value : "");
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	pp->v[pp->n++] = (struct junit_prop){ n, v };
	return 0;
}

void junit_props_free(struct junit_props *pp)
{
	for (size_t i = 0; i < pp->n; i++) {
		free(pp->v[i].name);
		free(pp->v[i].value);
	}
	free(pp->v);
	memset(pp, 0, sizeof(*pp));
}

static const char *tristate(int v)
{
	return v > 0 ? "true" : v == 0 ? "false" : "unknown";
}

/* One property per payload metric read (payload_metric.h):
 * payload.NAME.METRIC, payload.NAME#K.METRIC for the payload's K-th run in
 * the test (K > 1); the value, or "none" when none was read. */
static int metric_props(struct junit_props *pp, const struct verdict *vd)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < vd->nmetrics; i++) {
		const struct payload_metric_value *m = &vd->metrics[i];
		const char *name = vd->tr->payloads[m->run]->name;
		unsigned nth = 1;
		char num[32] = "none", key[PAYLOAD_METRIC_NAME_MAX + 512];

		for (size_t k = 0; k < m->run; k++)
			nth += !strcmp(vd->tr->payloads[k]->name, name);
		if (payload_metric_read(m))
			payload_metric_num(m->value, num, sizeof(num));
		if (nth > 1)
			snprintf(key, sizeof(key), "payload.%.256s#%u.%s", name, nth, m->name);
		else
			snprintf(key, sizeof(key), "payload.%.256s.%s", name, m->name);
		ret = junit_props_add(pp, key, num);
	}
	return ret;
}

int junit_record_props(struct junit_props *pp, const struct plan *p, const struct test_record *r)
{
	const struct variant *v = &p->v[r->vidx];
	const char *kid = v->kernel < p->nkernels ? p->kernels[v->kernel].id : NULL;
	char num[32];
	int ret = 0;

	/* The kernel the plan booted it on (the guest's own release, when it
	 * reported one, is in the JSON's vm.kernel_version). */
	if (kid)
		ret = junit_props_add(pp, "kernel", kid);
	if (!ret)
		ret = junit_props_add(pp, "engine", r->engine[0] ? r->engine : "none");
	if (!ret)
		ret = junit_props_add(pp, "worker_sandboxed", tristate(record_worker_sandboxed(r)));
	if (!ret)
		ret = junit_props_add(pp, "builder_sandboxed", tristate(r->builder_sandboxed));
	if (!ret)
		ret = junit_props_add(pp, "builder_landlock", tristate(r->builder_landlock));
	if (!ret)
		ret = junit_props_add(pp, "qemu_landlock", tristate(record_qemu_landlock(r)));
	if (!ret && r->attempts > 1) {
		snprintf(num, sizeof(num), "%u", r->attempts);
		ret = junit_props_add(pp, "attempts", num);
		if (!ret)
			ret = junit_props_add(pp, "flaky", record_flaky(r) ? "true" : "false");
	}
	if (!ret)
		ret = metric_props(pp, &r->verdict);
	return ret;
}

int junit_run_props(struct junit_props *pp, const struct runmeta *m, size_t unsandboxed)
{
	char num[32], key[320];
	int ret;

	snprintf(num, sizeof(num), "%zu", unsandboxed);
	ret = junit_props_add(pp, "unsandboxed_tests", num);
	if (!m || ret)
		return ret;
	ret = junit_props_add(pp, "ktstr.version", m->tool_version);
	if (!ret)
		ret = junit_props_add(pp, "ktstr.host", m->host);
	if (!ret)
		ret = junit_props_add(pp, "ktstr.started", m->started);
	if (!ret && m->finished) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)m->duration_ms);
		ret = junit_props_add(pp, "ktstr.duration_ms", num);
	}
	if (!ret)
		ret = junit_props_add(pp, "ktstr.arch", m->arch);
	if (!ret)
		ret = junit_props_add(pp, "ktstr.suite", m->suite);
	if (!ret)
		ret = junit_props_add(pp, "ktstr.suite_sha256", m->suite_sha256);
	for (size_t k = 0; !ret && k < m->nkernels; k++) {
		snprintf(key, sizeof(key), "ktstr.kernel.%.256s.sha256", m->kernels[k].name);
		ret = junit_props_add(pp, key, m->kernels[k].sha256);
	}
	for (size_t i = 0; !ret && i < m->nscheds; i++) {
		snprintf(key, sizeof(key), "ktstr.scheduler.%.256s.sha256", m->scheds[i].name);
		ret = junit_props_add(pp, key, m->scheds[i].sha256);
	}
	if (!ret)
		ret = junit_props_add(pp, "ktstr.host_cpus", m->host_cpus);
	if (!ret)
		ret = junit_props_add(pp, "ktstr.reservation", m->reservation);
	return ret;
}

static int write_props(struct strbuf *sb, const struct junit_props *pp, const char *indent)
{
	int ret = sb_printf(sb, "%s<properties>\n", indent);

	for (size_t i = 0; !ret && pp && i < pp->n; i++) {
		ret = sb_printf(sb, "%s  <property name=\"", indent);
		if (!ret)
			ret = xml_str(sb, pp->v[i].name);
		if (!ret)
			ret = sb_printf(sb, "\" value=\"");
		if (!ret)
			ret = xml_str(sb, pp->v[i].value);
		if (!ret)
			ret = sb_printf(sb, "\"/>\n");
	}
	return ret ? ret : sb_printf(sb, "%s</properties>\n", indent);
}

/* The element a verdict becomes: an expected failure is reported the way
 * pytest reports xfail. */
static const char *case_tag(enum verdict_kind k)
{
	return k == V_SKIP || k == V_XFAIL ? "skipped" : k == V_INFRA ? "error" : "failure";
}

/* Surefire's marks for reruns (its XSD, surefire-test-report-3.0): a
 * test that passed on a retry carries each failed attempt as
 * flakyFailure/flakyError; one that never passed carries them as
 * rerunFailure/rerunError after its failure. */
static int write_earlier(struct strbuf *sb, const struct junit_case *c)
{
	bool passed = c->kind == V_PASS || c->kind == V_XFAIL;
	int ret = 0;

	for (size_t i = 0; !ret && i < c->nearlier; i++) {
		const struct junit_attempt *a = &c->earlier[i];
		const char *tag = passed ? (a->kind == V_INFRA ? "flakyError" : "flakyFailure")
				  : a->kind == V_INFRA ? "rerunError" : "rerunFailure";

		ret = sb_printf(sb, "      <%s message=\"", tag);
		if (!ret)
			ret = xml_str(sb, a->message ? a->message : "");
		if (!ret)
			ret = sb_printf(sb, "\" type=\"%s\">", verdict_name(a->kind));
		if (!ret && a->report) {
			ret = sb_printf(sb, "<stackTrace>");
			if (!ret)
				ret = xml_escape(sb, a->report, a->report_len);
			if (!ret)
				ret = sb_printf(sb, "</stackTrace>");
		}
		if (!ret)
			ret = sb_printf(sb, "</%s>\n", tag);
	}
	return ret;
}

int junit_write_case(struct strbuf *sb, const struct junit_case *c)
{
	int ret = sb_printf(sb, "    <testcase classname=\"");

	if (!ret)
		ret = xml_str(sb, c->classname ? c->classname : "");
	if (!ret)
		ret = sb_printf(sb, "\" name=\"");
	if (!ret)
		ret = xml_str(sb, c->name);
	if (!ret)
		ret = sb_printf(sb, "\" time=\"%.3f\"", c->time_s);
	if (!ret && c->file) {
		ret = sb_printf(sb, " file=\"");
		if (!ret)
			ret = xml_str(sb, c->file);
		if (!ret)
			ret = sb_printf(sb, "\"");
	}
	if (!ret && c->line)
		ret = sb_printf(sb, " line=\"%u\"", c->line);
	if (!ret)
		ret = sb_printf(sb, ">\n");
	if (!ret)
		ret = write_props(sb, c->props, "      ");
	if (!ret && c->kind != V_PASS) {
		const char *tag = case_tag(c->kind);

		ret = sb_printf(sb, "      <%s message=\"", tag);
		if (!ret)
			ret = xml_str(sb, c->message ? c->message : "");
		if (!ret)
			ret = sb_printf(sb, "\" type=\"%s\">", verdict_name(c->kind));
		/* The full report, so a CI page shows what a terminal would. */
		if (!ret && c->report && c->kind != V_SKIP && c->kind != V_XFAIL)
			ret = xml_escape(sb, c->report, c->report_len);
		if (!ret)
			ret = sb_printf(sb, "</%s>\n", tag);
	}
	if (!ret)
		ret = write_earlier(sb, c);
	if (!ret && c->out && c->out_len) {
		ret = sb_printf(sb, "      <system-out>");
		if (!ret)
			ret = xml_escape(sb, c->out, c->out_len);
		if (!ret)
			ret = sb_printf(sb, "</system-out>\n");
	}
	return ret ? ret : sb_printf(sb, "    </testcase>\n");
}

int junit_write_head(struct strbuf *sb, const struct junit_suite *js)
{
	int ret = sb_printf(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				"<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
				"skipped=\"%zu\" time=\"%.3f\">\n"
				"  <testsuite name=\"",
			    js->tests, js->failures, js->errors, js->skipped, js->time_s);

	if (!ret)
		ret = xml_str(sb, js->name);
	if (!ret)
		ret = sb_printf(sb, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
				    "time=\"%.3f\"",
				js->tests, js->failures, js->errors, js->skipped, js->time_s);
	if (!ret && js->timestamp) {
		ret = sb_printf(sb, " timestamp=\"");
		if (!ret)
			ret = xml_str(sb, js->timestamp);
		if (!ret)
			ret = sb_printf(sb, "\"");
	}
	if (!ret && js->hostname) {
		ret = sb_printf(sb, " hostname=\"");
		if (!ret)
			ret = xml_str(sb, js->hostname);
		if (!ret)
			ret = sb_printf(sb, "\"");
	}
	if (!ret)
		ret = sb_printf(sb, ">\n");
	return ret ? ret : write_props(sb, js->props, "    ");
}

int junit_write_tail(struct strbuf *sb)
{
	return sb_printf(sb, "  </testsuite>\n</testsuites>\n");
}

/* The console's last lines, then its last bytes, cleaned. On bytes, not
 * strings: a NUL the guest printed becomes U+FFFD, it does not end the
 * text. */
static int console_out(const struct test_record *r, char **out, size_t *len)
{
	const Ktstr__VmResult *vm = r->vm;
	const char *buf = vm ? (const char *)vm->console_tail.data : NULL;
	struct strbuf sb = { 0 };
	size_t end, start;
	unsigned lines = 0;
	int ret;

	*out = NULL;
	*len = 0;
	if (!vm || !vm->has_console_tail || !buf || !vm->console_tail.len)
		return 0;
	end = vm->console_tail.len;
	while (end && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
		end--;
	for (start = end; start > 0; start--)
		if (buf[start - 1] == '\n' && ++lines >= JUNIT_OUT_LINES)
			break;
	if (end - start > JUNIT_OUT_MAX) {
		start = end - JUNIT_OUT_MAX;
		/* Start on a character, not inside one. */
		while (start < end && ((uint8_t)buf[start] & 0xC0) == 0x80)
			start++;
	}
	ret = xml_clean(&sb, buf + start, end - start);
	if (ret) {
		sb_free(&sb);
		return ret;
	}
	*out = sb.buf;
	*len = sb.len;
	return 0;
}

int junit_texts_get(const struct suite *s, const struct plan *p, const struct test_record *r,
		    struct junit_texts *t)
{
	enum verdict_kind k = r->verdict.kind;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	if (verdict_is_failure(k) || k == V_INFRA)
		ret = report_text(s, p, r, &t->report, &t->report_len);
	if (!ret)
		ret = console_out(r, &t->out, &t->out_len);
	for (size_t i = 0; !ret && i < r->nnotes && i < RECORD_NOTES_MAX; i++)
		t->earlier[t->nearlier++] = (struct junit_attempt){
			.kind = r->notes[i].kind, .message = r->notes[i].detail,
			.report = r->notes[i].report, .report_len = r->notes[i].report_len };
	if (ret)
		junit_texts_free(t);
	return ret;
}

void junit_texts_free(struct junit_texts *t)
{
	free(t->report);
	free(t->out);
	memset(t, 0, sizeof(*t));
}

int junit_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		 const struct test_record *r, size_t n, const struct runmeta *m)
{
	struct junit_props run = { 0 };
	struct run_totals t;
	double total_s = 0;
	size_t open_ = 0;
	int ret;

	records_totals(r, n, &t);
	for (size_t i = 0; i < n; i++) {
		total_s += r[i].wall_ms / 1000.0;
		open_ += record_unsandboxed(&r[i]);
	}
	ret = junit_run_props(&run, m, open_);
	if (!ret) {
		struct junit_suite js = {
			.name = s->path, .tests = n, .failures = t.failed - t.infra,
			.errors = t.infra, .skipped = t.skipped + t.xfailed, .time_s = total_s,
			.timestamp = m ? m->started : NULL, .hostname = m ? m->host : NULL,
			.props = &run,
		};

		ret = junit_write_head(sb, &js);
	}
	junit_props_free(&run);
	for (size_t i = 0; !ret && i < n; i++) {
		const struct variant *v = &p->v[r[i].vidx];
		const struct test_def *td = &s->tests[v->test];
		struct junit_props pp = { 0 };
		struct junit_texts tx;

		ret = junit_record_props(&pp, p, &r[i]);
		if (!ret)
			ret = junit_texts_get(s, p, &r[i], &tx);
		if (!ret) {
			struct junit_case c = {
				.classname = s->scheds[td->sched].name, .name = v->name,
				.file = s->path, .line = td->line, .time_s = r[i].wall_ms / 1000.0,
				.kind = r[i].verdict.kind,
				.message = r[i].verdict.detail ? r[i].verdict.detail : "",
				.report = tx.report, .report_len = tx.report_len, .out = tx.out,
				.out_len = tx.out_len, .props = &pp, .earlier = tx.earlier,
				.nearlier = tx.nearlier,
			};

			ret = junit_write_case(sb, &c);
			junit_texts_free(&tx);
		}
		junit_props_free(&pp);
	}
	return ret ? ret : junit_write_tail(sb);
}
