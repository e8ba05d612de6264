/* Performance-mode CPUs in the run loop (runner.c, perf_cpus.c): with a
 * backend that places them host-wide (the host reservation) the loop
 * reserves nothing of its own and waits for nothing; with one that does
 * not, its in-process reservation serializes the VMs and every wait ends
 * at its bound, as an infrastructure error that names the wait. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "fake_backend.h"
#include "helpers.h"
#include "perf_cpus.h"
#include "runner.h"
#include "vm_backend_worker.h"

/* Two performance-mode tests, each needing every CPU this process may
 * use (vCPUs + 1 service CPU): two at once never fit in-process. */
static unsigned usable_cpus(void)
{
	cpu_set_t s;

	cr_assert_eq(sched_getaffinity(0, sizeof(s), &s), 0);
	return (unsigned)CPU_COUNT(&s);
}

static struct suite *two_perf_tests(void)
{
	static char text[512];
	unsigned n = usable_cpus();

	if (n < 2)
		cr_skip_test("performance mode needs 2 usable CPUs");
	snprintf(text, sizeof(text),
		 "tests:\n"
		 "  - {name: pa, performance_mode: true,\n"
		 "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: %u, threads_per_core: 1}}\n"
		 "  - {name: pb, performance_mode: true,\n"
		 "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: %u, threads_per_core: 1}}\n",
		 n - 1, n - 1);
	return parse_ok(text);
}

static void run2(struct suite *s, struct fake_backend *fb, uint32_t wait_ms,
		 struct test_record **recs, size_t *n)
{
	unsigned cpus = usable_cpus();
	struct plan_opts o = { .host = { .cpus = cpus, .llcs = 1, .max_cpus_per_llc = cpus,
					 .max_vcpus = cpus },
			       .kernel_scx = 1 };
	static const int no_image[2] = { -1, -1 };
	struct plan p;
	char err[256];
	FILE *devnull = fopen("/dev/null", "w");
	struct runner_cfg cfg = { .suite = s, .plan = &p, .backend = &fb->be,
				  .initrd_fds = no_image, .workers = 2, .out = devnull,
				  .perf_wait_ms = wait_ms };

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.v[0].state, VAR_KEPT);
	cr_assert_eq(p.v[1].state, VAR_KEPT);
	cr_assert_eq(runner_run(&cfg, recs, n), 0);
	cr_assert_eq(*n, 2);
	fclose(devnull);
	plan_free(&p);
}

Test(runner_perf, a_placing_backend_gets_no_in_process_reservation_or_wait)
{
	struct suite *s = two_perf_tests();
	struct fake_backend fb;
	struct test_record *recs;
	size_t n;

	fake_backend_init(&fb);
	fb.be.places_cpus = true;
	fb.nap_ms = 400;
	cr_assert_eq(fb.max_running, 0);
	run2(s, &fb, 100, &recs, &n);
	cr_expect_eq(recs[0].verdict.kind, V_PASS, "%s", recs[0].verdict.detail);
	cr_expect_eq(recs[1].verdict.kind, V_PASS, "%s", recs[1].verdict.detail);
	cr_expect_eq(fb.max_running, 2, "both VMs went to the backend at once (it places them)");
	cr_expect_eq(fb.pinned_calls, 0, "the loop pinned nothing: the backend does");
	runner_free_records(recs, n);
	suite_free(s);
}

/* `run` and `shell` hand the worker backend their reservation: that makes
 * it a placing backend, so the loop's reservation never runs in front of
 * the host's. */
Test(runner_perf, the_worker_backend_places_cpus_exactly_when_it_has_a_reservation)
{
	struct vm_backend be;
	struct vm_backend_worker_cfg cfg = { 0 };

	memset(&be, 0xff, sizeof(be));
	vm_backend_worker_init(&be, &cfg);
	cr_expect_not(be.places_cpus, "no reservation: the loop reserves perf CPUs itself");
	cfg.hostres = (struct hostres *)&cfg; /* only its presence is read here */
	vm_backend_worker_init(&be, &cfg);
	cr_expect(be.places_cpus, "a reservation: the backend places perf VMs");
}

Test(runner_perf, in_process_reservation_serializes_and_its_wait_is_bounded)
{
	struct suite *s = two_perf_tests();
	struct fake_backend fb;
	struct test_record *recs;
	size_t n;
	uint64_t t0;
	int infra = -1;

	/* Unbounded by the test (the default bound): the second waits, runs. */
	fake_backend_init(&fb);
	fb.nap_ms = 200;
	run2(s, &fb, 0, &recs, &n);
	cr_expect_eq(recs[0].verdict.kind, V_PASS);
	cr_expect_eq(recs[1].verdict.kind, V_PASS);
	cr_expect_eq(fb.max_running, 1, "one at a time: each takes every CPU");
	cr_expect_eq(fb.pinned_calls, 2, "each VM came pinned");
	runner_free_records(recs, n);

	/* The holder runs 2 s, the waiter may wait 300 ms: an infra error. */
	fake_backend_init(&fb);
	fb.nap_ms = 2000;
	t0 = ktstr_now_ms();
	run2(s, &fb, 300, &recs, &n);
	cr_expect_lt(ktstr_now_ms() - t0, 3500, "the loop did not wait for the second VM's turn");
	cr_expect_eq(fb.calls, 1, "the waiter never reached the backend");
	for (int i = 0; i < 2; i++)
		if (recs[i].verdict.kind == V_INFRA)
			infra = i;
	cr_assert_geq(infra, 0, "one test is an infrastructure error");
	cr_expect_eq(recs[1 - infra].verdict.kind, V_PASS);
	cr_expect(strstr(recs[infra].verdict.detail,
			 "other performance-mode VMs of this run held them for 0.3 s"),
		  "%s", recs[infra].verdict.detail);
	runner_free_records(recs, n);
	suite_free(s);
}

struct reserver {
	struct perf_cpus *p;
	volatile int *stop;
	uint32_t wait_ms;
	int ret;
	uint64_t took_ms;
};

static void *reserve_thread(void *arg)
{
	struct reserver *r = arg;
	uint32_t out[2];
	uint64_t t0 = ktstr_now_ms();

	r->ret = perf_cpus_reserve(r->p, 2, out, r->wait_ms, r->stop);
	r->took_ms = ktstr_now_ms() - t0;
	return NULL;
}

Test(perf_cpus, a_wait_ends_at_its_bound_at_a_stop_or_when_cpus_come_back)
{
	struct perf_cpus p;
	cpu_set_t two;
	uint32_t held[2];
	volatile int stop = 0;
	struct reserver r = { .p = &p, .stop = &stop, .wait_ms = 300 };
	pthread_t th;

	CPU_ZERO(&two);
	CPU_SET(4, &two);
	CPU_SET(5, &two);
	perf_cpus_init(&p, &two);
	cr_assert_eq(perf_cpus_reserve(&p, 2, held, 0, NULL), 0);
	cr_expect(held[0] == 4 && held[1] == 5);
	cr_expect_eq(perf_cpus_reserve(&p, 3, held + 0, 1000, NULL), -ENOSPC, "never: at once");

	reserve_thread(&r);
	cr_expect_eq(r.ret, -ETIMEDOUT);
	cr_expect(r.took_ms >= 300 && r.took_ms < 1000, "bounded: %llu ms",
		  (unsigned long long)r.took_ms);

	r.wait_ms = 60000;
	cr_assert_eq(pthread_create(&th, NULL, reserve_thread, &r), 0);
	usleep(200 * 1000);
	stop = 1;
	pthread_join(th, NULL);
	cr_expect_eq(r.ret, -EINTR);
	cr_expect_lt(r.took_ms, 1000, "a stop ends the wait within a tick: %llu ms",
		     (unsigned long long)r.took_ms);

	stop = 0;
	cr_assert_eq(pthread_create(&th, NULL, reserve_thread, &r), 0);
	usleep(200 * 1000);
	perf_cpus_give(&p, held, 2);
	pthread_join(th, NULL);
	cr_expect_eq(r.ret, 0, "the CPUs came back");
	cr_expect_lt(r.took_ms, 1000);
	perf_cpus_destroy(&p);
}
