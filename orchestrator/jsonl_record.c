#include "jsonl_record.h"

#include <stdio.h>
#include <string.h>

#include "json_pb.h"
#include "junit.h"
#include "payload_metric.h"
#include "profiles.h"

static int jkey_str(struct strbuf *sb, const char *key, const char *v, size_t len)
{
	int ret = sb_printf(sb, ",\"%s\":", key);

	return ret ? ret : json_str(sb, v, len);
}

static const char *jbool(int v)
{
	return v < 0 ? "null" : v ? "true" : "false";
}

/* What the JUnit writer needs that the rest of the record does not say:
 * file and line, the case's properties, the report, the console tail and
 * the earlier attempts, so that merge writes the JUnit a run writes. */
static int junit_members(struct strbuf *sb, const struct suite *s, const struct plan *p,
			 const struct test_record *r)
{
	const struct test_def *td = &s->tests[p->v[r->vidx].test];
	struct junit_props pp = { 0 };
	struct junit_texts tx;
	int ret = jkey_str(sb, "file", s->path, strlen(s->path));

	if (!ret)
		ret = sb_printf(sb, ",\"line\":%u,\"flaky\":%s", td->line,
				record_flaky(r) ? "true" : "false");
	if (!ret)
		ret = junit_record_props(&pp, p, r);
	if (!ret)
		ret = sb_printf(sb, ",\"properties\":{");
	for (size_t i = 0; !ret && i < pp.n; i++) {
		ret = i ? sb_printf(sb, ",") : 0;
		if (!ret)
			ret = json_str(sb, pp.v[i].name, strlen(pp.v[i].name));
		if (!ret)
			ret = sb_printf(sb, ":");
		if (!ret)
			ret = json_str(sb, pp.v[i].value, strlen(pp.v[i].value));
	}
	junit_props_free(&pp);
	if (!ret)
		ret = sb_printf(sb, "}");
	if (ret || (ret = junit_texts_get(s, p, r, &tx)))
		return ret;
	if (tx.report)
		ret = jkey_str(sb, "report", tx.report, tx.report_len);
	if (!ret && tx.out)
		ret = jkey_str(sb, "console_tail", tx.out, tx.out_len);
	if (!ret && tx.nearlier) {
		ret = sb_printf(sb, ",\"earlier_attempts\":[");
		for (size_t i = 0; !ret && i < tx.nearlier; i++) {
			const struct junit_attempt *a = &tx.earlier[i];

			ret = sb_printf(sb, "%s{\"verdict\":\"%s\"", i ? "," : "",
					verdict_name(a->kind));
			if (!ret)
				ret = jkey_str(sb, "detail", a->message ? a->message : "",
					       a->message ? strlen(a->message) : 0);
			if (!ret && a->report)
				ret = jkey_str(sb, "report", a->report, a->report_len);
			if (!ret)
				ret = sb_printf(sb, "}");
		}
		if (!ret)
			ret = sb_printf(sb, "]");
	}
	junit_texts_free(&tx);
	return ret;
}

static int vm_members(struct strbuf *sb, const Ktstr__VmResult *vm)
{
	const ProtobufCEnumValue *ev =
		protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, vm->outcome);
	int ret = sb_printf(sb, ",\"vm\":{\"outcome\":\"%s\",\"setup_us\":%llu,"
				"\"boot_to_init_us\":%llu,\"total_us\":%llu,"
				"\"ring_drops\":%llu,\"ring_crc_errors\":%u,"
				"\"worker_rss_kb\":%llu,\"worker_cpu_us\":%llu,"
				"\"sandboxed\":%s",
			    ev ? ev->name : "?", (unsigned long long)vm->setup_us,
			    (unsigned long long)vm->boot_to_init_us, (unsigned long long)vm->total_us,
			    (unsigned long long)vm->ring_drops, vm->ring_crc_errors,
			    (unsigned long long)vm->worker_rss_kb, (unsigned long long)vm->worker_cpu_us,
			    !vm->has_sandboxed ? "null" : vm->sandboxed ? "true" : "false");

	if (!ret && vm->has_guest_exit_code)
		ret = sb_printf(sb, ",\"guest_exit_code\":%d", vm->guest_exit_code);
	if (!ret && vm->kernel_version)
		ret = jkey_str(sb, "kernel_version", vm->kernel_version, strlen(vm->kernel_version));
	/* The monitor's report whole (bounded by the worker, checked again
	 * by the verdict), or why it did not run. */
	if (!ret && vm->monitor) {
		ret = sb_printf(sb, ",\"monitor\":");
		if (!ret)
			ret = json_pb(sb, &vm->monitor->base);
	} else if (!ret && vm->monitor_off) {
		ret = jkey_str(sb, "monitor_off", vm->monitor_off, strlen(vm->monitor_off));
	}
	return ret ? ret : sb_printf(sb, "}");
}

int json_record_members(struct strbuf *sb, const struct suite *s, const struct plan *p,
			const struct test_record *r, const struct runmeta *m)
{
	const struct variant *v = &p->v[r->vidx];
	const struct test_def *td = &s->tests[v->test];
	const char *sname = s->scheds[td->sched].name;
	const char *kid = v->kernel < p->nkernels ? p->kernels[v->kernel].id : NULL;
	const char *d = r->verdict.detail ? r->verdict.detail : "";
	char topo[32], prof[512];
	int ret;

	topo_label(&v->topo, topo, sizeof(topo));
	profile_name(&s->scheds[td->sched], v->profile, prof, sizeof(prof));
	ret = sb_printf(sb, "\"name\":");
	if (!ret)
		ret = json_str(sb, v->name, strlen(v->name));
	if (!ret)
		ret = jkey_str(sb, "test", td->name, strlen(td->name));
	if (!ret)
		ret = jkey_str(sb, "scheduler", sname, strlen(sname));
	if (!ret)
		ret = sb_printf(sb, ",\"topology\":\"%s\"", topo);
	if (!ret)
		ret = jkey_str(sb, "profile", prof, strlen(prof));
	/* The planned kernel: its cache key or image path (null when not
	 * known); vm.kernel_version is what the guest reported. */
	if (!ret)
		ret = kid ? jkey_str(sb, "kernel", kid, strlen(kid)) : sb_printf(sb, ",\"kernel\":null");
	if (!ret)
		ret = sb_printf(sb, ",\"gauntlet\":%s,\"verdict\":\"%s\",\"passed\":%s,\"skipped\":%s",
				v->preset == VARIANT_BASE_PRESET ? "false" : "true",
				verdict_name(r->verdict.kind),
				r->verdict.kind == V_PASS ? "true" : "false",
				r->verdict.kind == V_SKIP ? "true" : "false");
	if (!ret)
		ret = jkey_str(sb, "detail", d, strlen(d));
	if (!ret)
		ret = sb_printf(sb, ",\"worker_sandboxed\":%s,\"builder_sandboxed\":%s,"
				    "\"builder_landlock\":%s,\"qemu_landlock\":%s",
				jbool(record_worker_sandboxed(r)), jbool(r->builder_sandboxed),
				jbool(r->builder_landlock), jbool(record_qemu_landlock(r)));
	if (!ret)
		ret = sb_printf(sb, ",\"engine\":\"%s\",\"wall_ms\":%llu,\"attempts\":%u,"
				    "\"result_source\":%s%s%s",
				r->engine, (unsigned long long)r->wall_ms, r->attempts,
				r->verdict.source ? "\"" : "",
				r->verdict.source ? r->verdict.source : "null",
				r->verdict.source ? "\"" : "");
	if (!ret && r->vm)
		ret = vm_members(sb, r->vm);
	if (!ret && r->verdict.tr) {
		ret = sb_printf(sb, ",\"metrics\":");
		/* With each payload run's metrics (payload_metric.h). */
		if (!ret)
			ret = json_pb_extra(sb, &r->verdict.tr->base, payload_metrics_json,
					    &r->verdict);
	}
	if (!ret && r->verdict.nstimuli) {
		ret = sb_printf(sb, ",\"stimulus_events\":[");
		for (size_t k = 0; !ret && k < r->verdict.nstimuli; k++) {
			if (k)
				ret = sb_printf(sb, ",");
			if (!ret)
				ret = json_pb(sb, &r->verdict.stimuli[k]->base);
		}
		if (!ret)
			ret = sb_printf(sb, "]");
	}
	if (!ret)
		ret = junit_members(sb, s, p, r);
	if (!ret && m) {
		ret = sb_printf(sb, ",\"schema\":%d", RESULTS_SCHEMA);
		if (!ret)
			ret = jkey_str(sb, "tool_version", m->tool_version, strlen(m->tool_version));
		if (!ret)
			ret = sb_printf(sb, ",\"run\":");
		if (!ret)
			ret = runmeta_json(sb, m);
	}
	return ret;
}

int json_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n, const struct runmeta *m)
{
	int ret = sb_printf(sb, "[\n");

	for (size_t i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%s  {", i ? ",\n" : "");
		if (!ret)
			ret = json_record_members(sb, s, p, &r[i], m);
		if (!ret)
			ret = sb_printf(sb, "}");
	}
	return ret ? ret : sb_printf(sb, "\n]\n");
}
