#include <ktstr/arch.h>
#include <ktstr/cleantext.h>
#include <ktstr/guest_contract.h>
#include <ktstr/util.h>
#include "report.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payload_metric.h"
#include "profiles.h"

#define REPORT_TAIL_LINES 20
/* A guest decides how many STIMULUS events it sends (up to the worker's keep
 * budget, vmm-worker/capture.h): the text report shows the first ones. */
#define REPORT_TIMELINE_MAX 64u

/* What the host read from the payload runs (payload_metric.h): for each run
 * with metrics, sep, its name and "metric=value" or the metric's problem.
 * run SIZE_MAX: every run; else that run's metrics alone, without its name.
 * Whether it printed anything. */
static bool report_run_metrics(FILE *f, const struct verdict *vd, size_t run, const char *sep)
{
	size_t shown = SIZE_MAX;

	for (size_t i = 0; i < vd->nmetrics; i++) {
		const struct payload_metric_value *m = &vd->metrics[i];
		char what[PAYLOAD_METRIC_NAME_MAX + 128];

		if (run != SIZE_MAX && m->run != run)
			continue;
		payload_metric_describe(m, what, sizeof(what));
		if (shown != m->run) {
			fputs(sep, f);
			if (run == SIZE_MAX) {
				fput_clean_max(f, vd->tr->payloads[m->run]->name, 64);
				fputc(' ', f);
			}
			shown = m->run;
		} else {
			fputs(", ", f);
		}
		fputs(what, f);
	}
	return shown != SIZE_MAX;
}

int report_test_line(FILE *f, const struct suite *s, const struct plan *p,
		     const struct test_record *r)
{
	const struct variant *v = &p->v[r->vidx];
	const struct verdict *vd = &r->verdict;

	if (!r->attempts) {
		fprintf(f, "%-5s %s  (", vd->kind == V_SKIP ? "SKIP" : verdict_name(vd->kind), v->name);
		fput_clean(f, vd->detail);
		return fprintf(f, ")\n") < 0 ? -1 : 0;
	}
	fprintf(f, "%-5s %s  (%s, %.1fs",
		vd->kind == V_PASS   ? "PASS"
		: vd->kind == V_SKIP ? "SKIP"
		: vd->kind == V_XFAIL ? "XFAIL"
				      : "FAIL",
		v->name, r->engine[0] ? r->engine : "?", r->wall_ms / 1000.0);
	if (r->attempts > 1)
		fprintf(f, ", %u attempts", r->attempts);
	/* Only the exception is spelled out, in capitals: a confined run is
	 * the norm and the summary says so once. */
	if (record_worker_sandboxed(r) == 0)
		fprintf(f, ", UNSANDBOXED worker");
	if (r->builder_sandboxed == 0)
		fprintf(f, ", UNSANDBOXED builder");
	/* Confined, but without the path limits Landlock adds (the kernel
	 * has none): said on every line, as an unsandboxed run is. */
	if (r->builder_sandboxed == 1 && r->builder_landlock == 0)
		fprintf(f, ", builder WITHOUT LANDLOCK");
	if (record_worker_sandboxed(r) == 1 && record_qemu_landlock(r) == 0)
		fprintf(f, ", QEMU WITHOUT LANDLOCK");
	report_run_metrics(f, vd, SIZE_MAX, ", ");
	fprintf(f, ")");
	if (vd->kind != V_PASS) {
		fprintf(f, " %s: ", verdict_name(vd->kind));
		fput_clean(f, vd->detail);
	}
	fputc('\n', f);
	return 0;
}

static void print_indented(FILE *f, const char *text, size_t len, unsigned max_lines)
{
	char *tail = text_tail_lines(text, len, max_lines);
	const char *p = tail;

	if (!tail)
		return;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		/* CRs and other control bytes a console may carry: blanked. */
		fputs("  | ", f);
		fput_clean_n(f, p, l);
		fputc('\n', f);
		p += l + (e ? 1 : 0);
	}
	free(tail);
}

/* Every failed check says what it was held to. The guest's CheckFailure
 * carries the limit as a number; its unit (and scale) is the check's
 * (guest/verdict.c). Unknown checks print the bare number. */
static void check_limit(const Ktstr__CheckFailure *cf, char *out, size_t len)
{
	static const struct {
		const char *check, *text, *unit;
		double scale;
	} units[] = {
		{ "starvation", "limit: more than 0 work units", NULL, 0 },
		{ "isolation", "limit: only the cgroup's CPUs", NULL, 0 },
		{ "gap", NULL, " ms", 1 },
		{ "spread", NULL, " %", 1 },
		{ "wake_latency", NULL, " us", 1e-3 },
		{ "iteration_rate", NULL, " iterations/s", 1 },
		{ "work_rate", NULL, " work units per CPU second", 1 },
		{ "migration", NULL, " migrations per iteration", 1 },
		{ "throughput", NULL, " CV", 1 },
		{ "wake_cv", NULL, " CV", 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(units[i].check, cf->check))
			continue;
		if (units[i].text)
			snprintf(out, len, "%s", units[i].text);
		else if (!cf->has_limit)
			snprintf(out, len, "limit not reported");
		else
			snprintf(out, len, "limit %g%s", cf->limit * units[i].scale, units[i].unit);
		return;
	}
	if (cf->has_limit)
		snprintf(out, len, "limit %g", cf->limit);
	else
		snprintf(out, len, "limit not reported");
}

/* The COM2 tail as people read it: the base64 TestResult between its
 * markers (guest_contract.h) is one line saying so, not kilobytes of
 * base64; everything else as the guest printed it. malloc'd, NULL on OOM. */
static char *com2_for_people(const char *buf, size_t len, size_t *outlen)
{
	const char *s = memmem(buf, len, KTSTR_COM2_RESULT_START, strlen(KTSTR_COM2_RESULT_START));
	const char *e = s ? memmem(s, len - (size_t)(s - buf), KTSTR_COM2_RESULT_END,
				   strlen(KTSTR_COM2_RESULT_END))
			  : NULL;
	char *out, note[96];
	size_t head, tail, nl;

	if (!s || !e) {
		out = malloc(len + 1);
		if (out) {
			memcpy(out, buf, len);
			*outlen = len;
		}
		return out;
	}
	head = (size_t)(s - buf);
	e += strlen(KTSTR_COM2_RESULT_END);
	tail = len - (size_t)(e - buf);
	nl = snprintf(note, sizeof(note), "[TestResult: %zu bytes of base64, not shown]",
		      (size_t)(e - s));
	out = malloc(head + nl + tail + 1);
	if (!out)
		return NULL;
	memcpy(out, buf, head);
	memcpy(out + head, note, nl);
	memcpy(out + head + nl, e, tail);
	*outlen = head + nl + tail;
	return out;
}

static void report_stats(FILE *f, const Ktstr__TestResult *tr)
{
	uint64_t migr = 0, worst_gap = 0;
	double worst_spread = 0;

	for (size_t i = 0; i < tr->n_workers; i++)
		migr += tr->workers[i]->migrations;
	for (size_t i = 0; i < tr->n_cgroups; i++) {
		if (tr->cgroups[i]->spread_pct > worst_spread)
			worst_spread = tr->cgroups[i]->spread_pct;
		if (tr->cgroups[i]->max_gap_ms > worst_gap)
			worst_gap = tr->cgroups[i]->max_gap_ms;
	}
	fprintf(f, "--- stats ---\n  %zu workers, %u cpus, %llu migrations, worst_spread=%.1f%%, "
		   "worst_gap=%llums\n",
		tr->n_workers, tr->guest_cpus, (unsigned long long)migr, worst_spread,
		(unsigned long long)worst_gap);
	for (size_t i = 0; i < tr->n_cgroups; i++) {
		const Ktstr__CgroupStats *c = tr->cgroups[i];

		fprintf(f, "  %s: %u workers on cpus %s, spread=%.1f%%, max_gap=%llums, work=%llu\n",
			c->name, c->workers, c->cpuset ? c->cpuset : "(all)", c->spread_pct,
			(unsigned long long)c->max_gap_ms, (unsigned long long)c->total_work_units);
	}
}

/* Lines of a payload's output tail the text report shows; the JSON has the
 * whole tail the guest kept (KTSTR_PAYLOAD_TAIL_BYTES). */
#define REPORT_PAYLOAD_LINES 40u

/* One section per payload run: how it ended, then its output's tail. The
 * guest bounded each field; these lines bound them again for people. */
static void report_payloads(FILE *f, const struct verdict *vd)
{
	const Ktstr__TestResult *tr = vd->tr;

	/* A test starts at most KTSTR_PAYLOAD_RUNS_MAX runs: a guest that
	 * reported more gets no page per extra one. */
	if (tr->n_payloads > KTSTR_PAYLOAD_RUNS_MAX)
		fprintf(f, "--- payloads: the guest reported %zu runs; the first %d are shown ---\n",
			tr->n_payloads, KTSTR_PAYLOAD_RUNS_MAX);
	for (size_t i = 0; i < tr->n_payloads && i < KTSTR_PAYLOAD_RUNS_MAX; i++) {
		const Ktstr__PayloadResult *p = tr->payloads[i];
		size_t olen = p->output ? strlen(p->output) : 0;

		fputs("--- payload ", f);
		fput_clean_max(f, p->name, 64);
		fputs(" ---\n  ", f);
		if (p->has_exit_status)
			fprintf(f, "exit %d", p->exit_status);
		else if (p->has_signal)
			fprintf(f, "killed by signal %u (%s)", p->signal, strsignal((int)p->signal));
		else
			fputs("did not end", f);
		fprintf(f, " (expected exit %u%s), %llu ms, %s, step %u, %llu bytes of output",
			p->expect_exit, p->has_judged && !p->judged ? ", not judged" : "",
			(unsigned long long)p->duration_ms, p->background ? "background" : "foreground",
			p->step, (unsigned long long)p->output_bytes);
		if (p->timed_out)
			fputs(", timed out", f);
		if (p->note) {
			fputs(": ", f);
			fput_clean_max(f, p->note, 200);
		}
		fputc('\n', f);
		if (report_run_metrics(f, vd, i, "  metrics: "))
			fputc('\n', f);
		if (p->output_bytes > olen)
			fprintf(f, "  | ... %llu earlier bytes not kept\n",
				(unsigned long long)(p->output_bytes - olen));
		if (olen)
			print_indented(f, p->output, olen, REPORT_PAYLOAD_LINES);
	}
}

/* The sched_ext debug dump PID 1 relayed on COM2 after the monitor's first
 * violation (guest/sched_dump.h: "sched_ext dump: " lines), at most
 * REPORT_DUMP_LINES of it. */
#define REPORT_DUMP_PREFIX "sched_ext dump: "
#define REPORT_DUMP_LINES 60u

static void report_sched_dump(FILE *f, const Ktstr__VmResult *vm)
{
	const char *p = (const char *)vm->guest_output.data;
	const char *end = p ? p + vm->guest_output.len : NULL;
	unsigned shown = 0, more = 0;

	fprintf(f, "  sched_ext debug dump (SysRq-D), requested on the first violation:\n");
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		if ((size_t)(e - p) >= strlen(REPORT_DUMP_PREFIX) &&
		    !memcmp(p, REPORT_DUMP_PREFIX, strlen(REPORT_DUMP_PREFIX))) {
			if (shown < REPORT_DUMP_LINES) {
				fputs("  | ", f);
				fput_clean_n(f, p + strlen(REPORT_DUMP_PREFIX),
					    (size_t)(e - p) - strlen(REPORT_DUMP_PREFIX));
				fputc('\n', f);
				shown++;
			} else {
				more++;
			}
		}
		p = e + 1;
	}
	if (!shown)
		fprintf(f, "  | (none relayed: the request came after the scenario's last tick)\n");
	if (more)
		fprintf(f, "  | ... %u more lines in the guest output\n", more);
}

/* Printed as data: the worker bounded the report; these lines cap it again
 * for people (at most REPORT_MONITOR_CPUS CPUs, every kept violation). */
#define REPORT_MONITOR_CPUS 16u

static void report_monitor(FILE *f, const Ktstr__VmResult *vm)
{
	const Ktstr__MonitorReport *m = vm ? vm->monitor : NULL;

	if (!m) {
		if (vm && vm->monitor_off) {
			fputs("--- monitor ---\n  off: ", f);
			fput_clean(f, vm->monitor_off);
			fputc('\n', f);
		}
		return;
	}
	fputs("--- monitor ---\n  ", f);
	fput_clean(f, m->summary ? m->summary : "?");
	fputc('\n', f);
	fprintf(f, "  %llu samples (%llu judged, %llu implausible), worst imbalance %.1f "
		   "(limit %.1f), local DSQ limit %u, %u consecutive samples\n",
		(unsigned long long)m->samples, (unsigned long long)m->evaluated,
		(unsigned long long)m->implausible, m->worst_imbalance_ratio, m->max_imbalance_ratio,
		m->max_local_dsq_depth, m->sustained_samples);
	for (size_t i = 0; i < m->n_violations; i++) {
		const ProtobufCEnumValue *cv = protobuf_c_enum_descriptor_get_value(
			&ktstr__monitor_check__descriptor, m->violations[i]->check);

		fprintf(f, "  [%s] ", cv ? cv->name : "?");
		fput_clean(f, m->violations[i]->message);
		fputc('\n', f);
	}
	for (size_t i = 0; i < m->n_cpu_peaks && i < REPORT_MONITOR_CPUS; i++)
		fprintf(f, "  cpu%u: peak nr_running %u, peak local DSQ %u\n", m->cpu_peaks[i]->cpu,
			m->cpu_peaks[i]->max_nr_running, m->cpu_peaks[i]->max_local_dsq);
	if (m->n_cpu_peaks > REPORT_MONITOR_CPUS || m->cpu_peaks_omitted)
		fprintf(f, "  ... more CPUs in the JSON report\n");
	if (m->debug_dump_requested)
		report_sched_dump(f, vm);
	if (m->cost_samples && m->interval_ms)
		fprintf(f, "  cost: %.1f us of worker CPU per sample (max %.1f us), %.3f %% of one "
			   "host CPU at %u ms\n",
			(double)m->cost_ns / (double)m->cost_samples / 1e3, (double)m->cost_max_ns / 1e3,
			(double)m->cost_ns / (double)m->cost_samples / (m->interval_ms * 1e6) * 100.0,
			m->interval_ms);
	if (m->has_watchdog_timeout_ms)
		fprintf(f, "  sched_ext watchdog: %u ms, written %llu times%s%.120s\n",
			m->watchdog_timeout_ms, (unsigned long long)m->watchdog_writes,
			m->watchdog_note ? ": " : "", m->watchdog_note ? m->watchdog_note : "");
}

/* What the monitor saw during one phase of the timeline ("" when it was
 * off), one line. The worker is trusted no more than its bounds. */
static void put_phase(FILE *f, const Ktstr__MonitorPhase *ph)
{
	fprintf(f, "      monitor: %llu samples (%llu judged), peak nr_running %u, worst "
		   "imbalance %.1f, peak local DSQ %u",
		(unsigned long long)ph->samples, (unsigned long long)ph->evaluated,
		ph->max_nr_running, ph->worst_imbalance_ratio, ph->max_local_dsq);
	if (ph->violations)
		fprintf(f, ", %u violation%s", ph->violations, ph->violations == 1 ? "" : "s");
	fputc('\n', f);
}

/* The monitor's phase for step, or NULL (no monitor, or none that matches). */
static const Ktstr__MonitorPhase *phase_of(const Ktstr__VmResult *vm, bool has_step, uint32_t step)
{
	const Ktstr__MonitorReport *m = vm ? vm->monitor : NULL;

	for (size_t i = 0; m && i < m->n_phases; i++) {
		const Ktstr__MonitorPhase *ph = m->phases[i];

		if (ph && ph->has_step_index == has_step && (!has_step || ph->step_index == step))
			return ph;
	}
	return NULL;
}

/* The timeline: each STIMULUS the guest sent, joined to what the monitor
 * sampled while that step lasted. */
static void report_timeline(FILE *f, const struct verdict *vd, const Ktstr__VmResult *vm)
{
	const Ktstr__MonitorPhase *ph = phase_of(vm, false, 0);

	if (ph && ph->samples) {
		fprintf(f, "  before the first step (boot, scheduler attach):\n");
		put_phase(f, ph);
	}
	if (!vd->nstimuli)
		fprintf(f, "  (no STIMULUS events received)\n");
	for (size_t i = 0; i < vd->nstimuli && i < REPORT_TIMELINE_MAX; i++) {
		const Ktstr__Stimulus *st = vd->stimuli[i];

		fprintf(f, "  +%ums step %u: %u ops, %u cgroups, %u workers, %llu iterations\n",
			st->elapsed_ms, st->step_index, st->op_count, st->cgroup_count,
			st->worker_count, (unsigned long long)st->total_iterations);
		if ((ph = phase_of(vm, true, st->step_index)))
			put_phase(f, ph);
	}
	if (vd->nstimuli > REPORT_TIMELINE_MAX)
		fprintf(f, "  ... %zu more STIMULUS events (the JSON report has them all)\n",
			vd->nstimuli - REPORT_TIMELINE_MAX);
}

int report_failure(FILE *f, const struct suite *s, const struct plan *p,
		   const struct test_record *r)
{
	const struct variant *v = &p->v[r->vidx];
	const struct test_def *t = &s->tests[v->test];
	const struct verdict *vd = &r->verdict;
	const Ktstr__TestResult *tr = vd->tr;
	const Ktstr__VmResult *vm = r->vm;
	char topo[32], prof[256];
	char *schedlog = NULL;

	topo_label(&v->topo, topo, sizeof(topo));
	profile_name(&s->scheds[t->sched], v->profile, prof, sizeof(prof));
	/* Fingerprint first: the last scheduler-log line is usually the cause. */
	if (tr && tr->scheduler_log_tail && *tr->scheduler_log_tail) {
		schedlog = strdup(tr->scheduler_log_tail);
	} else if (vm && vm->has_guest_output) {
		schedlog = text_between((const char *)vm->guest_output.data, vm->guest_output.len,
					KTSTR_COM2_SCHED_START, KTSTR_COM2_SCHED_END);
	}
	fprintf(f, "\n==== %s %s [sched=%s] [topo=%s] [profile=%s] [engine=%s] ====\n",
		verdict_name(vd->kind), v->name, s->scheds[t->sched].name, topo, prof,
		r->engine[0] ? r->engine : "none");
	if (schedlog && *schedlog) {
		char *fp = text_tail_lines(schedlog, strlen(schedlog), 1);

		if (fp && *fp)
			fprintf(f, "fingerprint: %s\n", fp);
		free(fp);
	}
	fput_clean(f, vd->detail);
	fputc('\n', f);
	if (tr && tr->n_failures) {
		fprintf(f, "--- failed checks ---\n");
		for (size_t i = 0; i < tr->n_failures; i++) {
			char lim[96];

			check_limit(tr->failures[i], lim, sizeof(lim));
			fputs("  [", f);
			fput_clean(f, tr->failures[i]->check);
			fputs("] ", f);
			fput_clean(f, tr->failures[i]->message);
			fprintf(f, " (%s)\n", lim);
		}
	}
	if (tr && (tr->n_workers || tr->n_cgroups))
		report_stats(f, tr);
	if (tr)
		report_payloads(f, vd);
	fprintf(f, "--- diagnostics ---\n");
	if (vm) {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, vm->outcome);

		fprintf(f, "  VM ended: %s", ev ? ev->name : "?");
		if (vm->has_guest_exit_code)
			fprintf(f, ", guest exit code %d", vm->guest_exit_code);
		if (vm->kernel_version)
			fprintf(f, ", %s", vm->kernel_version);
		fputc('\n', f);
		if (vm->error)
			fprintf(f, "  %s: %s%s%s%s%s\n",
				vm->outcome == KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD ? "stopped by the worker"
										    : "engine error",
				vm->error->what,
				vm->error->where ? " at " : "", vm->error->where ? vm->error->where : "",
				vm->error->why ? ": " : "", vm->error->why ? vm->error->why : "");
		if (vm->ring_crc_errors || vm->ring_drops)
			fprintf(f, "  SHM ring: %llu messages, %u CRC errors, %llu dropped (%llu by the "
				   "host), %llu not relayed live\n",
				(unsigned long long)vm->ring_messages_total, vm->ring_crc_errors,
				(unsigned long long)vm->ring_drops,
				(unsigned long long)vm->ring_host_drops,
				(unsigned long long)vm->ring_live_suppressed);
	} else {
		fprintf(f, "  no VM result (infrastructure failure)\n");
	}
	if (tr && tr->sched_exit_reason) {
		fputs("  sched_ext exit: ", f);
		fput_clean(f, tr->sched_exit_reason);
		fputc('\n', f);
	}
	if (vd->sched_exit && vd->sched_exit->reason) {
		fputs("  scheduler exit: ", f);
		fput_clean(f, vd->sched_exit->reason);
		fputc('\n', f);
	}
	if (vd->crash) {
		fprintf(f, "--- guest crash ---\n");
		print_indented(f, vd->crash, strlen(vd->crash), REPORT_TAIL_LINES);
	}
	report_monitor(f, vm);
	fprintf(f, "--- timeline ---\n  kernel %s, topology %s, scheduler %s, duration %ums\n",
		vm && vm->kernel_version ? vm->kernel_version
		: tr && tr->kernel_release ? tr->kernel_release
		/* The guest never said: the kernel the plan gave this test. */
		: v->kernel < p->nkernels && p->kernels[v->kernel].id ? p->kernels[v->kernel].id
								       : "?",
		topo, s->scheds[t->sched].name,
		t->scenario ? t->scenario->duration_ms : 0);
	report_timeline(f, vd, vm);
	if (schedlog && *schedlog) {
		fprintf(f, "--- scheduler log (tail) ---\n");
		print_indented(f, schedlog, strlen(schedlog), REPORT_TAIL_LINES);
	}
	free(schedlog);
	if (vm && vm->has_guest_output && vm->guest_output.len) {
		size_t n;
		char *text = com2_for_people((const char *)vm->guest_output.data,
					     vm->guest_output.len, &n);

		fprintf(f, "--- guest output COM2 (tail) ---\n");
		if (text)
			print_indented(f, text, n, REPORT_TAIL_LINES);
		free(text);
	}
	if (vm && vm->has_console_tail && vm->console_tail.len) {
		fprintf(f, "--- console COM1 (tail) ---\n");
		print_indented(f, (const char *)vm->console_tail.data, vm->console_tail.len,
			       REPORT_TAIL_LINES);
	}
	return 0;
}

int report_text(const struct suite *s, const struct plan *p, const struct test_record *r,
		char **out, size_t *len)
{
	char cut[64];
	int cutlen = snprintf(cut, sizeof(cut), "\n[report cut at %u bytes]\n", REPORT_TEXT_MAX);
	char *text = NULL;
	size_t tlen = 0;
	FILE *mf = open_memstream(&text, &tlen);

	*out = NULL;
	*len = 0;
	if (!mf)
		return -ENOMEM;
	report_failure(mf, s, p, r);
	if (fclose(mf) || !text) {
		free(text);
		return -ENOMEM;
	}
	if (tlen > REPORT_TEXT_MAX) {
		/* The head: verdict, checks and diagnostics come first. */
		memcpy(text + REPORT_TEXT_MAX - cutlen, cut, (size_t)cutlen);
		tlen = REPORT_TEXT_MAX;
		text[tlen] = '\0';
	}
	*out = text;
	*len = tlen;
	return 0;
}

int report_note_attempt(const struct suite *s, const struct plan *p, struct test_record *r)
{
	char *text;
	size_t len;

	if (report_text(s, p, r, &text, &len))
		return -ENOMEM;
	return record_note_attempt(r, text, len);
}

void report_summary(FILE *f, const struct run_totals *t)
{
	fprintf(f, "%zu passed, %zu failed, %zu skipped", t->passed, t->failed, t->skipped);
	if (t->xfailed)
		fprintf(f, ", %zu expected failure%s", t->xfailed, t->xfailed == 1 ? "" : "s");

	fputc('\n', f);
}

void report_sandbox(FILE *f, const struct test_record *r, size_t n)
{
	size_t ran = 0, wconf = 0, wopen = 0, wunknown = 0, bconf = 0, bopen = 0;
	char unknown[128] = "";

	for (size_t i = 0; i < n; i++) {
		int w = record_worker_sandboxed(&r[i]);

		ran += w >= 0;
		wconf += w == 1;
		wopen += w == 0;
		wunknown += r[i].vm && w < 0;
		bconf += r[i].builder_sandboxed == 1;
		bopen += r[i].builder_sandboxed == 0;
	}
	if (!ran && !wunknown && !bconf && !bopen)
		return;
	if (wunknown)
		snprintf(unknown, sizeof(unknown),
			 " (%zu more unknown: no result from the worker)", wunknown);
	if (!wopen && !bopen) {
		fprintf(f, "sandbox: confined: %zu of %zu VM workers%s, the initramfs builder for "
			   "%zu tests\n", wconf, ran, unknown, bconf);
		return;
	}
	fprintf(f, "WARNING: UNSANDBOXED: %zu of %zu VM workers and the initramfs builder for %zu "
		   "of %zu tests ran without confinement (--insecure-no-sandbox or a host that "
		   "cannot confine): a hostile guest or input file had this user's full "
		   "authority\n",
		wopen, ran, bopen, bconf + bopen);
}

static const char *scx_word(int scx)
{
	return scx == 1 ? "yes" : scx == 0 ? "no" : "unknown";
}

int report_list(FILE *f, const struct suite *s, const struct plan *p, const struct host_caps *hc,
		const struct kernel_choice *kc, size_t nkc)
{
	size_t run = 0, skip = 0, drop = 0;
	char host[512];

	hostcaps_describe(hc, host, sizeof(host));
	/* An x86_64 plan's header is as it always was. */
	if (p->arch != KTSTR__ARCH__ARCH_X86_64 &&
	    strlen(host) + 32 < sizeof(host))
		snprintf(host + strlen(host), sizeof(host) - strlen(host), "; guest %s",
			 ktstr_arch_name(p->arch));
	if (nkc < 2) {
		fprintf(f, "# host: %s; kernel %s (sched_ext %s)\n", host,
			nkc && kc->image[0] ? kc->image : "(none)", scx_word(nkc ? kc->scx : -1));
	} else {
		/* Each with the label that ends its variants' names. */
		fprintf(f, "# host: %s; kernels", host);
		for (size_t k = 0; k < nkc; k++)
			fprintf(f, "%s k=%s %s (sched_ext %s)", k ? "," : "",
				k < p->nkernels ? p->kernels[k].label : "?", kc[k].image,
				scx_word(kc[k].scx));
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct variant *v = &p->v[i];
		char topo[32], prof[256];

		topo_label(&v->topo, topo, sizeof(topo));
		variant_profile_name(s, v, prof, sizeof(prof));
		fprintf(f, "%-4s %-50s %-10s %-12s %s%s\n", variant_state_name(v->state), v->name,
			topo, prof, v->reason[0] ? "# " : "", v->reason);
		if (v->state == VAR_KEPT)
			run++;
		else if (v->state == VAR_SKIP_HOST || v->state == VAR_SKIP_KERNEL)
			skip++;
		else if (v->state != VAR_REFUSED_ARCH)
			drop++;
	}
	fprintf(f, "%zu variants: %zu run, %zu skipped, %zu dropped", p->n, run, skip, drop);
	if (p->refused)
		fprintf(f, ", %zu refused (cannot run on an %s guest)", p->refused,
			ktstr_arch_name(p->arch));
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

void progress_init(struct progress *pg, FILE *f, size_t total)
{
	memset(pg, 0, sizeof(*pg));
	pg->f = f;
	pg->tty = isatty(fileno(f)) && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
	pg->total = total;
}

void progress_update(struct progress *pg, const char *current)
{
	if (!pg->tty)
		return;
	snprintf(pg->cur, sizeof(pg->cur), "%.60s", current ? current : "");
	progress_redraw(pg);
}

void progress_redraw(struct progress *pg)
{
	if (!pg->tty)
		return;
	fprintf(pg->f, "\r\033[K[%zu/%zu] %zu running%s%s", pg->done, pg->total, pg->running,
		pg->cur[0] ? ": " : "", pg->cur);
	fflush(pg->f);
	pg->shown = true;
}

void progress_clear(struct progress *pg)
{
	if (pg->tty && pg->shown) {
		fputs("\r\033[K", pg->f);
		fflush(pg->f);	/* before stdout's line, which shares the terminal */
		pg->shown = false;
	}
}
