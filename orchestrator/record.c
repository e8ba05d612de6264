#include "record.h"

#include <stdlib.h>
#include <string.h>

void record_free(struct test_record *r)
{
	verdict_free(&r->verdict);
	if (r->vm)
		protobuf_c_message_free_unpacked(&r->vm->base, NULL);
	r->vm = NULL;
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
