/* Verdict arithmetic and message formats (docs/reference.md, "Assert
 * thresholds" and "Failure report shape"). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/asserts.h>

#include "verdict.h"

static struct worker_report rep(uint32_t tid, uint64_t units, uint64_t wall_ms, uint64_t cpu_ms)
{
	struct worker_report r = { .magic = WREPORT_MAGIC, .tid = tid, .work_units = units };

	r.wall_ns = wall_ms * 1000000ull;
	r.cpu_ns = cpu_ms * 1000000ull;
	r.iterations = units;
	return r;
}

static struct verdict_limits defaults(void)
{
	struct verdict_limits l;

	verdict_limits_from_spec(NULL, &l);
	return l;
}

Test(verdict, defaults_are_reference_release_thresholds)
{
	struct verdict_limits l = defaults();

	cr_assert(l.not_starved);
	cr_assert_float_eq(l.max_spread_pct, 15.0, 1e-9);
	cr_assert_eq(l.max_gap_ms, 2000);
	cr_assert_not(l.isolation);
}

Test(verdict, starved_worker_message)
{
	struct worker_report r[2] = { rep(11, 0, 1000, 1000), rep(12, 500, 1000, 1000) };
	struct verdict_worker w[2] = { { &r[0], "cg_0", NULL, 2 }, { &r[1], "cg_0", NULL, 2 } };
	struct verdict_limits l = defaults();
	struct verdict_result out = { 0 };

	cr_assert_eq(verdict_evaluate(&l, w, 2, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.f[0].message, "tid 11 starved (0 work units)");
	cr_assert_str_eq(out.f[0].check, "starvation");
	verdict_result_free(&out);
}

Test(verdict, spread_message_and_threshold)
{
	/* off-CPU: 8% and 50% -> spread 42 */
	struct worker_report r[4] = { rep(1, 9, 1000, 920), rep(2, 9, 1000, 500),
				      rep(3, 9, 1000, 700), rep(4, 9, 1000, 800) };
	struct verdict_worker w[4];
	struct verdict_limits l = defaults();
	struct verdict_result out = { 0 };

	for (int i = 0; i < 4; i++)
		w[i] = (struct verdict_worker){ &r[i], "cg_0", NULL, 4 };
	cr_assert_eq(verdict_evaluate(&l, w, 4, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.f[0].message,
			 "unfair cgroup: spread=42% (8-50%) 4 workers on 4 cpus");
	verdict_result_free(&out);

	l.max_spread_pct = 42.5; /* just above: passes */
	cr_assert_eq(verdict_evaluate(&l, w, 4, &out), 0);
	cr_assert_eq(out.n, 0);
	verdict_result_free(&out);
}

Test(verdict, spread_needs_two_workers_and_stays_within_a_cgroup)
{
	struct worker_report r[2] = { rep(1, 9, 1000, 1000), rep(2, 9, 1000, 100) };
	struct verdict_worker w[2] = { { &r[0], "a", NULL, 1 }, { &r[1], "b", NULL, 1 } };
	struct verdict_limits l = defaults();
	struct verdict_result out = { 0 };

	cr_assert_eq(verdict_evaluate(&l, w, 2, &out), 0);
	cr_assert_eq(out.n, 0, "one worker per cgroup has no spread");
	verdict_result_free(&out);
}

Test(verdict, gap_message_and_boundary)
{
	struct worker_report r = rep(7, 100, 5000, 5000);
	struct verdict_worker w = { &r, "cg_0", NULL, 1 };
	struct verdict_limits l = defaults();
	struct verdict_result out = { 0 };

	r.max_gap_ns = 2000ull * 1000000ull; /* exactly the limit: passes */
	cr_assert_eq(verdict_evaluate(&l, &w, 1, &out), 0);
	cr_assert_eq(out.n, 0);
	r.max_gap_ns = 3500ull * 1000000ull;
	r.max_gap_cpu = 1;
	r.max_gap_at_ns = 1200ull * 1000000ull;
	cr_assert_eq(verdict_evaluate(&l, &w, 1, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.f[0].message, "stuck 3500ms on cpu1 at +1200ms");
	verdict_result_free(&out);
}

Test(verdict, isolation_names_the_unexpected_cpus_only_when_enabled)
{
	struct worker_report r = rep(9, 100, 1000, 1000);
	struct cpuset_bits allowed;
	struct verdict_worker w = { &r, "cg_0", &allowed, 2 };
	struct verdict_limits l = defaults();
	struct verdict_result out = { 0 };

	cpulist_parse("4-5", &allowed);
	cpulist_parse("0-5", &r.cpus_used);
	cr_assert_eq(verdict_evaluate(&l, &w, 1, &out), 0);
	cr_assert_eq(out.n, 0, "isolation is off by default");
	l.isolation = true;
	cr_assert_eq(verdict_evaluate(&l, &w, 1, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_str_eq(out.f[0].message, "tid 9 ran on unexpected CPUs 0-3");
	verdict_result_free(&out);
	w.allowed = NULL; /* unrestricted cgroup: nothing to violate */
	cr_assert_eq(verdict_evaluate(&l, &w, 1, &out), 0);
	cr_assert_eq(out.n, 0);
	verdict_result_free(&out);
}

Test(verdict, off_cpu_pct_edges)
{
	struct worker_report r = rep(1, 1, 0, 0);

	cr_assert_float_eq(verdict_off_cpu_pct(&r), 0.0, 1e-9);
	r = rep(1, 1, 100, 150); /* cpu > wall (clock skew): clamp */
	cr_assert_float_eq(verdict_off_cpu_pct(&r), 0.0, 1e-9);
	r = rep(1, 1, 100, 25);
	cr_assert_float_eq(verdict_off_cpu_pct(&r), 75.0, 1e-9);
}

Test(verdict, spec_overrides_defaults)
{
	Ktstr__AssertSpec a = KTSTR__ASSERT_SPEC__INIT;
	struct verdict_limits l;

	a.has_max_gap_ms = 1;
	a.max_gap_ms = 3000;
	a.has_isolation = 1;
	a.isolation = 1;
	verdict_limits_from_spec(&a, &l);
	cr_assert_eq(l.max_gap_ms, 3000);
	cr_assert(l.isolation);
	cr_assert_float_eq(l.max_spread_pct, 15.0, 1e-9);
}

/* Set one AssertSpec field through the descriptor: strict or lenient. */
static void set_field(Ktstr__AssertSpec *a, const ProtobufCFieldDescriptor *f, bool strict)
{
	bool max = !strncmp(f->name, "max_", 4);
	void *p = (char *)a + f->offset;

	*(protobuf_c_boolean *)((char *)a + f->quantifier_offset) = 1;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = strict;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = max ? (strict ? 1e-9 : 1e12) : (strict ? 1e12 : 0);
		break;
	case PROTOBUF_C_TYPE_UINT32: /* max_gap_ms: 0 = off */
		*(uint32_t *)p = strict ? 1 : 0;
		break;
	case PROTOBUF_C_TYPE_UINT64: /* max_p99_wake_latency_ns: 0 = off */
		*(uint64_t *)p = strict ? 1 : 0;
		break;
	default:
		cr_assert_fail("AssertSpec.%s: type %d has no strict value here", f->name, f->type);
	}
}

static size_t failures_with(const ProtobufCFieldDescriptor *f, bool strict,
			    const struct verdict_worker *w, size_t n)
{
	Ktstr__AssertSpec a = KTSTR__ASSERT_SPEC__INIT;
	struct verdict_limits l;
	struct verdict_result vr = { 0 };
	size_t cnt;

	set_field(&a, f, strict);
	verdict_limits_from_spec(&a, &l);
	cr_assert_eq(verdict_evaluate(&l, w, n, &vr), 0);
	cnt = vr.n;
	verdict_result_free(&vr);
	return cnt;
}

/* The guest's half of "every assert is evaluated or refused": each field
 * ktstr/asserts.h calls judged changes the verdict of a run that violates
 * everything (strict value: more failures than lenient). A field listed as
 * judged that nothing reads fails here. */
Test(verdict, every_judged_field_fails_a_violating_run)
{
	const ProtobufCMessageDescriptor *d = &ktstr__assert_spec__descriptor;
	/* tid 22 starves (0 work units) though it iterated. */
	struct worker_report r[2] = { rep(21, 100000, 2000, 1000), rep(22, 0, 1000, 1000) };
	struct cpuset_bits allowed = { 0 };
	struct verdict_worker w[2] = { { &r[0], "cg", &allowed, 1 }, { &r[1], "cg", &allowed, 1 } };
	unsigned judged = 0;

	cpuset_add(&allowed, 0);
	r[1].iterations = 10;
	for (int i = 0; i < 2; i++) {
		cpuset_add(&r[i].cpus_used, 0);
		cpuset_add(&r[i].cpus_used, 3); /* outside the cpuset */
		r[i].max_gap_ns = 5000ull * 1000000;
		r[i].migrations = r[i].iterations;
		r[i].wake_samples = 2;
		r[i].wake_p99_ns = 900000;
		/* wakes of 1 us and 1 ms: high variation */
		r[i].wake_sum_ns = 1000.0 + 1000000.0;
		r[i].wake_sumsq_ns2 = 1e6 + 1e12;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (ktstr_assert_judge(f->name) != KTSTR_ASSERT_BY_GUEST)
			continue;
		judged++;
		cr_assert_gt(failures_with(f, true, w, 2), failures_with(f, false, w, 2),
			     "AssertSpec.%s is listed as judged but does not change the verdict",
			     f->name);
	}
	cr_assert_gt(judged, 0);
}

Test(verdict, throughput_and_wake_cv_messages_carry_their_numbers)
{
	struct worker_report r[2] = { rep(31, 3000, 1000, 1000), rep(32, 1000, 1000, 1000) };
	struct verdict_worker w[2] = { { &r[0], "cg", NULL, 2 }, { &r[1], "cg", NULL, 2 } };
	struct verdict_limits l = defaults();
	struct verdict_result vr = { 0 };

	l.max_spread_pct = -1;
	l.max_throughput_cv = 0.25;	/* rates 3000 and 1000: CV 0.5 */
	l.min_work_rate = 1500;		/* tid 32: 1000/s */
	l.max_wake_latency_cv = 0.5;
	r[0].wake_samples = r[1].wake_samples = 1;
	r[0].wake_sum_ns = 1000;	/* 1 us and 3 us: mean 2 us, CV 0.5: not above */
	r[1].wake_sum_ns = 3000;
	r[0].wake_sumsq_ns2 = 1e6;
	r[1].wake_sumsq_ns2 = 9e6;
	cr_assert_eq(verdict_evaluate(&l, w, 2, &vr), 0);
	cr_assert_eq(vr.n, 2, "work rate and throughput CV; the wake CV is at its limit");
	cr_assert_str_eq(vr.f[0].message, "tid 32 did 1000 work units per CPU second, below 1500");
	cr_assert_str_eq(vr.f[1].message, "cgroup cg: throughput CV 0.500 above 0.250 (2 workers, "
					  "1000-3000 work units per CPU second)");
	cr_assert_float_eq(vr.f[1].value, 0.5, 1e-9);
	verdict_result_free(&vr);
	l.max_wake_latency_cv = 0.4;
	cr_assert_eq(verdict_evaluate(&l, w, 2, &vr), 0);
	cr_assert_str_eq(vr.f[vr.n - 1].message,
			 "cgroup cg: wake latency CV 0.500 above 0.400 (2 wakes, mean 2us)");
	verdict_result_free(&vr);
}
