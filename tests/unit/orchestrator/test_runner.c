/* The run loop against scripted backends: concurrency, retries, infra
 * errors that do not stop the run, exit codes, stop requests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_backend.h"
#include "helpers.h"
#include "runner.h"
#include "stop.h"

static const char *suite6 = "tests:\n"
			    "  - {name: a}\n  - {name: b}\n  - {name: c}\n"
			    "  - {name: d}\n  - {name: e}\n  - {name: f}\n";

static int run(struct suite *s, struct plan *p, struct fake_backend *fb, unsigned workers,
	       unsigned retries, struct test_record **recs, size_t *n)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	static const int no_image[16] = { -1, -1, -1, -1, -1, -1, -1, -1,
					  -1, -1, -1, -1, -1, -1, -1, -1 };
	char err[256];
	FILE *devnull = fopen("/dev/null", "w");
	struct runner_cfg cfg = { .suite = s, .plan = p, .backend = &fb->be,
				  .initrd_fds = no_image, .workers = workers, .retries = retries,
				  .out = devnull, .progress = NULL };
	int ret;

	cr_assert_eq(plan_build(s, &o, p, err, sizeof(err)), 0);
	ret = runner_run(&cfg, recs, n);
	fclose(devnull);
	return ret;
}

Test(runner, runs_every_test_with_bounded_concurrency)
{
	struct suite *s = parse_ok(suite6);
	struct fake_backend fb;
	struct plan p;
	struct test_record *recs;
	size_t n;
	struct run_totals t;

	fake_backend_init(&fb);
	cr_assert_eq(run(s, &p, &fb, 2, 0, &recs, &n), 0);
	cr_assert_eq(n, 6);
	cr_assert_eq(fb.calls, 6);
	cr_assert_eq(fb.max_running, 2, "two workers => two VMs at once (saw %u)", fb.max_running);
	records_totals(recs, n, &t);
	cr_assert_eq(t.passed, 6);
	cr_assert_eq(records_exit_code(&t), 0);
	cr_assert_str_eq(recs[0].engine, "qemu-tcg");
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

Test(runner, an_infra_failure_is_reported_and_the_run_goes_on)
{
	struct suite *s = parse_ok(suite6);
	struct fake_backend fb;
	struct plan p;
	struct test_record *recs;
	size_t n;
	struct run_totals t;

	fake_backend_init(&fb);
	fb.match[0] = "c";
	fb.how[0] = FAKE_INFRA;
	fb.match[1] = "e";
	fb.how[1] = FAKE_FAIL;
	cr_assert_eq(run(s, &p, &fb, 3, 0, &recs, &n), 0);
	records_totals(recs, n, &t);
	cr_assert_eq(t.passed, 4);
	cr_assert_eq(t.failed, 2);
	cr_assert_eq(t.infra, 1);
	cr_assert_eq(recs[2].verdict.kind, V_INFRA);
	cr_assert(strstr(recs[2].verdict.detail, "worker died"));
	cr_assert_eq(recs[4].verdict.kind, V_FAIL);
	cr_assert_eq(records_exit_code(&t), 3, "infrastructure errors win");
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

Test(runner, failures_alone_exit_1_and_retries_rerun_them)
{
	struct suite *s = parse_ok(suite6);
	struct fake_backend fb;
	struct plan p;
	struct test_record *recs;
	size_t n;
	struct run_totals t;

	fake_backend_init(&fb);
	fb.match[0] = "b";
	fb.how[0] = FAKE_FLAKY;
	fb.match[1] = "d";
	fb.how[1] = FAKE_FAIL;
	cr_assert_eq(run(s, &p, &fb, 1, 2, &recs, &n), 0);
	records_totals(recs, n, &t);
	cr_assert_eq(recs[1].verdict.kind, V_PASS, "flaky test passes on retry");
	cr_assert_eq(recs[1].attempts, 2);
	cr_assert_eq(recs[3].attempts, 3, "a real failure uses every retry");
	cr_assert_eq(t.failed, 1);
	cr_assert_eq(records_exit_code(&t), 1);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

static void *send_sigint(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	kill(getpid(), SIGINT);
	return NULL;
}

Test(runner, sigint_stops_running_vms_and_starts_no_more)
{
	struct suite *s = parse_ok(suite6);
	struct fake_backend fb;
	struct plan p;
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	static const int no_image[2] = { -1, -1 };
	struct test_record *recs;
	size_t n;
	char err[256];
	pthread_t th;
	FILE *devnull = fopen("/dev/null", "w");
	struct runner_cfg cfg = { .suite = s, .plan = &p, .backend = &fb.be,
				  .initrd_fds = no_image, .workers = 2, .out = devnull,
				  .handle_signals = true };

	fake_backend_init(&fb);
	fb.match[0] = "";
	fb.how[0] = FAKE_WAIT_FOR_STOP;
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0);
	/* As ktstr-orch's main() does first (stop.h): the signal becomes a
	 * stop request. */
	cr_assert_eq(stop_init(), 0);
	pthread_create(&th, NULL, send_sigint, NULL);
	cr_assert_eq(runner_run(&cfg, &recs, &n), -EINTR);
	pthread_join(th, NULL);
	fclose(devnull);
	cr_assert_eq(fb.calls, 2, "only the two running VMs were ever started");
	cr_assert_eq(stop_signal(), SIGINT);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(recs[i].verdict.kind, V_STOPPED, "%zu: %s", i,
			     verdict_name(recs[i].verdict.kind));
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}
