#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void record_free_attempt(struct test_record *r)
{
	verdict_free(&r->verdict);
	if (r->vm)
		protobuf_c_message_free_unpacked(&r->vm->base, NULL);
	r->vm = NULL;
}

void record_free(struct test_record *r)
{
	record_free_attempt(r);
	for (size_t i = 0; i < r->nnotes; i++) {
		free(r->notes[i].detail);
		free(r->notes[i].report);
	}
	free(r->notes);
	r->notes = NULL;
	r->nnotes = 0;
}

int record_note_attempt(struct test_record *r, char *report, size_t report_len)
{
	struct attempt_note *n;

	if (r->nnotes >= RECORD_NOTES_MAX) {
		free(report);
		return 0;
	}
	if (!r->notes) {
		r->notes = calloc(RECORD_NOTES_MAX, sizeof(*r->notes));
		if (!r->notes) {
			free(report);
			return -ENOMEM;
		}
	}
	n = &r->notes[r->nnotes];
	n->kind = r->verdict.kind;
	n->detail = r->verdict.detail ? strdup(r->verdict.detail) : NULL;
	if (r->verdict.detail && !n->detail) {
		free(report);
		return -ENOMEM;
	}
	n->report = report;
	n->report_len = report ? report_len : 0;
	r->nnotes++;
	return 0;
}

bool record_flaky(const struct test_record *r)
{
	return r->attempts > 1 && (r->verdict.kind == V_PASS || r->verdict.kind == V_XFAIL);
}

int record_worker_sandboxed(const struct test_record *r)
{
	/* A result the orchestrator synthesized (the worker died, hung or
	 * never started) says nothing about the worker's confinement. */
	if (!r->vm || !r->vm->has_sandboxed)
		return -1;
	return r->vm->sandboxed ? 1 : 0;
}

int record_qemu_landlock(const struct test_record *r)
{
	if (!r->vm || !r->vm->has_qemu_landlock)
		return -1;
	return r->vm->qemu_landlock ? 1 : 0;
}

bool record_unsandboxed(const struct test_record *r)
{
	return record_worker_sandboxed(r) == 0 || r->builder_sandboxed == 0;
}

void records_totals(const struct test_record *r, size_t n, struct run_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		enum verdict_kind k = r[i].verdict.kind;

		if (record_flaky(&r[i]))
			t->flaky++;
		if (k == V_PASS)
			t->passed++;
		else if (k == V_SKIP)
			t->skipped++;
		else if (k == V_XFAIL)
			t->xfailed++;
		else
			t->failed++;
		if (k == V_INFRA)
			t->infra++;
		if (k == V_STOPPED)
			t->stopped++;
	}
}

/* An infrastructure error makes the whole run untrustworthy, so it wins
 * over ordinary failures: CI can tell "retry the job" from "fix the code". */
int records_exit_code(const struct run_totals *t)
{
	if (t->infra)
		return 3;
	if (t->failed)
		return 1;
	return 0;
}
