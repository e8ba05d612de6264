/* The guest role: one test function with a struct ktstr_ctx. What the
 * function builds is the guest's own Scenario message and ktstr_run hands
 * it to the guest's scenario engine (guest/scenario.c, linked into this
 * library), judged by the guest's verdict code with the asserts the host
 * merged into /ktstr/spec.pb: one engine, the checks and messages of a
 * YAML test. ktstr-guest (PID 1) owns the scheduler, the ring and COM2; this
 * process is its payload, so it reports nothing to the host itself: its
 * TestResult goes to KTSTR_CTEST_RESULT_PATH for PID 1 (guest/ctest.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/ktstr.h>
#include <ktstr/util.h>

#include "gtopo.h"
#include "render.h"
#include "report.h"
#include "result.h"
#include "scenario.h"
#include "scheduler.h"
#include "spec.h"

#define CG_ROOT "/sys/fs/cgroup"

struct ktstr_ctx {
	const struct ktstr_test *t;
	Ktstr__GuestSpec *g; /* owned */
	struct gtopo topo;
	char cg_parent[512];
	struct report rep;   /* no ring, no COM2: PID 1 has them */
	struct sched sched;  /* never started: PID 1 watches the scheduler */
	struct result res;   /* the function's result; every run adds to it */
	Ktstr__Scenario *sc; /* the run being built; owned (free_unpacked) */
	char err[512];
};

static int fail_errno(struct ktstr_ctx *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_errno(struct ktstr_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return ret;
}

/* Append p to a protobuf-c repeated field (all malloc'd: free_unpacked). */
static int push(void ***arr, size_t *n, void *p)
{
	void **v = realloc(*arr, (*n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[(*n)++] = p;
	*arr = v;
	return 0;
}

static Ktstr__Scenario *cur(struct ktstr_ctx *c)
{
	if (!c->sc) {
		c->sc = calloc(1, sizeof(*c->sc));
		if (!c->sc)
			return NULL;
		ktstr__scenario__init(c->sc);
		c->sc->name = strdup(c->t->name);
		if (!c->sc->name) {
			free(c->sc);
			c->sc = NULL;
		}
	}
	return c->sc;
}

static Ktstr__CgroupDef *new_def(const char *name, unsigned workers, enum ktstr_work work)
{
	Ktstr__CgroupDef *d = calloc(1, sizeof(*d));
	Ktstr__WorkSpec *w = calloc(1, sizeof(*w));

	if (!d || !w) {
		free(d);
		free(w);
		return NULL;
	}
	ktstr__cgroup_def__init(d);
	ktstr__work_spec__init(w);
	if (!(d->name = strdup(name))) {
		free(d);
		free(w);
		return NULL;
	}
	w->type = (Ktstr__WorkType)work;
	d->work = w;
	d->has_workers = 1;
	d->workers = workers;
	return d;
}

static Ktstr__CgroupDef *find_def(struct ktstr_ctx *c, const char *name)
{
	for (size_t i = 0; c->sc && i < c->sc->n_cgroups; i++)
		if (!strcmp(c->sc->cgroups[i]->name, name))
			return c->sc->cgroups[i];
	return NULL;
}

static Ktstr__CpusetSpec *exact_cpuset(const char *cpus)
{
	Ktstr__CpusetSpec *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	ktstr__cpuset_spec__init(cs);
	cs->kind = KTSTR__CPUSET_SPEC__KIND__EXACT;
	if (!(cs->cpus = strdup(cpus))) {
		free(cs);
		return NULL;
	}
	return cs;
}

unsigned ktstr_ncpus(const struct ktstr_ctx *c)
{
	return cpuset_count(&c->topo.online);
}

unsigned ktstr_nllcs(const struct ktstr_ctx *c)
{
	return c->topo.nllc;
}

const char *ktstr_test_name(const struct ktstr_ctx *c)
{
	return c->t->name;
}

const char *ktstr_error(const struct ktstr_ctx *c)
{
	return c->err;
}

int ktstr_cgroup_add(struct ktstr_ctx *c, const char *name, unsigned workers,
		     enum ktstr_work work)
{
	Ktstr__Scenario *sc = cur(c);
	Ktstr__CgroupDef *d;

	if (!sc || !name)
		return fail_errno(c, -EINVAL, "ktstr_cgroup_add: %s", sc ? "no name" : "out of memory");
	if (find_def(c, name))
		return fail_errno(c, -EEXIST, "cgroup '%s' is already in this run", name);
	if (!(d = new_def(name, workers, work)))
		return fail_errno(c, -ENOMEM, "out of memory");
	if (push((void ***)&sc->cgroups, &sc->n_cgroups, d)) {
		ktstr__cgroup_def__free_unpacked(d, NULL);
		return fail_errno(c, -ENOMEM, "out of memory");
	}
	return 0;
}

int ktstr_cgroup_cpus(struct ktstr_ctx *c, const char *name, const char *cpulist)
{
	Ktstr__CgroupDef *d = find_def(c, name);

	if (!d)
		return fail_errno(c, -ENOENT, "no cgroup '%s' in this run (ktstr_cgroup_add first)",
				  name);
	if (d->cpuset)
		ktstr__cpuset_spec__free_unpacked(d->cpuset, NULL);
	if (!(d->cpuset = exact_cpuset(cpulist)))
		return fail_errno(c, -ENOMEM, "out of memory");
	return 0;
}

int ktstr_cgroup_llc(struct ktstr_ctx *c, const char *name, unsigned llc)
{
	Ktstr__CgroupDef *d = find_def(c, name);
	Ktstr__CpusetSpec *cs;

	if (!d)
		return fail_errno(c, -ENOENT, "no cgroup '%s' in this run (ktstr_cgroup_add first)",
				  name);
	if (!(cs = calloc(1, sizeof(*cs))))
		return fail_errno(c, -ENOMEM, "out of memory");
	ktstr__cpuset_spec__init(cs);
	cs->kind = KTSTR__CPUSET_SPEC__KIND__LLC;
	cs->has_index = 1;
	cs->index = llc;
	if (d->cpuset)
		ktstr__cpuset_spec__free_unpacked(d->cpuset, NULL);
	d->cpuset = cs;
	return 0;
}

int ktstr_cgroup_affinity(struct ktstr_ctx *c, const char *name, const char *cpulist)
{
	Ktstr__CgroupDef *d = find_def(c, name);
	Ktstr__AffinitySpec *a;

	if (!d)
		return fail_errno(c, -ENOENT, "no cgroup '%s' in this run (ktstr_cgroup_add first)",
				  name);
	if (!(a = calloc(1, sizeof(*a))))
		return fail_errno(c, -ENOMEM, "out of memory");
	ktstr__affinity_spec__init(a);
	a->kind = KTSTR__AFFINITY_SPEC__KIND__EXACT;
	if (!(a->cpus = strdup(cpulist))) {
		free(a);
		return fail_errno(c, -ENOMEM, "out of memory");
	}
	if (d->affinity)
		ktstr__affinity_spec__free_unpacked(d->affinity, NULL);
	d->affinity = a;
	return 0;
}

int ktstr_step(struct ktstr_ctx *c, unsigned hold_ms)
{
	Ktstr__Scenario *sc = cur(c);
	Ktstr__Step *st = calloc(1, sizeof(*st));

	if (!sc || !st) {
		free(st);
		return fail_errno(c, -ENOMEM, "out of memory");
	}
	ktstr__step__init(st);
	if (hold_ms) {
		st->hold = calloc(1, sizeof(*st->hold));
		if (!st->hold) {
			free(st);
			return fail_errno(c, -ENOMEM, "out of memory");
		}
		ktstr__hold_spec__init(st->hold);
		st->hold->kind = KTSTR__HOLD_SPEC__KIND__FIXED;
		st->hold->has_ms = 1;
		st->hold->ms = hold_ms;
	}
	if (push((void ***)&sc->steps, &sc->n_steps, st)) {
		ktstr__step__free_unpacked(st, NULL);
		return fail_errno(c, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A new op on the current step (ktstr_step first). */
static Ktstr__Op *new_op(struct ktstr_ctx *c, Ktstr__Op__Kind kind)
{
	Ktstr__Step *st;
	Ktstr__Op *op;

	if (!c->sc || !c->sc->n_steps) {
		fail_errno(c, -EINVAL, "an op needs a step: call ktstr_step first");
		return NULL;
	}
	st = c->sc->steps[c->sc->n_steps - 1];
	if (!(op = calloc(1, sizeof(*op)))) {
		fail_errno(c, -ENOMEM, "out of memory");
		return NULL;
	}
	ktstr__op__init(op);
	op->kind = kind;
	if (push((void ***)&st->ops, &st->n_ops, op)) {
		free(op);
		fail_errno(c, -ENOMEM, "out of memory");
		return NULL;
	}
	return op;
}

int ktstr_step_cpus(struct ktstr_ctx *c, const char *cgroup, const char *cpulist)
{
	Ktstr__Op *op = new_op(c, KTSTR__OP__KIND__SET_CPUSET);

	if (!op)
		return -EINVAL;
	if (!(op->cgroup = strdup(cgroup)) || !(op->cpuset = exact_cpuset(cpulist)))
		return fail_errno(c, -ENOMEM, "out of memory");
	return 0;
}

int ktstr_step_add(struct ktstr_ctx *c, const char *name, unsigned workers,
		   enum ktstr_work work)
{
	Ktstr__Op *op = new_op(c, KTSTR__OP__KIND__ADD_CGROUP);

	if (!op)
		return -EINVAL;
	if (!(op->def = new_def(name, workers, work)))
		return fail_errno(c, -ENOMEM, "out of memory");
	return 0;
}

int ktstr_step_stop(struct ktstr_ctx *c, const char *cgroup)
{
	Ktstr__Op *op = new_op(c, KTSTR__OP__KIND__STOP_CGROUP);

	if (!op)
		return -EINVAL;
	if (!(op->cgroup = strdup(cgroup)))
		return fail_errno(c, -ENOMEM, "out of memory");
	return 0;
}

int ktstr_run(struct ktstr_ctx *c, unsigned duration_ms)
{
	Ktstr__Scenario *sc = cur(c);
	struct scenario_env env = {
		.rep = &c->rep,
		.sched = &c->sched,
		.topo = &c->topo,
		.cg_parent = c->cg_parent,
		.asserts = c->g->asserts,
		.payloads = NULL,
		.npayloads = 0,
	};
	struct result r;
	int ret;

	if (!sc)
		return fail_errno(c, -ENOMEM, "out of memory");
	sc->has_duration_ms = 1;
	sc->duration_ms = duration_ms;
	/* The rules the host applies to a YAML scenario (spec.c), then the
	 * engine's own checks while it runs (cpusets on this topology). */
	if (spec_validate_scenario(sc, c->err, sizeof(c->err))) {
		ret = -EINVAL;
		result_set(&c->res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "%s", c->err);
		goto out;
	}
	result_init(&r, c->t->name);
	scenario_run(&env, sc, &r);
	if (result_adopt(&c->res, &r.tr))
		fprintf(stderr, "ktstr: out of memory keeping the run's telemetry\n");
	c->res.tr.has_steps_completed = 1;
	c->res.tr.steps_completed += r.tr.steps_completed;
	if (r.tr.status == KTSTR__TEST_RESULT__STATUS__PASSED) {
		ret = 0;
	} else {
		snprintf(c->err, sizeof(c->err), "%s", r.tr.detail ? r.tr.detail : "run failed");
		ret = r.tr.status == KTSTR__TEST_RESULT__STATUS__FAILED ? 1 : -EIO;
		/* The first failure is the test's detail, as in a YAML test. */
		if (c->res.tr.status == KTSTR__TEST_RESULT__STATUS__PASSED)
			result_set(&c->res, r.tr.status, "%s", c->err);
	}
	result_free(&r);
out:
	ktstr__scenario__free_unpacked(sc, NULL);
	c->sc = NULL;
	return ret;
}

size_t ktstr_nworkers(const struct ktstr_ctx *c)
{
	return c->res.tr.n_workers;
}

int ktstr_worker(const struct ktstr_ctx *c, size_t i, struct ktstr_worker_stats *out)
{
	const Ktstr__WorkerStats *w;

	if (i >= c->res.tr.n_workers)
		return -ERANGE;
	w = c->res.tr.workers[i];
	memset(out, 0, sizeof(*out));
	out->cgroup = w->cgroup;
	out->tid = w->tid;
	out->work_units = w->work_units;
	out->iterations = w->iterations;
	out->cpu_ns = w->cpu_ns;
	out->wall_ns = w->wall_ns;
	out->migrations = w->migrations;
	out->max_gap_ms = w->max_gap_ms;
	out->off_cpu_pct = w->off_cpu_pct;
	out->ncpus_used = (uint32_t)w->n_cpus_used;
	out->cpus_used = w->cpus_used;
	return 0;
}

int ktstr_fail(struct ktstr_ctx *c, const char *check, const char *fmt, ...)
{
	struct verdict_failure f = { 0 };
	va_list ap;

	snprintf(f.check, sizeof(f.check), "%s", check && *check ? check : "check");
	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	result_add_failure(&c->res, &f);
	if (c->res.tr.status == KTSTR__TEST_RESULT__STATUS__PASSED)
		result_set(&c->res, KTSTR__TEST_RESULT__STATUS__FAILED, "%s", f.message);
	/* Also in the output tail: the failure report shows both. */
	fprintf(stderr, "FAIL %s: %s\n", f.check, f.message);
	return 1;
}

int ktstr_skip(struct ktstr_ctx *c, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->res.tr.status == KTSTR__TEST_RESULT__STATUS__PASSED)
		result_set(&c->res, KTSTR__TEST_RESULT__STATUS__SKIPPED, "%s", why);
	fprintf(stderr, "SKIP: %s\n", why);
	return 0;
}

/* The result for PID 1: written whole to a temporary file, then renamed,
 * so PID 1 never reads half of one. */
static int write_result(const Ktstr__TestResult *tr)
{
	size_t n = ktstr__test_result__get_packed_size(tr);
	uint8_t *buf;
	int fd, ret = 0;

	if (n > KTSTR_CTEST_RESULT_MAX)
		return -EFBIG;
	if (!(buf = malloc(n ? n : 1)))
		return -ENOMEM;
	ktstr__test_result__pack(tr, buf);
	fd = open(KTSTR_CTEST_RESULT_PATH ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_full(fd, buf, n) || fsync(fd))
		ret = -errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	if (!ret && rename(KTSTR_CTEST_RESULT_PATH ".tmp", KTSTR_CTEST_RESULT_PATH))
		ret = -errno;
	free(buf);
	return ret;
}

static int ctx_open(struct ktstr_ctx *c, const struct ktstr_test *t)
{
	const char *parent = "/ktstr";
	int ret;

	memset(c, 0, sizeof(*c));
	c->t = t;
	report_init(&c->rep);
	result_init(&c->res, t->name);
	ret = spec_load(SPEC_PATH, &c->g, c->err, sizeof(c->err));
	if (ret)
		return ret;
	ret = gtopo_read("/sys", &c->topo, c->err, sizeof(c->err));
	if (ret)
		return ret;
	if (c->g->scheduler && c->g->scheduler->cgroup_parent)
		parent = c->g->scheduler->cgroup_parent;
	snprintf(c->cg_parent, sizeof(c->cg_parent), "%s%s", CG_ROOT, parent);
	return 0;
}

int ktstr_guest_run(const struct ktstr_test *begin, const struct ktstr_test *end,
		    const char *name)
{
	const struct ktstr_test *t;
	struct ktstr_ctx *c;
	int rc, ret;

	for (t = begin; t && t < end; t++)
		if (!strcmp(t->name, name))
			break;
	if (!t || t >= end) {
		fprintf(stderr, "ktstr: no test function '%s' is registered in this program\n",
			name);
		return 2;
	}
	/* Only in a ktstr guest: the spec is PID 1's, and the cgroups,
	 * workers and result paths are the VM's. */
	if (access(KTSTR_INITRD_SPEC_PATH, R_OK) || getenv("KTSTR_GUEST_INIT") == NULL) {
		fprintf(stderr, "ktstr: %s " KTSTR_CTEST_RUN_ARG " runs only inside a ktstr VM "
				"(use `list` or `run` on the host)\n",
			name);
		return 2;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return 3;
	ret = ctx_open(c, t);
	if (ret) {
		result_set(&c->res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "c_test %s: %s",
			   name, c->err);
	} else {
		/* Its output is the payload's tail in the failure report. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		rc = t->fn(c);
		fflush(stdout);
		if (c->sc) {
			ktstr__scenario__free_unpacked(c->sc, NULL);
			c->sc = NULL;
		}
		if (rc && c->res.tr.status == KTSTR__TEST_RESULT__STATUS__PASSED)
			result_set(&c->res, KTSTR__TEST_RESULT__STATUS__FAILED,
				   "test function %s returned %d", name, rc);
	}
	ret = write_result(&c->res.tr);
	if (ret)
		fprintf(stderr, "ktstr: cannot write the result of %s to %s: %s\n", name,
			KTSTR_CTEST_RESULT_PATH, strerror(-ret));
	result_free(&c->res);
	if (c->g)
		ktstr__guest_spec__free_unpacked(c->g, NULL);
	free(c);
	return ret ? 3 : 0;
}
