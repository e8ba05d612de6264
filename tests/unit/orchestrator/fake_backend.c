#include "fake_backend.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmres.h"

static void nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int fake_run(struct vm_backend *b, const struct vm_job *job, struct vm_cancel *cancel,
		    struct vm_job_result *out)
{
	struct fake_backend *fb = b->ctx;
	enum fake_behaviour how = FAKE_PASS;
	Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;
	bool flaky_pass = false;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 8 && fb->match[i]; i++) {
		if (strstr(job->label, fb->match[i])) {
			how = fb->how[i];
			break;
		}
	}
	pthread_mutex_lock(&fb->lock);
	fb->calls++;
	if (++fb->running > fb->max_running)
		fb->max_running = fb->running;
	if (job->spec && job->spec->n_pin_cpus)
		fb->pinned_calls++;
	if (how == FAKE_FLAKY)
		flaky_pass = fb->flaky_calls++ > 0; /* fails once, then passes */
	pthread_mutex_unlock(&fb->lock);

	/* Overlap calls so concurrency is observable. */
	nap_ms(fb->nap_ms ? fb->nap_ms : 50);
	if (how == FAKE_WAIT_FOR_STOP) {
		for (int i = 0; i < 200 && !__atomic_load_n(&cancel->requested, __ATOMIC_SEQ_CST); i++)
			nap_ms(10);
		out->result = vmres_new(KTSTR__OUTCOME__OUTCOME_STOPPED);
	} else if (how == FAKE_WORKER_HUNG) {
		/* worker_client.c's synth(): no word on confinement. */
		snprintf(out->error, sizeof(out->error),
			 "VM worker failed: wait for the worker's VmResult (worker hung)");
		out->result = vmres_new(KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR);
		out->result->has_sandboxed = 0;
		out->result->sandboxed = 0;
		out->infra = true;
	} else if (how == FAKE_INFRA) {
		snprintf(out->error, sizeof(out->error), "VM worker failed: worker died (signal 9)");
		out->infra = true;
	} else {
		out->result = vmres_new(KTSTR__OUTCOME__OUTCOME_POWER_OFF);
		tr.status = how == FAKE_PASS || how == FAKE_UNSANDBOXED || flaky_pass
				    ? KTSTR__TEST_RESULT__STATUS__PASSED
				    : KTSTR__TEST_RESULT__STATUS__FAILED;
		vmres_add_pid1_result(out->result, &tr);
		vmres_set_console(out->result, "[    1.0] Linux version 7.2\n[    2.0] reboot: Power down\n");
		if (how == FAKE_UNSANDBOXED)
			out->result->sandboxed = 0;
	}
	pthread_mutex_lock(&fb->lock);
	fb->running--;
	pthread_mutex_unlock(&fb->lock);
	return 0;
}

void fake_backend_init(struct fake_backend *fb)
{
	memset(fb, 0, sizeof(*fb));
	pthread_mutex_init(&fb->lock, NULL);
	fb->be.run = fake_run;
	fb->be.ctx = fb;
}
