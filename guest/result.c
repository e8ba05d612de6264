#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "result.h"

void result_init(struct result *r, const char *test_name)
{
	memset(r, 0, sizeof(*r));
	ktstr__test_result__init(&r->tr);
	r->tr.status = KTSTR__TEST_RESULT__STATUS__PASSED;
	result_str(&r->tr.test_name, test_name);
}

void result_str(char **field, const char *s)
{
	free(*field);
	*field = s ? strdup(s) : NULL;
}

void result_set(struct result *r, Ktstr__TestResult__Status st, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	r->tr.status = st;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	result_str(&r->tr.detail, buf);
}

void result_set_detail(struct result *r, Ktstr__TestResult__Status st, const char *detail)
{
	r->tr.status = st;
	result_str(&r->tr.detail, detail);
}

/* Grow an array of pointers; returns the new slot or NULL. */
static void **slot(void ***arr, size_t *n, size_t *cap)
{
	if (KTSTR_GROW(*arr, cap, *n + 1, 8))
		return NULL;
	return &(*arr)[(*n)++];
}

int result_add_failure(struct result *r, const struct verdict_failure *f)
{
	Ktstr__CheckFailure *c = calloc(1, sizeof(*c));
	void **s;

	if (!c)
		return -ENOMEM;
	ktstr__check_failure__init(c);
	c->check = strdup(f->check);
	c->message = strdup(f->message);
	if (f->cgroup[0])
		c->cgroup = strdup(f->cgroup);
	if (f->tid) {
		c->has_tid = 1;
		c->tid = f->tid;
	}
	c->has_value = c->has_limit = 1;
	c->value = f->value;
	c->limit = f->limit;
	s = slot((void ***)&r->tr.failures, &r->tr.n_failures, &r->cap_f);
	if (!s || !c->check || !c->message) {
		ktstr__check_failure__free_unpacked(c, NULL);
		return -ENOMEM;
	}
	*s = c;
	return 0;
}

int result_add_worker(struct result *r, const struct worker_report *rep, const char *cgroup,
		      Ktstr__WorkType type)
{
	Ktstr__WorkerStats *w = calloc(1, sizeof(*w));
	unsigned n = cpuset_count(&rep->cpus_used), k = 0;
	void **s;

	if (!w)
		return -ENOMEM;
	ktstr__worker_stats__init(w);
	w->tid = rep->tid;
	w->cgroup = strdup(cgroup);
	w->has_work_units = w->has_cpu_ns = w->has_wall_ns = w->has_off_cpu_pct = 1;
	w->work_units = rep->work_units;
	w->cpu_ns = rep->cpu_ns;
	w->wall_ns = rep->wall_ns;
	w->off_cpu_pct = verdict_off_cpu_pct(rep);
	w->has_max_gap_ms = w->has_max_gap_cpu = w->has_max_gap_at_ms = 1;
	w->max_gap_ms = rep->max_gap_ns / 1000000u;
	w->max_gap_cpu = rep->max_gap_cpu;
	w->max_gap_at_ms = rep->max_gap_at_ns / 1000000u;
	w->has_migrations = w->has_iterations = 1;
	w->migrations = rep->migrations;
	w->iterations = rep->iterations;
	if (rep->wake_samples) {
		w->has_wake_p50_ns = w->has_wake_p99_ns = w->has_wake_samples = 1;
		w->wake_p50_ns = rep->wake_p50_ns;
		w->wake_p99_ns = rep->wake_p99_ns;
		w->wake_samples = rep->wake_samples;
	}
	w->has_work = 1;
	w->work = type;
	if (rep->note[0]) {
		w->note = strndup(rep->note, sizeof(rep->note));
		if (!w->note) {
			ktstr__worker_stats__free_unpacked(w, NULL);
			return -ENOMEM;
		}
	}
	w->cpus_used = calloc(n ? n : 1, sizeof(uint32_t));
	for (unsigned c = 0; w->cpus_used && c < CPUSET_WORDS * 64; c++)
		if (cpuset_has(&rep->cpus_used, c))
			w->cpus_used[k++] = c;
	w->n_cpus_used = k;
	s = slot((void ***)&r->tr.workers, &r->tr.n_workers, &r->cap_w);
	if (!s || !w->cgroup || !w->cpus_used) {
		ktstr__worker_stats__free_unpacked(w, NULL);
		return -ENOMEM;
	}
	*s = w;
	return 0;
}

int result_add_cgroup(struct result *r, const char *name, const char *cpus, uint32_t workers,
		      double spread_pct, uint64_t max_gap_ms, uint64_t total_units)
{
	Ktstr__CgroupStats *c = calloc(1, sizeof(*c));
	void **s;

	if (!c)
		return -ENOMEM;
	ktstr__cgroup_stats__init(c);
	c->name = strdup(name);
	if (cpus)
		c->cpuset = strdup(cpus);
	c->has_workers = c->has_spread_pct = c->has_max_gap_ms = c->has_total_work_units = 1;
	c->workers = workers;
	c->spread_pct = spread_pct;
	c->max_gap_ms = max_gap_ms;
	c->total_work_units = total_units;
	s = slot((void ***)&r->tr.cgroups, &r->tr.n_cgroups, &r->cap_c);
	if (!s || !c->name) {
		ktstr__cgroup_stats__free_unpacked(c, NULL);
		return -ENOMEM;
	}
	*s = c;
	return 0;
}

/* Moves the n pointers of src onto dst's array, emptying src. */
static int adopt(void ***dst, size_t *dn, size_t *cap, void ***src, size_t *sn)
{
	while (*sn) {
		void **s = slot(dst, dn, cap);

		if (!s)
			return -ENOMEM;
		*s = (*src)[0];
		memmove(*src, *src + 1, (*sn - 1) * sizeof(**src));
		(*sn)--;
	}
	return 0;
}

int result_adopt(struct result *r, Ktstr__TestResult *child)
{
	int ret = adopt((void ***)&r->tr.failures, &r->tr.n_failures, &r->cap_f,
			(void ***)&child->failures, &child->n_failures);

	if (!ret)
		ret = adopt((void ***)&r->tr.cgroups, &r->tr.n_cgroups, &r->cap_c,
			    (void ***)&child->cgroups, &child->n_cgroups);
	if (!ret)
		ret = adopt((void ***)&r->tr.workers, &r->tr.n_workers, &r->cap_w,
			    (void ***)&child->workers, &child->n_workers);
	return ret;
}

int result_exit_code(const struct result *r)
{
	return r->tr.status == KTSTR__TEST_RESULT__STATUS__PASSED ||
			       r->tr.status == KTSTR__TEST_RESULT__STATUS__SKIPPED
		       ? 0
		       : 1;
}

int result_add_payload(struct result *r, Ktstr__PayloadResult *pr)
{
	void **s = slot((void ***)&r->tr.payloads, &r->tr.n_payloads, &r->cap_p);

	if (!s) {
		ktstr__payload_result__free_unpacked(pr, NULL);
		return -ENOMEM;
	}
	*s = pr;
	return 0;
}

void result_free(struct result *r)
{
	/* Every pointer in tr was malloc'd by us, which is exactly what
	 * free_unpacked with the default allocator releases; tr itself is
	 * embedded, so free its members through a heap copy. */
	Ktstr__TestResult *copy = malloc(sizeof(*copy));

	if (copy) {
		*copy = r->tr;
		ktstr__test_result__free_unpacked(copy, NULL);
	}
	memset(r, 0, sizeof(*r));
}
