#include "runner.h"
#include "stop.h"
#include "tty_relay.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "payload_metric.h"
#include "perf_cpus.h"
#include "report.h"

/* Shared by the job threads and the signal-waiting main thread. */
struct runner_state {
	const struct runner_cfg *cfg;
	struct test_record *recs;
	size_t *jobs;		/* record indices that need a VM */
	size_t njobs;
	size_t next;		/* next job to start (under lock) */
	/* next, progress, output, slots. Never write to stderr holding it:
	 * on a TTY stderr is the pipe the log relay drains under this lock
	 * (tty_relay.h). */
	pthread_mutex_t lock;
	struct progress pg;
	struct vm_cancel *slots; /* one per thread */
	volatile int stop;	/* a signal arrived: start nothing new */
	unsigned finished_threads;
	/* Performance mode, where the backend does not place it host-wide
	 * (perf_cpus.h): the CPUs running perf VMs hold. */
	struct perf_cpus perf;
};

struct thread_arg {
	struct runner_state *st;
	unsigned slot;
};

static void record_engine(struct test_record *r, const Ktstr__VmResult *vr, Ktstr__Engine asked)
{
	const char *e = vr && vr->engine_detail ? vr->engine_detail
			: vr ? (vr->engine == KTSTR__ENGINE__ENGINE_KVM ? "kvm"
				: vr->engine == KTSTR__ENGINE__ENGINE_QEMU ? "qemu"
									  : "auto")
			     : (asked == KTSTR__ENGINE__ENGINE_KVM ? "kvm"
				: asked == KTSTR__ENGINE__ENGINE_QEMU ? "qemu"
								      : "auto");

	snprintf(r->engine, sizeof(r->engine), "%s", e);
}

/* Fail closed: a worker that ran the VM unconfined without
 * --insecure-no-sandbox is an infrastructure error, whatever the guest
 * said; the guest ran with more of the host in reach than we promised. */
static void fail_closed_if_unconfined(const struct runner_cfg *cfg, struct test_record *r)
{
	const Ktstr__VmResult *vm = r->vm;
	char msg[512];

	if (cfg->settings.insecure_no_sandbox || !vm || record_worker_sandboxed(r) ||
	    r->verdict.kind == V_INFRA || r->verdict.kind == V_STOPPED)
		return;
	snprintf(msg, sizeof(msg),
		 "the VM worker ran this test UNSANDBOXED (VmResult.sandboxed=false, engine %s): "
		 "its confinement (namespaces, capability drop, seccomp) was not applied; the "
		 "result is not trusted. Fix the host (docs/security.md, \"Host support\") or "
		 "accept the risk with --insecure-no-sandbox",
		 r->engine[0] ? r->engine : "?");
	verdict_free(&r->verdict);
	memset(&r->verdict, 0, sizeof(r->verdict));
	r->verdict.kind = V_INFRA;
	r->verdict.detail = strdup(msg);
}

/* Reserve vCPUs + 1 host CPUs for a performance-mode VM: pins[0..n-1] for
 * the vCPUs, pins[n] the service CPU. Waits while other perf VMs of this
 * run hold them, at most cfg->perf_wait_ms, re-checking the stop flag.
 * Returns as perf_cpus_reserve. */
static int reserve_perf_cpus(struct runner_state *st, unsigned need, uint32_t *pins)
{
	uint32_t wait_ms = st->cfg->perf_wait_ms ? st->cfg->perf_wait_ms : PERF_CPUS_WAIT_DEFAULT_MS;

	return perf_cpus_reserve(&st->perf, need, pins, wait_ms, &st->stop);
}

/* One attempt: build the VM spec, run it, judge it. */
static void run_attempt(struct runner_state *st, unsigned slot, struct test_record *r)
{
	const struct runner_cfg *cfg = st->cfg;
	const struct variant *v = &cfg->plan->v[r->vidx];
	const struct test_def *t = &cfg->suite->tests[v->test];
	struct run_settings rs = cfg->settings; /* with v's kernel's layout */
	struct vm_spec_holder h;
	struct vm_job job = { 0 };
	struct vm_job_result res = { 0 };
	uint64_t t0 = ktstr_now_ms();
	uint32_t *pins = NULL; /* owned: performance-mode CPU reservation */
	unsigned npins = 0;
	int ret;

	record_free_attempt(r);
	rs.kernel_layout = cfg->kernel_layouts ? cfg->kernel_layouts[v->kernel] : NULL;
	ret = spec_build_vm(cfg->suite, v, &rs, &h);
	if (ret) {
		char msg[256];

		snprintf(msg, sizeof(msg), "could not build the VM spec for %s: %s", v->name,
			 strerror(-ret));
		verdict_from_result(NULL, msg, &r->verdict);
		return;
	}
	/* A backend that places CPUs (the host reservation) pins the VM
	 * itself, under its own bounded wait: nothing to reserve here. */
	if (t->performance_mode && !cfg->backend->places_cpus) {
		unsigned ncpus = topo_cpus(&v->topo);

		pins = calloc(ncpus + 1, sizeof(*pins));
		ret = pins ? reserve_perf_cpus(st, ncpus + 1, pins) : -ENOMEM;
		if (ret) {
			char msg[512], why[128];

			snprintf(why, sizeof(why), "other performance-mode VMs of this run held "
						   "them for %.1f s",
				 (double)(cfg->perf_wait_ms ? cfg->perf_wait_ms
							    : PERF_CPUS_WAIT_DEFAULT_MS) / 1000);
			snprintf(msg, sizeof(msg),
				 "performance_mode: cannot reserve %u host CPUs (%u vCPUs + 1 service "
				 "CPU) for %s: %s", ncpus + 1, ncpus, v->name,
				 ret == -EINTR	 ? "the run was stopped while waiting"
				 : ret == -ENOSPC ? "this process may use fewer CPUs (taskset/cpuset)"
				 : ret == -ETIMEDOUT ? why
						  : strerror(-ret));
			verdict_from_result(NULL, msg, &r->verdict);
			free(pins);
			spec_vm_free(&h);
			return;
		}
		npins = ncpus + 1;
		h.vm.n_pin_cpus = ncpus;
		h.vm.pin_cpus = pins;
		h.vm.has_service_cpu = 1;
		h.vm.service_cpu = pins[ncpus];
	}
	job.label = v->name;
	job.spec = &h.vm;
	job.kernel_fd = cfg->kernel_fds ? cfg->kernel_fds[v->kernel] : -1;
	job.initrd_fd = cfg->initrd_fds[t->image];
	job.stdin_fd = job.stdout_fd = -1;
	ret = cfg->backend->run(cfg->backend, &job, &st->slots[slot], &res);
	if (npins)
		perf_cpus_give(&st->perf, pins, npins);
	free(pins); /* h.vm.pin_cpus borrowed it; h is not packed again */
	h.vm.pin_cpus = NULL;
	h.vm.n_pin_cpus = 0;
	r->wall_ms += ktstr_now_ms() - t0;
	if (ret && !res.error[0])
		snprintf(res.error, sizeof(res.error), "VM backend failed: %s", strerror(-ret));
	r->vm = res.result;
	record_engine(r, res.result, cfg->settings.engine);
	if (verdict_from_result(res.result, res.infra || !res.result ? res.error : NULL,
				&r->verdict)) {
		kerr("%s: out of memory judging the result", v->name);
		verdict_unknown(&r->verdict, "out of memory judging the result");
	}
	fail_closed_if_unconfined(cfg, r);
	/* Before expect_failure, which must see a metric's failure. */
	if (payload_metrics_judge(cfg->suite, &r->verdict)) {
		kerr("%s: out of memory reading payload metrics", v->name);
		verdict_unknown(&r->verdict, "out of memory reading payload metrics");
	} else if (expect_apply(&t->xfail, &r->verdict)) {
		kerr("%s: out of memory applying expect_failure", v->name);
		verdict_unknown(&r->verdict, "out of memory applying expect_failure");
	}
	if (st->stop && verdict_is_failure(r->verdict.kind) && r->verdict.kind != V_STOPPED &&
	    !r->verdict.tr) {
		/* Ended by our own stop request: say so rather than blame the test. */
		verdict_free(&r->verdict);
		r->verdict.kind = V_STOPPED;
		r->verdict.detail = strdup("stopped by SIGINT/SIGTERM before it finished");
	}
	spec_vm_free(&h);
}

static void *job_thread(void *arg)
{
	struct thread_arg *ta = arg;
	struct runner_state *st = ta->st;
	const struct runner_cfg *cfg = st->cfg;

	for (;;) {
		struct test_record *r;
		size_t idx;

		pthread_mutex_lock(&st->lock);
		if (st->stop || st->next >= st->njobs) {
			st->finished_threads++;
			pthread_mutex_unlock(&st->lock);
			return NULL;
		}
		idx = st->jobs[st->next++];
		r = &st->recs[idx];
		st->pg.running++;
		progress_update(&st->pg, cfg->plan->v[r->vidx].name);
		pthread_mutex_unlock(&st->lock);

		for (;;) {
			r->attempts++;
			kdbg("start %s (attempt %u)", cfg->plan->v[r->vidx].name, r->attempts);
			run_attempt(st, ta->slot, r);
			if (!verdict_is_failure(r->verdict.kind) || r->verdict.kind == V_STOPPED ||
			    r->attempts > cfg->retries || st->stop)
				break;
			/* Kept for JUnit's flaky/rerun marks (report.h). */
			if (report_note_attempt(cfg->suite, cfg->plan, r))
				kerr("%s: out of memory keeping a failed attempt",
				     cfg->plan->v[r->vidx].name);
		}

		pthread_mutex_lock(&st->lock);
		st->pg.running--;
		st->pg.done++;
		progress_clear(&st->pg);
		if (!cfg->quiet || verdict_is_failure(r->verdict.kind)) {
			report_test_line(cfg->out, cfg->suite, cfg->plan, r);
			fflush(cfg->out);
		}
		if (cfg->on_done)
			cfg->on_done(cfg->on_done_ctx, r);
		progress_update(&st->pg, NULL);
		pthread_mutex_unlock(&st->lock);
	}
}

static void request_stop(struct runner_state *st, unsigned nthreads)
{
	st->stop = 1;
	for (unsigned i = 0; i < nthreads; i++)
		__atomic_store_n(&st->slots[i].requested, 1, __ATOMIC_SEQ_CST);
}

/* Main thread: wait for the job threads, turning a stop signal (stop.h)
 * into a stop request. Every job is bounded by its VM timeout plus the
 * worker client's grace, so this loop ends. */
static int supervise(struct runner_state *st, unsigned nthreads, bool handle_signals)
{
	int got = 0;

	for (;;) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
		unsigned finished;
		int sig;

		pthread_mutex_lock(&st->lock);
		finished = st->finished_threads;
		pthread_mutex_unlock(&st->lock);
		sig = handle_signals ? stop_signal() : 0;
		/* A signal that reached the workers too (a CI engine's SIGTERM
		 * to the whole job) may end every VM before this loop looks:
		 * the run was still interrupted (exit 130), not failed. */
		if (finished == nthreads)
			return got ? got : sig;
		if (sig && !got) {
			pthread_mutex_lock(&st->lock);
			progress_clear(&st->pg);
			pthread_mutex_unlock(&st->lock);
			got = sig;
			request_stop(st, nthreads);
		}
		nanosleep(&ts, NULL);
	}
}

void runner_free_records(struct test_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		record_free(&recs[i]);
	free(recs);
}

static int make_records(const struct runner_cfg *cfg, struct runner_state *st, size_t *nrecs)
{
	const struct plan *p = cfg->plan;
	size_t n = 0, nj = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].state == VAR_KEPT || p->v[i].state == VAR_SKIP_HOST ||
		    p->v[i].state == VAR_SKIP_KERNEL)
			n++;
	st->recs = calloc(n ? n : 1, sizeof(*st->recs));
	st->jobs = calloc(n ? n : 1, sizeof(*st->jobs));
	if (!st->recs || !st->jobs)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct variant *v = &p->v[i];

		if (v->state == VAR_KEPT) {
			st->jobs[nj++] = n;
		} else if (v->state == VAR_SKIP_HOST || v->state == VAR_SKIP_KERNEL) {
			st->recs[n].verdict.kind = V_SKIP;
			st->recs[n].verdict.detail = strdup(v->reason);
		} else {
			continue;
		}
		st->recs[n].builder_sandboxed =
			v->state == VAR_KEPT && cfg->image_sandboxed
				? cfg->image_sandboxed[cfg->suite->tests[v->test].image]
				: -1;
		st->recs[n].builder_landlock =
			v->state == VAR_KEPT && cfg->image_landlock
				? cfg->image_landlock[cfg->suite->tests[v->test].image]
				: -1;
		st->recs[n++].vidx = i;
	}
	st->njobs = nj;
	*nrecs = n;
	return 0;
}

int runner_run(const struct runner_cfg *cfg, struct test_record **recs, size_t *nrecs)
{
	struct runner_state st = { .cfg = cfg };
	struct tty_relay relay = { .on = false };
	unsigned nthreads = cfg->workers ? cfg->workers : 1;
	pthread_t *tids = NULL;
	struct thread_arg *args = NULL;
	unsigned started = 0;
	int ret, got;

	ret = make_records(cfg, &st, nrecs);
	if (ret)
		goto err_recs;
	/* Report skips up front: they never wait for a VM. */
	for (size_t i = 0; i < *nrecs; i++)
		if (st.recs[i].verdict.kind == V_SKIP) {
			if (!cfg->quiet)
				report_test_line(cfg->out, cfg->suite, cfg->plan, &st.recs[i]);
			if (cfg->on_done)
				cfg->on_done(cfg->on_done_ctx, &st.recs[i]);
		}
	if (nthreads > st.njobs)
		nthreads = st.njobs ? (unsigned)st.njobs : 1;
	pthread_mutex_init(&st.lock, NULL);
	perf_cpus_init(&st.perf, NULL);
	progress_init(&st.pg, cfg->progress ? cfg->progress : stderr, st.njobs);
	if (!cfg->progress)
		st.pg.tty = false;
	if ((ret = tty_relay_start(&relay, &st.lock, &st.pg)))
		kwarn("cannot relay logs around the progress line (%s); they may overwrite it",
		      strerror(-ret));
	ret = 0;
	tids = calloc(nthreads, sizeof(*tids));
	args = calloc(nthreads, sizeof(*args));
	st.slots = calloc(nthreads, sizeof(*st.slots));
	if (!tids || !args || !st.slots) {
		ret = -ENOMEM;
		goto err_threads;
	}
	/* A stop that came before any job starts none. */
	if (cfg->handle_signals && stop_signal())
		st.stop = 1;
	for (; started < nthreads; started++) {
		args[started] = (struct thread_arg){ .st = &st, .slot = started };
		ret = -pthread_create(&tids[started], NULL, job_thread, &args[started]);
		if (ret) {
			kerr("cannot start job thread %u of %u: %s; running with %u", started + 1,
			     nthreads, strerror(-ret), started);
			break;
		}
	}
	if (!started)
		goto err_threads;
	got = supervise(&st, started, cfg->handle_signals);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_lock(&st.lock);
	progress_clear(&st.pg);
	pthread_mutex_unlock(&st.lock);
	tty_relay_stop(&relay);
	/* Jobs never started because of the stop. */
	for (size_t j = st.next; j < st.njobs; j++) {
		struct test_record *r = &st.recs[st.jobs[j]];

		r->verdict.kind = V_STOPPED;
		r->verdict.detail = strdup("not run: the run was interrupted");
	}
	ret = got ? -EINTR : 0;
	free(tids);
	free(args);
	free(st.slots);
	free(st.jobs);
	perf_cpus_destroy(&st.perf);
	pthread_mutex_destroy(&st.lock);
	*recs = st.recs;
	return ret;

err_threads:
	tty_relay_stop(&relay);
	free(tids);
	free(args);
	free(st.slots);
	perf_cpus_destroy(&st.perf);
	pthread_mutex_destroy(&st.lock);
err_recs:
	free(st.jobs);
	runner_free_records(st.recs, *nrecs);
	*nrecs = 0;
	return ret ? ret : -EAGAIN;
}
