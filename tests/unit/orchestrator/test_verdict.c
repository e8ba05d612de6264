/* Verdicts from VmResults: PID 1's result (ring and COM2 alike, or COM2
 * alone), NO_RESULT for anything forged or displaced, and a distinct
 * verdict for every way a VM can end without one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "verdict.h"
#include "vmres.h"

static Ktstr__TestResult tr_status(Ktstr__TestResult__Status st)
{
	Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;

	tr.status = st;
	tr.test_name = "t";
	return tr;
}

static void judge(Ktstr__VmResult *r, enum verdict_kind want, const char *detail_has)
{
	struct verdict v;

	cr_assert_eq(verdict_from_result(r, NULL, &v), 0);
	cr_assert_eq(v.kind, want, "got %s (%s), want %s", verdict_name(v.kind), v.detail,
		     verdict_name(want));
	if (detail_has)
		cr_assert(strstr(v.detail, detail_has), "detail '%s' lacks '%s'", v.detail, detail_has);
	verdict_free(&v);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(verdict, pid1s_result_on_ring_and_com2_is_believed)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult fail = tr_status(KTSTR__TEST_RESULT__STATUS__FAILED);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);
	struct verdict v;

	vmres_add_pid1_result(r, &pass);
	vmres_add_test_result(r, &fail, false); /* corrupt: must be ignored */
	cr_assert_eq(verdict_from_result(r, NULL, &v), 0);
	cr_assert_eq(v.kind, V_PASS, "%s", v.detail);
	cr_assert_str_eq(v.source, "ring");
	verdict_free(&v);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- forged or displaced results (the hostile-tenant defects) ---------- */

/* A scheduler that never attached wrote a PASSED TestResult after PID 1's
 * SCHEDULER_NOT_ATTACHED: two results on the ring, and the ring disagrees
 * with COM2. Was PASS (the last CRC-valid ring result won). */
Test(verdict, a_second_result_on_the_ring_is_no_result_never_pass)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult na = tr_status(KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);

	vmres_add_pid1_result(r, &na);
	vmres_add_test_result(r, &pass, true);
	r->ring_results++;
	judge(r, V_NO_RESULT, "2 results on the ring");
}

/* PID 1's genuine result was displaced (the worker dropped it over its keep
 * budget; only the count knows) and a forged PASSED is the one kept. */
Test(verdict, a_result_displaced_from_the_ring_is_no_result)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult na = tr_status(KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);
	char *com2 = com2_with_result(&na);

	vmres_add_test_result(r, &pass, true);
	vmres_set_com2(r, com2);
	free(com2);
	r->has_ring_results = 1;
	r->ring_results = 2;
	r->has_ring_host_drops = 1;
	r->ring_host_drops = 2;
	judge(r, V_NO_RESULT, "the host dropped 2 ring message(s)");
}

/* One forged result on the ring, PID 1's (different) result on COM2 only. */
Test(verdict, ring_and_com2_disagreeing_is_no_result)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult na = tr_status(KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);
	char *com2 = com2_with_result(&na);

	vmres_add_test_result(r, &pass, true);
	vmres_set_com2(r, com2);
	free(com2);
	judge(r, V_NO_RESULT, "disagree (ring: PASSED, COM2: SCHEDULER_NOT_ATTACHED)");
}

/* A forged ring result with no COM2 twin (PID 1 never reported). */
Test(verdict, a_ring_result_without_its_com2_copy_is_no_result)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);

	vmres_add_test_result(r, &pass, true);
	vmres_set_com2(r, "KTSTR_INIT_STARTED\nKTSTR_PAYLOAD_STARTING\n");
	judge(r, V_NO_RESULT, "COM2 has no readable copy");
}

/* Two result blocks on COM2; COM2 flooded past its cap. */
Test(verdict, repeated_or_truncated_com2_is_no_result)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);
	char *one = com2_with_result(&pass), *two = NULL;

	cr_assert_geq(asprintf(&two, "%s%s", one, one), 0);
	vmres_set_com2(r, two);
	judge(r, V_NO_RESULT, "2 results on COM2");
	r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	vmres_add_pid1_result(r, &pass);
	r->has_guest_output_dropped = 1;
	r->guest_output_dropped = 4096;
	judge(r, V_NO_RESULT, "COM2 went past");
	free(one);
	free(two);
}

/* The worker stopped a flooding guest: whatever it claimed, no pass. */
Test(verdict, a_guest_stopped_for_flooding_is_no_result)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);

	vmres_add_pid1_result(r, &pass);
	judge(r, V_NO_RESULT, "flooded");
}

Test(verdict, com2_base64_when_the_ring_has_no_result)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult tr = tr_status(KTSTR__TEST_RESULT__STATUS__FAILED);
	Ktstr__CheckFailure cf = KTSTR__CHECK_FAILURE__INIT;
	Ktstr__CheckFailure *cfs[1] = { &cf };
	char *com2;

	cf.check = "gap";
	cf.message = "stuck 3500ms on cpu1 at +1200ms";
	tr.n_failures = 1;
	tr.failures = cfs;
	com2 = com2_with_result(&tr);
	vmres_set_com2(r, com2);
	free(com2);
	judge(r, V_FAIL, "stuck 3500ms on cpu1");
}

Test(verdict, each_status_maps_to_its_own_verdict)
{
	struct {
		Ktstr__TestResult__Status st;
		enum verdict_kind want;
	} cases[] = {
		{ KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED, V_SCHED_DIED },
		{ KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED, V_SCHED_NOT_ATTACHED },
		{ KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, V_SETUP_FAILED },
		{ KTSTR__TEST_RESULT__STATUS__SKIPPED, V_SKIP },
		{ KTSTR__TEST_RESULT__STATUS__TRUNCATED_IMAGE, V_INFRA },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
		Ktstr__TestResult tr = tr_status(cases[i].st);

		vmres_add_pid1_result(r, &tr);
		judge(r, cases[i].want, NULL);
	}
}

Test(verdict, a_panic_after_a_pass_is_not_a_pass)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_GUEST_PANIC);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);

	vmres_add_pid1_result(r, &pass);
	judge(r, V_GUEST_PANIC, "panicked");
}

Test(verdict, no_result_verdicts_are_distinct)
{
	Ktstr__VmResult *r;

	judge(vmres_new(KTSTR__OUTCOME__OUTCOME_GUEST_PANIC), V_GUEST_PANIC, "panic");
	judge(vmres_new(KTSTR__OUTCOME__OUTCOME_TIMEOUT), V_TIMEOUT, "timed out");
	judge(vmres_new(KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR), V_INFRA, "engine");

	r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	vmres_set_com2(r, "");
	judge(r, V_INIT_NEVER_STARTED, "init script never started");

	r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	vmres_set_com2(r, "KTSTR_INIT_STARTED\n");
	judge(r, V_PAYLOAD_NEVER_RAN, "payload never ran");

	r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	vmres_set_com2(r, "KTSTR_INIT_STARTED\nKTSTR_PAYLOAD_STARTING\n");
	judge(r, V_NO_RESULT, "no test result");

	r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	vmres_set_com2(r, "KTSTR_INIT_STARTED\nSCHEDULER_NOT_ATTACHED: timeout\n");
	judge(r, V_SCHED_NOT_ATTACHED, "SCHEDULER_NOT_ATTACHED: timeout");
}

Test(verdict, sched_exit_and_crash_messages)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_SCHED_EXIT);
	Ktstr__SchedExit se = KTSTR__SCHED_EXIT__INIT;
	uint8_t buf[256];
	size_t n;

	se.reason = "runnable task stall";
	n = ktstr__sched_exit__pack(&se, buf);
	vmres_add_ring(r, KTSTR_MSG_SCHED_EXIT, buf, n, true);
	judge(r, V_SCHED_DIED, "runnable task stall");

	r = vmres_new(KTSTR__OUTCOME__OUTCOME_RESET);
	vmres_add_ring(r, KTSTR_MSG_CRASH, "panicked at main.c:12\nbacktrace...\nlast line", 44, true);
	judge(r, V_GUEST_PANIC, "guest crashed");
}

Test(verdict, infra_error_without_result)
{
	struct verdict v;

	cr_assert_eq(verdict_from_result(NULL, "worker died (signal 9)", &v), 0);
	cr_assert_eq(v.kind, V_INFRA);
	cr_assert_str_eq(v.detail, "worker died (signal 9)");
	cr_assert(verdict_is_failure(v.kind) && verdict_is_infra(v.kind));
	verdict_free(&v);
}

Test(verdict, stimulus_events_are_collected_in_order)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__TestResult pass = tr_status(KTSTR__TEST_RESULT__STATUS__PASSED);
	struct verdict v;

	for (uint32_t i = 0; i < 3; i++) {
		Ktstr__Stimulus st = KTSTR__STIMULUS__INIT;
		uint8_t buf[64];
		size_t n;

		st.elapsed_ms = 100 * i;
		st.step_index = i;
		n = ktstr__stimulus__pack(&st, buf);
		vmres_add_ring(r, KTSTR_MSG_STIMULUS, buf, n, true);
	}
	vmres_add_pid1_result(r, &pass);
	cr_assert_eq(verdict_from_result(r, NULL, &v), 0);
	cr_assert_eq(v.nstimuli, 3);
	cr_assert_eq(v.stimuli[2]->step_index, 2);
	cr_assert_str_eq(v.source, "ring");
	verdict_free(&v);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* An empty CRASH message arrives with payload.data == NULL after the wire
 * (found by fuzz_ring_capture; tests/fuzz/regressions/). */
Test(verdict, an_empty_crash_message_is_a_crash_with_no_text)
{
	Ktstr__VmResult *r = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
	Ktstr__RingMessage *m = calloc(1, sizeof(*m));

	ktstr__ring_message__init(m);
	m->type = KTSTR_MSG_CRASH;
	m->crc_ok = 1;
	r->ring = realloc(r->ring, (r->n_ring + 1) * sizeof(*r->ring));
	r->ring[r->n_ring++] = m;
	judge(r, V_GUEST_PANIC, "guest crashed");
}

/* Judging that could not finish (runner.c: out of memory reading metrics or
 * applying expect_failure) never leaves a PASS behind: an infrastructure
 * error that says why. */
Test(verdict, an_unfinished_judgement_is_an_infrastructure_error)
{
	struct verdict v = { .kind = V_PASS, .detail = strdup("all checks passed") };

	verdict_unknown(&v, "out of memory reading payload metrics");
	cr_assert_eq(v.kind, V_INFRA);
	cr_assert(verdict_is_failure(v.kind) && verdict_is_infra(v.kind));
	cr_assert_str_eq(v.detail, "the verdict is unknown: out of memory reading payload metrics");
	verdict_free(&v);
}
