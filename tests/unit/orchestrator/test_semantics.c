/* Flag profiles and merge order, using the reference guide's cases. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/asserts.h>
#include <ktstr/scenario_rules.h>
#include <ktstr/util.h>

#include "guest.pb-c.h"
#include "helpers.h"
#include "merge.h"
#include "profiles.h"

static const char *my_sched =
	"schedulers:\n"
	"  - name: my_sched\n"
	"    binary: scx_my_sched\n"
	"    topology: \"1,2,4,1\"\n"
	"    cgroup_parent: /ktstr\n"
	"    sched_args: [--exit-dump-len, \"1048576\"]\n"
	"    flags:\n"
	"      - {name: llc, args: [--enable-llc]}\n"
	"      - {name: steal, args: [--enable-stealing], requires: [llc]}\n"
	"      - {name: borrow, args: [--borrow]}\n"
	"    asserts: {max_throughput_cv: 5.0, max_gap_ms: 3000}\n"
	"tests:\n"
	"  - {name: plain, scheduler: my_sched}\n"
	"  - {name: req, scheduler: my_sched, required_flags: [steal], extra_sched_args: [--x, --y]}\n"
	"  - {name: excl, scheduler: my_sched, excluded_flags: [llc]}\n"
	"  - {name: smt, scheduler: my_sched, topology: {threads_per_core: 2},\n"
	"     asserts: {max_gap_ms: 100, isolation: true}}\n";

static char *names(const struct sched_def *sd, const uint32_t *m, size_t n)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char p[128];

		profile_name(sd, m[i], p, sizeof(p));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "", p);
	}
	return buf;
}

Test(profiles, every_combination_whose_requires_hold_in_declaration_order)
{
	struct suite *s = parse_ok(my_sched);
	const struct sched_def *sd = &s->scheds[1];
	uint32_t *m;
	size_t n;

	cr_assert_eq(profiles_generate(sd, 0, 0, &m, &n), 0);
	/* steal without llc is dropped; names join active flags with '+'. */
	cr_assert_str_eq(names(sd, m, n), "default,llc,llc+steal,borrow,llc+borrow,llc+steal+borrow");
	free(m);
	suite_free(s);
}

Test(profiles, required_flags_always_in_excluded_never)
{
	struct suite *s = parse_ok(my_sched);
	const struct sched_def *sd = &s->scheds[1];
	const struct test_def *req = &s->tests[1], *excl = &s->tests[2];
	uint32_t *m;
	size_t n;

	cr_assert_eq(profiles_generate(sd, req->required_mask, req->excluded_mask, &m, &n), 0);
	cr_assert_str_eq(names(sd, m, n), "llc+steal,llc+steal+borrow");
	free(m);
	/* Excluding llc removes steal too: its requires can never hold. */
	cr_assert_eq(profiles_generate(sd, excl->required_mask, excl->excluded_mask, &m, &n), 0);
	cr_assert_str_eq(names(sd, m, n), "default,borrow");
	free(m);
	suite_free(s);
}

Test(merge, sched_args_cgroup_parent_then_sched_args_then_extra_then_flags)
{
	struct suite *s = parse_ok(my_sched);
	struct strv args = { 0 };
	char *joined;

	cr_assert_eq(merge_sched_args(&s->scheds[1], &s->tests[1], 0x3, &args), 0);
	joined = strv_join(&args, " ");
	cr_assert_str_eq(joined, "--cell-parent-cgroup /ktstr --exit-dump-len 1048576 --x --y "
				 "--enable-llc --enable-stealing");
	free(joined);
	strv_free(&args);
	suite_free(s);
}

Test(merge, asserts_default_then_scheduler_then_test_last_set_wins)
{
	struct suite *s = parse_ok(my_sched);
	Ktstr__AssertSpec a;

	merge_asserts(&s->scheds[1], &s->tests[3], &a);
	cr_assert(a.has_not_starved && a.not_starved, "default kept");
	cr_assert_float_eq(a.max_spread_pct, 15.0, 1e-9, "default kept");
	cr_assert_float_eq(a.max_throughput_cv, 5.0, 1e-9, "the scheduler's field reaches the test");
	cr_assert_eq(a.max_gap_ms, 100, "test overrides scheduler");
	cr_assert(a.has_isolation && a.isolation, "test adds a check");
	merge_asserts(&s->scheds[1], &s->tests[0], &a);
	cr_assert_eq(a.max_gap_ms, 3000, "scheduler value when the test sets none");
	suite_free(s);
}

Test(merge, topology_per_dimension_override)
{
	struct suite *s = parse_ok(my_sched);
	struct ktstr_topo t = merge_topology(&s->scheds[1], &s->tests[3]);
	struct ktstr_topo d = merge_topology(&s->scheds[0], &s->tests[0]);

	cr_assert_eq(t.numa_nodes, 1);
	cr_assert_eq(t.llcs, 2, "inherited from the scheduler");
	cr_assert_eq(t.cores_per_llc, 4, "inherited from the scheduler");
	cr_assert_eq(t.threads_per_core, 2, "overridden by the test");
	/* EEVDF default topology 1,1,2,1 */
	cr_assert(d.numa_nodes == 1 && d.llcs == 1 && d.cores_per_llc == 2 && d.threads_per_core == 1);
	suite_free(s);
}

Test(merge, sysctls_become_kernel_args_before_kargs)
{
	struct suite *s = parse_ok("schedulers:\n"
				   "  - name: s\n"
				   "    binary: none\n"
				   "    sysctls: [kernel.a=1, vm.b=2]\n"
				   "    kargs: [quiet, foo=bar]\n"
				   "tests: [{name: t, scheduler: s}]\n");
	struct strv cmd = { 0 };
	char *j;

	cr_assert_eq(merge_cmdline(&s->scheds[1], &cmd), 0);
	j = strv_join(&cmd, " ");
	cr_assert_str_eq(j, "sysctl.kernel.a=1 sysctl.vm.b=2 quiet foo=bar");
	free(j);
	strv_free(&cmd);
	suite_free(s);
}

Test(suite, unknown_keys_are_errors_everywhere)
{
	cr_assert(strstr(parse_err("tests: [{name: t, asserts: {max_spred_pct: 1}}]\n"),
			 "unknown key 'max_spred_pct' in asserts"));
	cr_assert(strstr(parse_err("schedulers: [{name: s, binary: none, colour: red}]\ntests: []\n"),
			 "unknown key 'colour' in scheduler"));
	cr_assert(strstr(parse_err("tests: [{name: t, scenario: {cgroups: [{name: a, wrkers: 2}]}}]\n"),
			 "unknown key 'wrkers' in scenario.cgroups"));
	cr_assert(strstr(parse_err("tests: [{name: t, constraints: {max_lcs: 2}}]\n"),
			 "unknown key 'max_lcs' in constraints"));
}

Test(suite, inline_scenario_defaults_to_the_test_name)
{
	struct suite *s = parse_ok("tests:\n  - name: mine\n    scenario: {cgroups: [{name: a}]}\n"
				   "    duration: 1.5s\n");

	cr_assert_str_eq(s->tests[0].scenario->name, "mine");
	cr_assert_eq(s->tests[0].scenario->duration_ms, 1500);
	cr_assert_eq(s->tests[0].scenario->cgroups[0]->workers, 2, "proto default");
	suite_free(s);
}

/* Every AssertSpec field is judged or refused (ktstr/asserts.h): walks the
 * wire format, so a field added to proto/guest.proto without an evaluator
 * makes suites that set it fail to parse, never pass on a check that did not
 * run. A monitor field must reach the MonitorSpec the worker's monitor
 * judges with (the guest's side: verdict_test.c, every guest field fails a
 * violating run). */
Test(asserts, every_field_is_judged_by_the_guest_or_the_monitor_or_refused)
{
	const ProtobufCMessageDescriptor *d = &ktstr__assert_spec__descriptor;
	const ProtobufCMessageDescriptor *md = &ktstr__monitor_spec__descriptor;
	unsigned guest = 0, monitor = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *value = f->type == PROTOBUF_C_TYPE_BOOL ? "false" : "7";
		char yaml[256], want[96];

		/* Under a sched_ext scheduler: under EEVDF the monitor's fields
		 * are refused (monitor_checks_under_eevdf). */
		snprintf(yaml, sizeof(yaml),
			 "schedulers: [{name: s, binary: scx_s}]\n"
			 "tests:\n  - name: t\n    scheduler: s\n    asserts: {%s: %s}\n",
			 f->name, value);
		switch (ktstr_assert_judge(f->name)) {
		case KTSTR_ASSERT_BY_GUEST:
			suite_free(parse_ok(yaml));
			guest++;
			break;
		case KTSTR_ASSERT_BY_MONITOR: {
			struct suite *s = parse_ok(yaml);
			Ktstr__MonitorSpec ms;
			const ProtobufCFieldDescriptor *mf =
				protobuf_c_message_descriptor_get_field_by_name(md, f->name);

			cr_assert_not_null(mf, "monitor field %s is not in MonitorSpec", f->name);
			merge_monitor(&s->scheds[s->tests[0].sched], &s->tests[0], &ms);
			cr_assert(*(protobuf_c_boolean *)((char *)&ms + mf->quantifier_offset),
				  "%s does not reach MonitorSpec", f->name);
			if (f->type == PROTOBUF_C_TYPE_BOOL)
				cr_assert_eq(*(protobuf_c_boolean *)((char *)&ms + mf->offset), 0);
			else if (f->type == PROTOBUF_C_TYPE_DOUBLE)
				cr_assert_float_eq(*(double *)((char *)&ms + mf->offset), 7.0, 1e-9);
			else
				cr_assert_eq(*(uint32_t *)((char *)&ms + mf->offset), 7u, "%s", f->name);
			suite_free(s);
			monitor++;
			break;
		}
		default:
			snprintf(want, sizeof(want), "asserts.%s: ", f->name);
			cr_assert(strstr(parse_err(yaml), want), "%s: %s", f->name, parse_err(yaml));
		}
	}
	cr_assert_gt(guest, 0);
	cr_assert_eq(monitor, 4, "imbalance, DSQ depth, stall, sustained samples");
}

/* watchdog_timeout: the test's, else the scheduler's, else MonitorSpec's
 * default (proto/worker.proto: 4 s, its one home), always marked set so the
 * spec on the wire is what it was when merge.c kept its own copy. */
Test(merge, watchdog_timeout_test_then_scheduler_then_the_proto_default)
{
	struct suite *s = parse_ok("schedulers:\n  - {name: a, binary: scx_a, watchdog_timeout: 2s}\n"
				   "  - {name: b, binary: scx_b}\n"
				   "tests:\n  - {name: t1, scheduler: a}\n"
				   "  - {name: t2, scheduler: a, watchdog_timeout: 1500ms}\n"
				   "  - {name: t3}\n  - {name: t4, scheduler: b}\n");
	const ProtobufCFieldDescriptor *wf = protobuf_c_message_descriptor_get_field_by_name(
		&ktstr__monitor_spec__descriptor, "watchdog_timeout_ms");
	Ktstr__MonitorSpec ms, blank = KTSTR__MONITOR_SPEC__INIT;

	cr_assert(wf && wf->default_value, "MonitorSpec declares the default");
	cr_assert_eq(*(const uint32_t *)wf->default_value, 4000, "the documented 4 s");
	merge_monitor(&s->scheds[s->tests[0].sched], &s->tests[0], &ms);
	cr_assert(ms.has_watchdog_timeout_ms);
	cr_assert_eq(ms.watchdog_timeout_ms, 2000);
	merge_monitor(&s->scheds[s->tests[1].sched], &s->tests[1], &ms);
	cr_assert_eq(ms.watchdog_timeout_ms, 1500);
	for (size_t i = 2; i < 4; i++) {
		merge_monitor(&s->scheds[s->tests[i].sched], &s->tests[i], &ms);
		cr_assert(ms.has_watchdog_timeout_ms, "%s: sent as before", s->tests[i].name);
		cr_assert_eq(ms.watchdog_timeout_ms, blank.watchdog_timeout_ms, "%s",
			     s->tests[i].name);
		cr_assert_eq(ms.watchdog_timeout_ms, 4000, "%s", s->tests[i].name);
	}
	cr_assert(!ms.has_max_imbalance_ratio && ms.max_imbalance_ratio == 4.0,
		  "unset thresholds keep MonitorSpec's defaults");
	suite_free(s);
}

/* Monitor checks are never judged under EEVDF (no sched_ext scheduler to
 * enable, no sched_ext watchdog to lower): a test under EEVDF, or an EEVDF
 * scheduler entry, that writes watchdog_timeout or a monitor-judged assert
 * is refused at the key, with why and what to do (docs/suite-format.md). */
Test(suite, monitor_checks_under_eevdf_are_refused_where_written)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
		/* A test without scheduler: runs under the built-in eevdf. */
		{ "tests:\n  - name: t\n    watchdog_timeout: 2s\n",
		  "test.yaml:3:5: watchdog_timeout: monitor checks do not run under EEVDF: test 't' "
		  "runs under eevdf (no sched_ext scheduler), so there is no sched_ext watchdog to "
		  "lower; remove it, or give the test a sched_ext scheduler" },
		{ "tests:\n  - name: t\n    asserts: {max_gap_ms: 10, max_imbalance_ratio: 2}\n",
		  "test.yaml:3:31: asserts.max_imbalance_ratio: monitor checks do not run under "
		  "EEVDF: test 't' runs under eevdf (no sched_ext scheduler), and the host-side "
		  "monitor judges only while one is enabled; remove it, or give the test a "
		  "sched_ext scheduler" },
		{ "tests:\n  - {name: t, scheduler: eevdf, asserts: {max_local_dsq_depth: 3}}\n",
		  "test.yaml:2:43: asserts.max_local_dsq_depth: monitor checks do not run under EEVDF" },
		{ "tests:\n  - {name: t, asserts: {fail_on_stall: false}}\n",
		  "test.yaml:2:25: asserts.fail_on_stall: monitor checks" },
		{ "tests:\n  - {name: t, asserts: {sustained_samples: 9}}\n",
		  "test.yaml:2:25: asserts.sustained_samples: monitor checks" },
		/* A test under a user's EEVDF entry. */
		{ "schedulers: [{name: plain, binary: none}]\n"
		  "tests:\n  - {name: t, scheduler: plain, watchdog_timeout: 3s}\n",
		  "test.yaml:3:33: watchdog_timeout: monitor checks do not run under EEVDF: test 't' "
		  "runs under 'plain' (binary: none) (no sched_ext scheduler)" },
		/* The EEVDF entry itself: what every test of it would inherit. */
		{ "schedulers:\n  - name: plain\n    binary: none\n    watchdog_timeout: 3s\n"
		  "tests:\n  - {name: t, scheduler: plain}\n",
		  "test.yaml:4:5: watchdog_timeout: monitor checks do not run under EEVDF: scheduler "
		  "'plain' has binary: none (no sched_ext scheduler), so there is no sched_ext "
		  "watchdog to lower; remove it, or give it a sched_ext binary" },
		{ "schedulers:\n  - name: plain\n    binary: none\n"
		  "    asserts: {max_spread_pct: 50, sustained_samples: 9}\n"
		  "tests:\n  - {name: t, scheduler: plain}\n",
		  "test.yaml:4:35: asserts.sustained_samples: monitor checks do not run under EEVDF: "
		  "scheduler 'plain' has binary: none" },
		/* Refused even with no test under it: it would still do nothing. */
		{ "schedulers: [{name: plain, binary: none, asserts: {max_imbalance_ratio: 2}}]\n"
		  "tests: []\n",
		  "asserts.max_imbalance_ratio: monitor checks do not run under EEVDF" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = parse_err(bad[i].yaml);

		cr_assert(strstr(err, bad[i].want), "case %zu:\n%s\nwant: %s", i, err, bad[i].want);
	}
}

/* What stays accepted: the same fields under a sched_ext scheduler (a
 * binary, or one built into the kernel), an EEVDF test next to them, an
 * EEVDF test with only the guest's asserts, and EEVDF's defaults, which
 * the user did not write. */
Test(suite, monitor_checks_under_sched_ext_and_defaults_under_eevdf_are_accepted)
{
	struct suite *s = parse_ok(
		"schedulers:\n"
		"  - {name: a, binary: scx_a, watchdog_timeout: 2s, asserts: {max_imbalance_ratio: 3}}\n"
		"  - name: kb\n    binary: {kernel_builtin: {enable: [\"true\"]}}\n"
		"    watchdog_timeout: 5s\n    asserts: {fail_on_stall: false}\n"
		"  - {name: plain, binary: none, asserts: {max_gap_ms: 900}}\n"
		"tests:\n"
		"  - {name: t1, scheduler: a, watchdog_timeout: 1s, asserts: {sustained_samples: 7}}\n"
		"  - {name: t2, scheduler: kb, asserts: {max_local_dsq_depth: 9}}\n"
		"  - {name: t3, asserts: {max_spread_pct: 30, not_starved: true}}\n"
		"  - {name: t4, scheduler: plain}\n");
	Ktstr__MonitorSpec ms;

	merge_monitor(&s->scheds[s->tests[0].sched], &s->tests[0], &ms);
	cr_assert_eq(ms.watchdog_timeout_ms, 1000);
	cr_assert_eq(ms.sustained_samples, 7);
	cr_assert_float_eq(ms.max_imbalance_ratio, 3.0, 1e-9);
	merge_monitor(&s->scheds[s->tests[1].sched], &s->tests[1], &ms);
	cr_assert_eq(ms.watchdog_timeout_ms, 5000);
	cr_assert_eq(ms.max_local_dsq_depth, 9);
	cr_assert(ms.has_fail_on_stall && !ms.fail_on_stall);
	for (size_t i = 2; i < 4; i++) {
		merge_monitor(&s->scheds[s->tests[i].sched], &s->tests[i], &ms);
		cr_assert(!ms.has_max_imbalance_ratio && !ms.has_sustained_samples,
			  "%s: EEVDF, nothing written: the defaults", s->tests[i].name);
	}
	suite_free(s);
}

/* A one-cgroup inline scenario test: `cg` is the cgroup's flow mapping. */
static const char *one_cg(const char *topology, const char *cg)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "tests:\n  - name: t\n    topology: %s\n    scenario:\n      cgroups:\n"
		 "        - %s\n",
		 topology, cg);
	return buf;
}

/* Every work type that runs its workers in groups (guest/work*.c; the rule
 * is ktstr_work_group_size, shared with the guest): a count that is not a
 * multiple of the group is refused where `workers` is written. */
Test(scenario_rules, every_grouped_work_type_needs_a_multiple_of_its_group)
{
	static const struct {
		const char *work;
		unsigned group;
	} g[] = {
		{ "{type: pipe_io}", 2 },
		{ "{type: futex_ping_pong}", 2 },
		{ "{type: cache_pipe}", 2 },
		{ "{type: futex_fan_out}", 5 },
		{ "{type: futex_fan_out, fan_out: 2}", 3 },
		{ "{type: mutex_contention}", 4 },
		{ "{type: mutex_contention, contenders: 3}", 3 },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		char cg[256], want[64];
		struct suite *s;

		snprintf(cg, sizeof(cg), "{name: a, workers: %u, work: %s}", g[i].group + 1, g[i].work);
		snprintf(want, sizeof(want), "use a multiple of %u", g[i].group);
		cr_assert(strstr(parse_err(one_cg("{}", cg)), want), "%s: %s", g[i].work,
			  parse_err(one_cg("{}", cg)));
		cr_assert(strstr(parse_err(one_cg("{}", cg)), "test.yaml:6:30: scenario.cgroups[0].workers: "),
			  "%s", parse_err(one_cg("{}", cg)));
		snprintf(cg, sizeof(cg), "{name: a, workers: %u, work: %s}", 2 * g[i].group, g[i].work);
		s = parse_ok(one_cg("{}", cg));
		suite_free(s);
	}
	/* Ungrouped types take any count. */
	suite_free(parse_ok(one_cg("{}", "{name: a, workers: 3, work: {type: yield_heavy}}")));
}

/* Cpusets are resolved on the test's own topology by the guest's resolver:
 * the last index that exists is accepted, the next one refused, with the
 * topology named. */
Test(scenario_rules, cpusets_are_resolved_on_the_test_topology)
{
	const char *e;

	suite_free(parse_ok(one_cg("{llcs: 2}", "{name: a, cpuset: {kind: llc, index: 1}}")));
	e = parse_err(one_cg("{llcs: 2}", "{name: a, cpuset: {kind: llc, index: 2}}"));
	cr_assert(strstr(e, "scenario.cgroups[0].cpuset: on topology 1,2,2,1 (test 't'): cpuset "
			    "llc 2: the VM has 2 LLC(s)"),
		  "%s", e);
	/* Two nodes are outside the default constraints (1..1): allowed here. */
	suite_free(parse_ok("tests:\n  - name: t\n    topology: \"2,2,1,1\"\n"
			    "    constraints: {max_numa_nodes: 2}\n"
			    "    scenario: {cgroups: [{name: a, cpuset: {kind: numa, index: 1}}]}\n"));
	e = parse_err("tests:\n  - name: t\n    topology: \"2,2,1,1\"\n"
		      "    constraints: {max_numa_nodes: 2}\n"
		      "    scenario: {cgroups: [{name: a, cpuset: {kind: numa, index: 2}}]}\n");
	cr_assert(strstr(e, "no CPUs on node 2"), "%s", e);
	/* 4 CPUs: the last is kept free, 3 usable. */
	suite_free(parse_ok(one_cg("\"1,1,4,1\"", "{name: a, cpuset: {kind: disjoint, index: 2, of: 3}}")));
	e = parse_err(one_cg("\"1,1,4,1\"", "{name: a, cpuset: {kind: disjoint, index: 0, of: 4}}"));
	cr_assert(strstr(e, "4 parts do not fit the VM's 3 usable CPUs"), "%s", e);
	/* LLC 2 of 1,3,1,1 is only the kept-free CPU. */
	e = parse_err(one_cg("\"1,3,1,1\"", "{name: a, cpuset: {kind: llc, index: 2}}"));
	cr_assert(strstr(e, "no usable CPUs"), "%s", e);
	/* Wrong on any topology: no topology in the message. */
	e = parse_err(one_cg("{}", "{name: a, cpuset: {kind: range, start_frac: 0.5, end_frac: 0.5}}"));
	cr_assert(strstr(e, "scenario.cgroups[0].cpuset: cpuset range 0.5-0.5: need 0 <= start_frac"),
		  "%s", e);
	e = parse_err(one_cg("{}", "{name: a, affinity: {kind: exact, cpus: \"x\"}}"));
	cr_assert(strstr(e, "scenario.cgroups[0].affinity: affinity exact"), "%s", e);
}

/* A test whose own topology its constraints leave out is never run on it
 * (the base run is a skip), so a cpuset that does not fit it is no error. */
Test(scenario_rules, constraints_that_exclude_the_own_topology_defer_to_the_gauntlet)
{
	suite_free(parse_ok("tests:\n  - name: t\n    constraints: {min_llcs: 4}\n"
			    "    scenario: {cgroups: [{name: a, cpuset: {kind: llc, index: 3}}]}\n"));
	cr_assert(strstr(parse_err("tests:\n  - name: t\n    constraints: {min_llcs: 1}\n"
				   "    scenario: {cgroups: [{name: a, cpuset: {kind: llc, index: 3}}]}\n"),
			 "llc 3"));
}

/* The walk follows the scenario's steps: which cgroups exist at each op. */
Test(scenario_rules, ops_see_the_cgroups_that_exist_at_their_step)
{
	const char *head = "tests:\n  - name: t\n    scenario:\n      cgroups: [{name: a}]\n"
			   "      steps:\n";
	char y[1024];
	const char *e;

	snprintf(y, sizeof(y), "%s        - ops: [{kind: remove_cgroup, cgroup: a}, "
		 "{kind: add_cgroup, def: {name: a}}, {kind: stop_cgroup, cgroup: a}]\n", head);
	suite_free(parse_ok(y));
	snprintf(y, sizeof(y), "%s        - ops: [{kind: add_cgroup, def: {name: a}}]\n", head);
	e = parse_err(y);
	cr_assert(strstr(e, "scenario.steps[0].ops[0].def.name: cgroup name 'a' is already in use"),
		  "%s", e);
	snprintf(y, sizeof(y), "%s        - ops: [{kind: move_all_tasks, cgroup: a, cgroup2: b}]\n",
		 head);
	e = parse_err(y);
	cr_assert(strstr(e, "scenario.steps[0].ops[0].cgroup2: move_all_tasks: no cgroup 'b'"), "%s",
		  e);
	snprintf(y, sizeof(y), "%s        - ops: [{kind: spawn, def: {name: z}}]\n", head);
	cr_assert(strstr(parse_err(y), "spawn: no cgroup 'z'"), "%s", parse_err(y));
	snprintf(y, sizeof(y), "%s        - ops: [{kind: set_affinity, cgroup: a}]\n", head);
	cr_assert(strstr(parse_err(y), "set_affinity needs affinity"), "%s", parse_err(y));
}

/* Limits over the whole scenario: cgroups created (removed ones count) and
 * workers started. */
Test(scenario_rules, whole_scenario_limits)
{
	struct strbuf sb = { 0 };
	const char *e;

	sb_printf(&sb, "tests:\n  - name: t\n    scenario:\n      steps:\n        - ops:\n");
	for (int i = 0; i < KTSTR_SCENARIO_MAX_CGROUPS; i++)
		sb_printf(&sb, "            - {kind: add_cgroup, def: {name: c%d, workers: 1}}\n"
			       "            - {kind: remove_cgroup, cgroup: c%d}\n", i, i);
	sb_printf(&sb, "            - {kind: add_cgroup, def: {name: last, workers: 1}}\n");
	e = parse_err(sb.buf);
	cr_assert(strstr(e, "ops[128].def: cgroup 'last' would be cgroup 65"), "%s", e);
	sb_free(&sb);
	e = parse_err(one_cg("{}", "{name: a, workers: 1025}"));
	cr_assert(strstr(e, "asks for 1025 workers; a scenario may have at most 1024"), "%s", e);
}

/* Scheduler fields the guest checks before it starts anything. */
Test(scenario_rules, sysctls_and_cgroup_parent_follow_the_guest_rules)
{
	char y[1024], longp[300];

	cr_assert(strstr(parse_err("schedulers: [{name: s, binary: x, sysctls: [\"a.b = 1\"]}]\n"
				   "tests: []\n"),
			 "without spaces"));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	snprintf(y, sizeof(y), "schedulers: [{name: s, binary: x, cgroup_parent: %s}]\ntests: []\n",
		 longp);
	cr_assert(strstr(parse_err(y), "at most 256 characters"), "%s", parse_err(y));
}
