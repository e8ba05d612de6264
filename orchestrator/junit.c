#include "junit.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/utf8.h>

#include "json_pb.h"
#include "payload_metric.h"
#include "profiles.h"
#include "report.h"

/* XML 1.0's Char production: what may appear in a document at all. */
static bool xml_char_ok(uint32_t cp)
{
	return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF && cp != 0x7F) ||
	       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

int xml_escape(struct strbuf *sb, const char *s, size_t len)
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
		if (cp == '&')
			ret = sb_append(sb, "&amp;", 5);
		else if (cp == '<')
			ret = sb_append(sb, "&lt;", 4);
		else if (cp == '>')
			ret = sb_append(sb, "&gt;", 4);
		else if (cp == '"')
			ret = sb_append(sb, "&quot;", 6);
		else if (cp == '\'')
			ret = sb_append(sb, "&apos;", 6);
		else
			ret = sb_append(sb, p + i, n);
		i += n;
	}
	return ret;
}

static int xml_str(struct strbuf *sb, const char *s)
{
	return xml_escape(sb, s, strlen(s));
}

static const char *tristate(int v)
{
	return v > 0 ? "true" : v == 0 ? "false" : "unknown";
}

/* One property per payload metric read (payload_metric.h):
 * payload.NAME.METRIC, payload.NAME#K.METRIC for the payload's K-th run in
 * the test (K > 1); the value, or "none" when none was read. */
static int junit_metric_props(struct strbuf *sb, const struct verdict *vd)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < vd->nmetrics; i++) {
		const struct payload_metric_value *m = &vd->metrics[i];
		const char *name = vd->tr->payloads[m->run]->name;
		unsigned nth = 1;
		char num[32] = "none";

		for (size_t k = 0; k < m->run; k++)
			nth += !strcmp(vd->tr->payloads[k]->name, name);
		if (payload_metric_read(m))
			payload_metric_num(m->value, num, sizeof(num));
		ret = sb_printf(sb, "        <property name=\"payload.");
		if (!ret)
			ret = xml_str(sb, name);
		if (!ret && nth > 1)
			ret = sb_printf(sb, "#%u", nth);
		if (!ret)
			ret = sb_printf(sb, ".%s\" value=\"%s\"/>\n", m->name, num);
	}
	return ret;
}

/* Per-test properties: the engine and whether worker and builder ran
 * confined, so a CI page shows an unsandboxed run without digging. */
static int junit_props(struct strbuf *sb, const struct plan *p, const struct test_record *r)
{
	const struct plan_kernel *k = &p->kernels[p->v[r->vidx].kernel];
	int ret = sb_printf(sb, "      <properties>\n");

	/* The kernel the plan booted it on (the guest's own release, when it
	 * reported one, is in the JSON's vm.kernel_version). */
	if (!ret && k->id) {
		ret = sb_printf(sb, "        <property name=\"kernel\" value=\"");
		if (!ret)
			ret = xml_str(sb, k->id);
		if (!ret)
			ret = sb_printf(sb, "\"/>\n");
	}
	if (!ret)
		ret = sb_printf(sb, "        <property name=\"engine\" value=\"");
	if (!ret)
		ret = xml_str(sb, r->engine[0] ? r->engine : "none");
	if (!ret)
		ret = sb_printf(sb, "\"/>\n        <property name=\"worker_sandboxed\" value=\"%s\"/>\n"
				    "        <property name=\"builder_sandboxed\" value=\"%s\"/>\n"
				    "        <property name=\"builder_landlock\" value=\"%s\"/>\n"
				    "        <property name=\"qemu_landlock\" value=\"%s\"/>\n",
				tristate(record_worker_sandboxed(r)), tristate(r->builder_sandboxed),
				tristate(r->builder_landlock), tristate(record_qemu_landlock(r)));
	if (!ret)
		ret = junit_metric_props(sb, &r->verdict);
	if (!ret)
		ret = sb_printf(sb, "      </properties>\n");
	return ret;
}

int junit_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		 const struct test_record *r, size_t n)
{
	struct run_totals t;
	double total_s = 0;
	int ret;

	records_totals(r, n, &t);
	for (size_t i = 0; i < n; i++)
		total_s += r[i].wall_ms / 1000.0;
	ret = sb_printf(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
			    "skipped=\"%zu\" time=\"%.3f\">\n"
			    "  <testsuite name=\"",
			n, t.failed - t.infra, t.infra, t.skipped + t.xfailed, total_s);
	if (!ret)
		ret = xml_str(sb, s->path);
	if (!ret)
		ret = sb_printf(sb, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
				    "skipped=\"%zu\" time=\"%.3f\">\n",
				n, t.failed - t.infra, t.infra, t.skipped + t.xfailed, total_s);
	if (!ret) {
		size_t open_ = 0;

		for (size_t i = 0; i < n; i++)
			open_ += record_unsandboxed(&r[i]);
		ret = sb_printf(sb, "    <properties>\n      <property name=\"unsandboxed_tests\" "
				    "value=\"%zu\"/>\n    </properties>\n",
				open_);
	}
	for (size_t i = 0; !ret && i < n; i++) {
		const struct variant *v = &p->v[r[i].vidx];
		const struct test_def *td = &s->tests[v->test];
		enum verdict_kind k = r[i].verdict.kind;
		const char *detail = r[i].verdict.detail ? r[i].verdict.detail : "";

		ret = sb_printf(sb, "    <testcase classname=\"");
		if (!ret)
			ret = xml_str(sb, s->scheds[td->sched].name);
		if (!ret)
			ret = sb_printf(sb, "\" name=\"");
		if (!ret)
			ret = xml_str(sb, v->name);
		if (!ret)
			ret = sb_printf(sb, "\" time=\"%.3f\">\n", r[i].wall_ms / 1000.0);
		if (!ret)
			ret = junit_props(sb, p, &r[i]);
		if (ret)
			break;
		if (k == V_PASS) {
			ret = sb_printf(sb, "    </testcase>\n");
			continue;
		}
		/* An expected failure is reported the way pytest reports xfail. */
		ret = sb_printf(sb, "      <%s message=\"",
				k == V_SKIP || k == V_XFAIL ? "skipped"
				: k == V_INFRA		    ? "error"
							    : "failure");
		if (!ret)
			ret = xml_str(sb, detail);
		if (!ret)
			ret = sb_printf(sb, "\" type=\"%s\">", verdict_name(k));
		if (!ret && k != V_SKIP && k != V_XFAIL) {
			/* The full report, so a CI page shows what a terminal would. */
			char *text = NULL;
			size_t tlen = 0;
			FILE *mf = open_memstream(&text, &tlen);

			if (!mf)
				return -ENOMEM;
			report_failure(mf, s, p, &r[i]);
			fclose(mf);
			ret = xml_escape(sb, text ? text : "", tlen);
			free(text);
		}
		if (!ret)
			ret = sb_printf(sb, "</%s>\n    </testcase>\n",
					k == V_SKIP || k == V_XFAIL ? "skipped"
					: k == V_INFRA		    ? "error"
								    : "failure");
	}
	if (!ret)
		ret = sb_printf(sb, "  </testsuite>\n</testsuites>\n");
	return ret;
}

int json_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n)
{
	int ret = sb_printf(sb, "[\n");

	for (size_t i = 0; !ret && i < n; i++) {
		const struct variant *v = &p->v[r[i].vidx];
		const struct test_def *td = &s->tests[v->test];
		const Ktstr__VmResult *vm = r[i].vm;
		char topo[32], prof[512];

		topo_label(&v->topo, topo, sizeof(topo));
		profile_name(&s->scheds[td->sched], v->profile, prof, sizeof(prof));
		ret = sb_printf(sb, "%s  {\"name\":", i ? ",\n" : "");
		if (!ret)
			ret = json_str(sb, v->name, strlen(v->name));
		if (!ret)
			ret = sb_printf(sb, ",\"test\":");
		if (!ret)
			ret = json_str(sb, td->name, strlen(td->name));
		if (!ret)
			ret = sb_printf(sb, ",\"scheduler\":");
		if (!ret)
			ret = json_str(sb, s->scheds[td->sched].name, strlen(s->scheds[td->sched].name));
		if (!ret)
			ret = sb_printf(sb, ",\"topology\":\"%s\",\"profile\":", topo);
		if (!ret)
			ret = json_str(sb, prof, strlen(prof));
		/* The planned kernel: its cache key or image path (null when
		 * not known); vm.kernel_version is what the guest reported. */
		if (!ret) {
			const char *kid = p->kernels[v->kernel].id;

			ret = sb_printf(sb, ",\"kernel\":");
			if (!ret)
				ret = kid ? json_str(sb, kid, strlen(kid)) : sb_printf(sb, "null");
		}
		if (!ret)
			ret = sb_printf(sb, ",\"gauntlet\":%s,\"verdict\":\"%s\",\"passed\":%s,"
					    "\"skipped\":%s,\"detail\":",
					v->preset == VARIANT_BASE_PRESET ? "false" : "true",
					verdict_name(r[i].verdict.kind),
					r[i].verdict.kind == V_PASS ? "true" : "false",
					r[i].verdict.kind == V_SKIP ? "true" : "false");
		if (!ret) {
			const char *d = r[i].verdict.detail ? r[i].verdict.detail : "";

			ret = json_str(sb, d, strlen(d));
		}
		if (!ret) {
			int w = record_worker_sandboxed(&r[i]), b = r[i].builder_sandboxed;

			int bl = r[i].builder_landlock, ql = record_qemu_landlock(&r[i]);

			ret = sb_printf(sb, ",\"worker_sandboxed\":%s,\"builder_sandboxed\":%s,"
					    "\"builder_landlock\":%s,\"qemu_landlock\":%s",
					w < 0 ? "null" : w ? "true" : "false",
					b < 0 ? "null" : b ? "true" : "false",
					bl < 0 ? "null" : bl ? "true" : "false",
					ql < 0 ? "null" : ql ? "true" : "false");
		}
		if (!ret)
			ret = sb_printf(sb, ",\"engine\":\"%s\",\"wall_ms\":%llu,\"attempts\":%u,"
					    "\"result_source\":%s%s%s",
					r[i].engine, (unsigned long long)r[i].wall_ms, r[i].attempts,
					r[i].verdict.source ? "\"" : "",
					r[i].verdict.source ? r[i].verdict.source : "null",
					r[i].verdict.source ? "\"" : "");
		if (!ret && vm) {
			const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
				&ktstr__outcome__descriptor, vm->outcome);

			ret = sb_printf(sb, ",\"vm\":{\"outcome\":\"%s\",\"setup_us\":%llu,"
					    "\"boot_to_init_us\":%llu,\"total_us\":%llu,"
					    "\"ring_drops\":%llu,\"ring_crc_errors\":%u,"
					    "\"worker_rss_kb\":%llu,\"worker_cpu_us\":%llu,"
					    "\"sandboxed\":%s",
					ev ? ev->name : "?", (unsigned long long)vm->setup_us,
					(unsigned long long)vm->boot_to_init_us,
					(unsigned long long)vm->total_us,
					(unsigned long long)vm->ring_drops, vm->ring_crc_errors,
					(unsigned long long)vm->worker_rss_kb,
					(unsigned long long)vm->worker_cpu_us,
					!vm->has_sandboxed ? "null"
					: vm->sandboxed	   ? "true"
							   : "false");
			if (!ret && vm->has_guest_exit_code)
				ret = sb_printf(sb, ",\"guest_exit_code\":%d", vm->guest_exit_code);
			if (!ret && vm->kernel_version) {
				ret = sb_printf(sb, ",\"kernel_version\":");
				if (!ret)
					ret = json_str(sb, vm->kernel_version, strlen(vm->kernel_version));
			}
			/* The monitor's report whole (bounded by the worker,
			 * checked again by the verdict), or why it did not run. */
			if (!ret && vm->monitor) {
				ret = sb_printf(sb, ",\"monitor\":");
				if (!ret)
					ret = json_pb(sb, &vm->monitor->base);
			} else if (!ret && vm->monitor_off) {
				ret = sb_printf(sb, ",\"monitor_off\":");
				if (!ret)
					ret = json_str(sb, vm->monitor_off, strlen(vm->monitor_off));
			}
			if (!ret)
				ret = sb_printf(sb, "}");
		}
		if (!ret && r[i].verdict.tr) {
			ret = sb_printf(sb, ",\"metrics\":");
			/* With each payload run's metrics (payload_metric.h). */
			if (!ret)
				ret = json_pb_extra(sb, &r[i].verdict.tr->base, payload_metrics_json,
						    &r[i].verdict);
		}
		if (!ret && r[i].verdict.nstimuli) {
			ret = sb_printf(sb, ",\"stimulus_events\":[");
			for (size_t k = 0; !ret && k < r[i].verdict.nstimuli; k++) {
				if (k)
					ret = sb_printf(sb, ",");
				if (!ret)
					ret = json_pb(sb, &r[i].verdict.stimuli[k]->base);
			}
			if (!ret)
				ret = sb_printf(sb, "]");
		}
		if (!ret)
			ret = sb_printf(sb, "}");
	}
	return ret ? ret : sb_printf(sb, "\n]\n");
}
