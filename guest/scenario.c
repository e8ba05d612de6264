/* Scenario runner. Single-threaded by design: the hold loop ticks every
 * 50 ms and is where the scheduler watch, host shutdown requests and dump
 * requests are handled, so there are no locks and no thread can outlive PID
 * 1's decisions. */
#include <ktstr/guest_contract.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "ktstr/cpuspec.h"
#include "payload.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "scenario.h"
#include "sched_dump.h"
#include "spec.h"
#include "verdict.h"
#include "worker.h"

struct sc_cg {
	char name[SPEC_NAME_MAX + 1];
	char path[512];
	bool live;
	bool has_cpuset;
	struct cpuset_bits cpus; /* resolved cpuset when has_cpuset */
};

struct sc_w {
	struct worker w;
	int cg;
	bool stopped; /* SIGUSR1 sent and report collected (or killed) */
	Ktstr__WorkType type;
	bool restricted;	   /* lived only under cpusets ... */
	struct cpuset_bits allowed; /* ... whose union is this */
};

struct shared_page {
	uint64_t live_iters[SPEC_MAX_WORKERS];
	/* One per worker group that shares state (work_uses_group); a group
	 * has at least one worker, so there are never more groups than that. */
	struct work_group groups[SPEC_MAX_WORKERS];
};

struct run {
	const struct scenario_env *env;
	const Ktstr__Scenario *sc;
	struct result *res;
	struct sc_cg cg[SCENARIO_MAX_CGROUPS];
	unsigned ncg;
	struct sc_w *ws;
	size_t nw, capw;
	struct shared_page *shared; /* MAP_SHARED with every worker */
	unsigned ngroups;
	uint64_t t0;
	unsigned steps_done;
	bool died, host_stop;
	/* Payload runs in start order (at most KTSTR_PAYLOAD_RUNS_MAX, checked
	 * with the spec); claimed: a wait_payload or kill_payload took it. */
	struct payload_run *pl[KTSTR_PAYLOAD_RUNS_MAX];
	bool claimed[KTSTR_PAYLOAD_RUNS_MAX];
	size_t npl;
	unsigned cur_step;
	uint64_t next_tick;
	char err[512];
};

static int find_cg(struct run *r, const char *name)
{
	for (unsigned i = 0; i < r->ncg; i++)
		if (r->cg[i].live && !strcmp(r->cg[i].name, name))
			return (int)i;
	return -1;
}

/* CPUs the cgroup lets its tasks use. */
static void cg_allowed(struct run *r, int ci, struct cpuset_bits *out)
{
	if (r->cg[ci].has_cpuset)
		*out = r->cg[ci].cpus;
	else
		*out = r->env->topo->usable;
}

static void note_cpuset_change(struct run *r, int ci)
{
	for (size_t i = 0; i < r->nw; i++) {
		struct sc_w *w = &r->ws[i];

		if (w->stopped || w->cg != ci || !w->restricted)
			continue;
		if (!r->cg[ci].has_cpuset) {
			w->restricted = false;
			continue;
		}
		for (unsigned k = 0; k < CPUSET_WORDS; k++)
			w->allowed.w[k] |= r->cg[ci].cpus.w[k];
	}
}

static int set_cpuset(struct run *r, int ci, const Ktstr__CpusetSpec *cs)
{
	struct cpuset_bits set;
	int ret;

	if (!cs || cs->kind == KTSTR__CPUSET_SPEC__KIND__NONE) {
		ret = cg_set_cpus(r->cg[ci].path, NULL, r->err, sizeof(r->err));
		if (!ret)
			r->cg[ci].has_cpuset = false;
	} else {
		ret = cpuspec_resolve(r->env->topo, cs, &set, r->err, sizeof(r->err));
		if (!ret)
			ret = cg_set_cpus(r->cg[ci].path, &set, r->err, sizeof(r->err));
		if (!ret) {
			r->cg[ci].has_cpuset = true;
			r->cg[ci].cpus = set;
		}
	}
	if (!ret)
		note_cpuset_change(r, ci);
	return ret;
}

static int add_cg(struct run *r, const char *name, int *out)
{
	struct sc_cg *c;
	int n;

	if (find_cg(r, name) >= 0) {
		snprintf(r->err, sizeof(r->err), "cgroup %s already exists", name);
		return -EEXIST;
	}
	if (r->ncg == SCENARIO_MAX_CGROUPS) {
		snprintf(r->err, sizeof(r->err), "more than %d cgroups in one scenario",
			 SCENARIO_MAX_CGROUPS);
		return -ENOSPC;
	}
	c = &r->cg[r->ncg];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	n = snprintf(c->path, sizeof(c->path), "%s/%s", r->env->cg_parent, name);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		snprintf(r->err, sizeof(r->err), "cgroup path for %s too long", name);
		return -ENAMETOOLONG;
	}
	if (cg_create(c->path, r->err, sizeof(r->err)))
		return -errno ? -errno : -EIO;
	c->live = true;
	*out = (int)r->ncg++;
	return 0;
}

static struct sc_w *new_worker(struct run *r)
{
	if (KTSTR_GROW(r->ws, &r->capw, r->nw + 1, 16))
		return NULL;
	memset(&r->ws[r->nw], 0, sizeof(r->ws[0]));
	return &r->ws[r->nw++];
}

static int spawn_def(struct run *r, int ci, const Ktstr__CgroupDef *d)
{
	Ktstr__WorkType type = d->work ? d->work->type : KTSTR__WORK_TYPE__WORK_CPU_SPIN;
	/* spec_validate_scenario has checked group <= SPEC_MAX_WORKERS. */
	unsigned group = (unsigned)ktstr_work_group_size(d->work);
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } };
	bool shares = work_uses_group(type), piped = work_uses_pipes(type);
	struct cpuset_bits allowed;
	int ret = 0;

	if (!work_supported(type)) {
		snprintf(r->err, sizeof(r->err), "cgroup %s: work type %s is not implemented by "
			 "this guest", d->name,
			 protobuf_c_enum_descriptor_get_value(&ktstr__work_type__descriptor, type)
				 ->name);
		return -EOPNOTSUPP;
	}
	cg_allowed(r, ci, &allowed);
	for (uint32_t i = 0; i < d->workers && !ret; i++) {
		struct worker_opts o = { 0 };
		struct cpuset_bits aff;
		struct sc_w *w;
		unsigned side = i % group;

		if (r->nw >= SPEC_MAX_WORKERS) {
			snprintf(r->err, sizeof(r->err), "more than %u workers in one scenario",
				 SPEC_MAX_WORKERS);
			return -ENOSPC;
		}
		work_cfg_defaults(&o.cfg, d->work);
		o.cfg.live_iters = &r->shared->live_iters[r->nw];
		o.cfg.allowed = allowed;
		o.cfg.seed = (unsigned long)r->nw * 7919u + 17u;
		o.cfg.side = (int)side;
		if (shares && side == 0) {
			if (r->ngroups >= SPEC_MAX_WORKERS) {
				snprintf(r->err, sizeof(r->err),
					 "more than %u worker groups in one scenario",
					 SPEC_MAX_WORKERS);
				return -ENOSPC;
			}
			memset(&r->shared->groups[r->ngroups], 0, sizeof(r->shared->groups[0]));
			r->ngroups++;
		}
		if (shares)
			o.cfg.grp = &r->shared->groups[r->ngroups - 1];
		if (piped && side == 0 &&
		    (pipe2(pipes[0], O_CLOEXEC) || pipe2(pipes[1], O_CLOEXEC))) {
			ret = -errno;
			snprintf(r->err, sizeof(r->err), "pipe for %s pair: %s", d->name,
				 strerror(-ret));
			break;
		}
		if (piped) {
			/* side 0 writes pipe 0 and reads pipe 1; side 1 the reverse */
			o.cfg.wr_fd = pipes[side][1];
			o.cfg.rd_fd = pipes[side ^ 1][0];
		}
		if (d->affinity) {
			ret = affinity_resolve(r->env->topo, d->affinity, &allowed, i,
					       (unsigned long)r->nw, &aff, r->err, sizeof(r->err));
			if (ret)
				break;
			o.affinity = &aff;
		}
		o.cgroup_path = r->cg[ci].path;
		o.policy = d->policy;
		o.priority = d->priority;
		o.has_nice = d->has_nice;
		o.nice = d->nice;
		w = new_worker(r);
		if (!w) {
			ret = -ENOMEM;
			break;
		}
		ret = worker_spawn(&o, &w->w, r->err, sizeof(r->err));
		/* Its progress at the scenario's start: set again then; 0 for a
		 * worker spawned by a step, mid-scenario. */
		w->w.live = o.cfg.live_iters;
		w->w.live_at_start = 0;
		if (ret) {
			r->nw--;
			break;
		}
		w->cg = ci;
		w->type = type;
		w->restricted = r->cg[ci].has_cpuset;
		w->allowed = allowed;
		if (piped && side == 1) {
			/* Both sides forked: PID 1's copies are no longer needed. */
			for (int k = 0; k < 4; k++)
				if (pipes[k / 2][k % 2] >= 0)
					close(pipes[k / 2][k % 2]);
			memset(pipes, -1, sizeof(pipes));
		}
	}
	for (int k = 0; k < 4; k++)
		if (pipes[k / 2][k % 2] >= 0)
			close(pipes[k / 2][k % 2]);
	return ret;
}

/* Stop and collect every worker matching ci (-1 = all). */
static void stop_workers(struct run *r, int ci)
{
	struct worker **list = calloc(r->nw ? r->nw : 1, sizeof(*list));
	size_t n = 0;

	for (size_t i = 0; i < r->nw; i++) {
		struct sc_w *w = &r->ws[i];

		if (w->stopped || (ci >= 0 && w->cg != ci))
			continue;
		worker_stop(&w->w);
		if (list)
			list[n++] = &w->w;
		w->stopped = true;
	}
	worker_collect(list, n, WORKER_COLLECT_MS);
	free(list);
}

static int set_affinity(struct run *r, int ci, const Ktstr__AffinitySpec *a)
{
	struct cpuset_bits allowed, aff;
	unsigned idx = 0;

	cg_allowed(r, ci, &allowed);
	for (size_t i = 0; i < r->nw; i++) {
		struct sc_w *w = &r->ws[i];
		cpu_set_t set;
		int ret;

		if (w->stopped || w->cg != ci)
			continue;
		ret = affinity_resolve(r->env->topo, a, &allowed, idx++, (unsigned long)i, &aff,
				       r->err, sizeof(r->err));
		if (ret)
			return ret;
		CPU_ZERO(&set);
		for (unsigned c = 0; c < CPU_SETSIZE; c++)
			if (cpuset_has(&aff, c))
				CPU_SET(c, &set);
		if (sched_setaffinity(w->w.pid, sizeof(set), &set) && errno != ESRCH) {
			ret = -errno;
			snprintf(r->err, sizeof(r->err), "sched_setaffinity(%d) in %s: %s",
				 (int)w->w.pid, r->cg[ci].name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int need_cg(struct run *r, const char *name, int *ci)
{
	*ci = find_cg(r, name ? name : "");
	if (*ci < 0) {
		snprintf(r->err, sizeof(r->err), "no cgroup named \"%s\" in this scenario",
			 name ? name : "");
		return -ENOENT;
	}
	return 0;
}

static int run_payload(struct run *r, const Ktstr__Op *op);
static int end_payload(struct run *r, const Ktstr__Op *op);

static int apply_op(struct run *r, const Ktstr__Op *op)
{
	int a, b, ret;

	switch (op->kind) {
	case KTSTR__OP__KIND__ADD_CGROUP:
		ret = add_cg(r, op->def->name, &a);
		if (!ret && op->def->cpuset)
			ret = set_cpuset(r, a, op->def->cpuset);
		return ret ? ret : spawn_def(r, a, op->def);
	case KTSTR__OP__KIND__SPAWN:
		return need_cg(r, op->def->name, &a) ?: spawn_def(r, a, op->def);
	case KTSTR__OP__KIND__REMOVE_CGROUP:
		if ((ret = need_cg(r, op->cgroup, &a)))
			return ret;
		stop_workers(r, a);
		ret = cg_remove(r->cg[a].path, r->err, sizeof(r->err));
		if (!ret)
			r->cg[a].live = false;
		return ret;
	case KTSTR__OP__KIND__STOP_CGROUP:
		if ((ret = need_cg(r, op->cgroup, &a)))
			return ret;
		stop_workers(r, a);
		return 0;
	case KTSTR__OP__KIND__SET_CPUSET:
		return need_cg(r, op->cgroup, &a) ?: set_cpuset(r, a, op->cpuset);
	case KTSTR__OP__KIND__CLEAR_CPUSET:
		return need_cg(r, op->cgroup, &a) ?: set_cpuset(r, a, NULL);
	case KTSTR__OP__KIND__SWAP_CPUSETS: {
		struct sc_cg ca, cb;

		if ((ret = need_cg(r, op->cgroup, &a)) || (ret = need_cg(r, op->cgroup2, &b)))
			return ret;
		ca = r->cg[a];
		cb = r->cg[b];
		ret = cg_set_cpus(r->cg[a].path, cb.has_cpuset ? &cb.cpus : NULL, r->err,
				  sizeof(r->err));
		if (!ret)
			ret = cg_set_cpus(r->cg[b].path, ca.has_cpuset ? &ca.cpus : NULL, r->err,
					  sizeof(r->err));
		if (ret)
			return ret;
		r->cg[a].has_cpuset = cb.has_cpuset;
		r->cg[a].cpus = cb.cpus;
		r->cg[b].has_cpuset = ca.has_cpuset;
		r->cg[b].cpus = ca.cpus;
		note_cpuset_change(r, a);
		note_cpuset_change(r, b);
		return 0;
	}
	case KTSTR__OP__KIND__SET_AFFINITY:
		return need_cg(r, op->cgroup, &a) ?: set_affinity(r, a, op->affinity);
	case KTSTR__OP__KIND__MOVE_ALL_TASKS:
		if ((ret = need_cg(r, op->cgroup, &a)) || (ret = need_cg(r, op->cgroup2, &b)))
			return ret;
		ret = cg_move_all(r->cg[a].path, r->cg[b].path, r->err, sizeof(r->err));
		if (ret)
			return ret;
		for (size_t i = 0; i < r->nw; i++)
			if (!r->ws[i].stopped && r->ws[i].cg == a)
				r->ws[i].cg = b;
		note_cpuset_change(r, b);
		return 0;
	case KTSTR__OP__KIND__RUN_PAYLOAD:
		return run_payload(r, op);
	case KTSTR__OP__KIND__WAIT_PAYLOAD:
	case KTSTR__OP__KIND__KILL_PAYLOAD:
		return end_payload(r, op);
	default:
		snprintf(r->err, sizeof(r->err), "op kind %d unknown", (int)op->kind);
		return -EINVAL;
	}
}

static uint32_t elapsed_ms(const struct run *r)
{
	return (uint32_t)(ktstr_now_ms() - r->t0);
}

/* during: what the scenario was doing when it noticed ("" = running). */
static void on_sched_death(struct run *r, const char *during)
{
	char reason[1536];
	char *tail;
	struct sched *s = r->env->sched;
	unsigned nsteps = r->sc->n_steps ? (unsigned)r->sc->n_steps : 1;
	uint32_t at = elapsed_ms(r);

	/* The kernel logs its reason and the loader prints its exit only
	 * after "disabling" ends: reading at once lost both (the reason came
	 * back as the "enabled" line). Bounded: a hung loader costs 3 s. */
	sched_settle(s, 3000);
	sched_exit_reason(reason, sizeof(reason));
	tail = sched_log_tail(4096);
	report_line(r->env->rep, KTSTR_COM2_SCHED_DIED);
	result_set(r->res, KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED,
		   "scheduler process died unexpectedly after completing step %u of %u (%.1fs "
		   "into test%s%s): %s",
		   r->steps_done, nsteps, (double)at / 1000.0, *during ? ", " : "", during, reason);
	result_str(&r->res->tr.sched_exit_reason, reason);
	result_str(&r->res->tr.scheduler_log_tail, tail);
	free(tail);
	/* The host ends the VM on sight of SCHED_EXIT (docs/reference.md, "SHM
	 * ring drain cadence and SCHED_EXIT"), so it is sent by finish() after
	 * the result, not here. */
	s->death_seen = true;
	s->died_at_ms = at;
	s->died_reaped = s->exited && !s->pid;
	r->died = true;
}

/* The host's monitor saw a sustained violation and asks for sched_ext's
 * debug dump (ring signal byte 'D'): relay it on COM2 (sched_dump.h). */
static void serve_dump_request(struct report *rep)
{
	if (rep->have_ring && ring_slot_get(&rep->shm.ring, 12) == 'D') {
		ring_slot_set(&rep->shm.ring, 12, 0);
		sched_dump_relay(rep);
	}
}

/* The watchers: false when the scenario must end early (the scheduler
 * died, or the host asked to shut down). during: as on_sched_death's. */
static bool tick(struct run *r, const char *during)
{
	struct report *rep = r->env->rep;

	if (sched_died(r->env->sched)) {
		on_sched_death(r, during);
		return false;
	}
	if (rep->have_ring) {
		if (ring_slot_get(&rep->shm.ring, 14) == KTSTR_SLOT0_SHUTDOWN) {
			r->host_stop = true;
			return false;
		}
		serve_dump_request(rep);
	}
	return true;
}

/* Hold for ms, ticking the watchers; running payloads' output is read
 * meanwhile (a full pipe would stall them). Returns false when the
 * scenario must end early. */
static bool hold(struct run *r, uint64_t ms)
{
	uint64_t end = ktstr_now_ms() + ms;

	for (;;) {
		uint64_t now = ktstr_now_ms();
		uint64_t left;

		if (now >= r->next_tick) {
			if (!tick(r, ""))
				return false;
			r->next_tick = now + SCENARIO_TICK_MS;
		}
		if (now >= end)
			return true;
		left = end - now < SCENARIO_TICK_MS ? end - now : SCENARIO_TICK_MS;
		if (r->next_tick - now < left)
			left = r->next_tick - now;
		payload_pump(r->pl, r->npl, (int)left);
	}
}

/* Wait for p to end, or until until_ms (0: its own deadline), ticking the
 * watchers. 0, -ETIMEDOUT, or -ECANCELED when the scenario must end (p is
 * then stopped). */
static int wait_run(struct run *r, struct payload_run *p, uint64_t until_ms)
{
	char during[96];

	snprintf(during, sizeof(during), "while payload %s ran", p->name);
	for (;;) {
		uint64_t now = ktstr_now_ms();

		if (now >= r->next_tick) {
			if (!tick(r, during)) {
				payload_stop(p, r->died ? "the scheduler died: stopped"
							: "the host asked to shut down: stopped");
				return -ECANCELED;
			}
			r->next_tick = now + SCENARIO_TICK_MS;
		}
		if (p->done)
			return 0;
		if (until_ms && now >= until_ms)
			return -ETIMEDOUT;
		payload_pump(r->pl, r->npl, SCENARIO_TICK_MS);
	}
}

static const Ktstr__PayloadSpec *find_payload(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->env->npayloads; i++)
		if (!strcmp(r->env->payloads[i]->name, name))
			return r->env->payloads[i];
	return NULL;
}

/* run_payload: start it in its cgroup (op->cgroup, else PID 1's: the root
 * cgroup, the one the no-internal-processes rule of cgroup v2 exempts; the
 * test's parent holds the scenario's cgroups and may hold no task);
 * a foreground run is waited for here, until its timeout (default: the
 * scenario's duration). */
static int run_payload(struct run *r, const Ktstr__Op *op)
{
	const Ktstr__PayloadOp *po = op->payload;
	const Ktstr__PayloadSpec *spec = find_payload(r, po->name);
	const char *cg = NULL;
	uint32_t timeout = po->timeout_ms;
	struct payload_run *p;
	int ci, ret;

	if (!spec) {
		snprintf(r->err, sizeof(r->err), "no payload named \"%s\" in the spec", po->name);
		return -ENOENT;
	}
	if (r->npl == KTSTR_PAYLOAD_RUNS_MAX) {
		snprintf(r->err, sizeof(r->err), "more than %d payload runs in one scenario",
			 KTSTR_PAYLOAD_RUNS_MAX);
		return -ENOSPC;
	}
	if (op->cgroup) {
		if ((ret = need_cg(r, op->cgroup, &ci)))
			return ret;
		cg = r->cg[ci].path;
	}
	if (!timeout && !po->background)
		timeout = r->sc->duration_ms;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(r->err, sizeof(r->err), "out of memory starting payload %s", po->name);
		return -ENOMEM;
	}
	ret = payload_start(p, spec, po, cg, timeout, r->err, sizeof(r->err));
	if (ret) {
		free(p);
		return ret;
	}
	p->step = r->cur_step;
	r->pl[r->npl++] = p;
	if (po->background)
		return 0;
	/* Its own deadline ends it; a scheduler death ends the scenario. */
	ret = wait_run(r, p, 0);
	return ret == -ECANCELED ? ret : 0;
}

/* wait_payload / kill_payload: the newest unclaimed background run of the
 * payload (the rules keep it the only one). */
static int end_payload(struct run *r, const Ktstr__Op *op)
{
	const Ktstr__PayloadOp *po = op->payload;
	struct payload_run *p = NULL;
	size_t i;
	int ret;

	for (i = r->npl; i-- > 0;)
		if (!r->claimed[i] && r->pl[i]->background && !strcmp(r->pl[i]->name, po->name)) {
			p = r->pl[i];
			break;
		}
	if (!p) {
		snprintf(r->err, sizeof(r->err), "payload %s is not running in the background",
			 po->name);
		return -ENOENT;
	}
	r->claimed[i] = true;
	if (op->kind == KTSTR__OP__KIND__KILL_PAYLOAD) {
		payload_stop(p, "killed by kill_payload");
		return 0;
	}
	ret = wait_run(r, p, ktstr_now_ms() + (po->timeout_ms ? po->timeout_ms
							     : r->sc->duration_ms));
	if (ret == -ETIMEDOUT) {
		/* Still running when the wait ran out: too slow, judged so. */
		p->timed_out = true;
		payload_stop(p, "wait_payload timed out: killed");
	}
	return ret == -ECANCELED ? ret : 0;
}

/* Every run ends with the scenario (a background one still running is
 * stopped, not judged); each is reported, and one that failed (exit other
 * than expect_exit, a signal, a timeout) fails the test when judge is set. */
static void end_payloads(struct run *r, bool judge_them)
{
	for (size_t i = 0; i < r->npl; i++) {
		struct payload_run *p = r->pl[i];
		Ktstr__PayloadResult *pr;

		payload_stop(p, "still running at the scenario's end: killed");
		if (judge_them) {
			struct verdict_failure f = { 0 };

			if (payload_failed(p, f.message, sizeof(f.message))) {
				snprintf(f.check, sizeof(f.check), "payload");
				result_add_failure(r->res, &f);
			}
		}
		pr = payload_result(p);
		if (pr)
			result_add_payload(r->res, pr);
		payload_release(p);
		free(p);
		r->pl[i] = NULL;
	}
	r->npl = 0;
}

static void stimulus(struct run *r, unsigned step, const Ktstr__Step *st)
{
	Ktstr__Stimulus m = KTSTR__STIMULUS__INIT;
	uint32_t kinds = 0, live_cg = 0, live_w = 0;
	uint64_t iters = 0;

	for (size_t i = 0; st && i < st->n_ops; i++)
		kinds |= 1u << (st->ops[i]->kind & 31);
	for (unsigned i = 0; i < r->ncg; i++)
		live_cg += r->cg[i].live;
	for (size_t i = 0; i < r->nw; i++) {
		live_w += !r->ws[i].stopped;
		iters += __atomic_load_n(&r->shared->live_iters[i], __ATOMIC_RELAXED);
	}
	m.elapsed_ms = elapsed_ms(r);
	m.step_index = step;
	m.has_op_count = m.has_op_kinds = m.has_cgroup_count = m.has_worker_count = 1;
	m.has_total_iterations = 1;
	m.op_count = st ? (uint32_t)st->n_ops : 0;
	m.op_kinds = kinds;
	m.cgroup_count = live_cg;
	m.worker_count = live_w;
	m.total_iterations = iters;
	report_stimulus(r->env->rep, &m);
}

static uint64_t step_ms(const Ktstr__Scenario *sc, const Ktstr__Step *st)
{
	if (!st->hold)
		return sc->duration_ms / (sc->n_steps ? sc->n_steps : 1);
	if (st->hold->kind == KTSTR__HOLD_SPEC__KIND__FIXED)
		return st->hold->ms;
	return (uint64_t)(st->hold->frac * sc->duration_ms);
}

static void judge(struct run *r)
{
	struct verdict_limits lim;
	struct verdict_worker *vw = calloc(r->nw ? r->nw : 1, sizeof(*vw));
	struct verdict_result vr = { 0 };
	const char **cgname = calloc(r->nw ? r->nw : 1, sizeof(*cgname));
	size_t n = 0;

	if (!vw || !cgname)
		goto out;
	verdict_limits_from_spec(r->env->asserts, &lim);
	for (size_t i = 0; i < r->nw; i++) {
		struct sc_w *w = &r->ws[i];
		struct cpuset_bits allowed;

		if (!w->w.have_report) {
			/* A worker that never gets a CPU cannot run its stop handler
			 * either, so a starved worker never reports. The shared page
			 * still shows how far it got: no iteration at all is
			 * starvation, and is named as such. */
			uint64_t seen = __atomic_load_n(&r->shared->live_iters[i], __ATOMIC_RELAXED);
			struct verdict_failure f = { .tid = (uint32_t)w->w.pid };
			struct worker_report syn = { .magic = WREPORT_MAGIC,
						     .tid = (uint32_t)w->w.pid,
						     .iterations = seen };

			snprintf(f.cgroup, sizeof(f.cgroup), "%s", r->cg[w->cg].name);
			if (!seen && lim.not_starved) {
				snprintf(f.check, sizeof(f.check), "starvation");
				snprintf(f.message, sizeof(f.message),
					 "tid %d starved (0 work units)", (int)w->w.pid);
			} else if (seen == w->w.live_at_start && lim.not_starved) {
				snprintf(f.check, sizeof(f.check), "starvation");
				snprintf(f.message, sizeof(f.message),
					 "tid %d starved (0 work units after settle; %llu iterations "
					 "before the scenario started)",
					 (int)w->w.pid, (unsigned long long)seen);
			} else {
				snprintf(f.check, sizeof(f.check), "worker");
				snprintf(f.message, sizeof(f.message),
					 "tid %d did not report within %d ms of stop%s (%llu "
					 "iterations seen live)",
					 (int)w->w.pid, WORKER_COLLECT_MS,
					 w->w.killed ? "; killed" : "", (unsigned long long)seen);
			}
			result_add_failure(r->res, &f);
			result_add_worker(r->res, &syn, r->cg[w->cg].name, w->type);
			continue;
		}
		if (w->w.rep.err) {
			struct verdict_failure f = { .tid = w->w.rep.tid };

			snprintf(f.check, sizeof(f.check), "worker");
			snprintf(f.cgroup, sizeof(f.cgroup), "%s", r->cg[w->cg].name);
			snprintf(f.message, sizeof(f.message), "tid %u setup failed: %s",
				 w->w.rep.tid, w->w.rep.errmsg);
			result_add_failure(r->res, &f);
		}
		result_add_worker(r->res, &w->w.rep, r->cg[w->cg].name, w->type);
		cg_allowed(r, w->cg, &allowed);
		vw[n].r = &w->w.rep;
		vw[n].cgroup = r->cg[w->cg].name;
		vw[n].allowed = w->restricted ? &w->allowed : NULL;
		vw[n].group_cpus = cpuset_count(&allowed);
		n++;
	}
	if (verdict_evaluate(&lim, vw, n, &vr) == 0)
		for (size_t i = 0; i < vr.n; i++)
			result_add_failure(r->res, &vr.f[i]);
	for (unsigned c = 0; c < r->ncg; c++) {
		double lo, hi;
		unsigned cnt = verdict_cgroup_spread(vw, n, r->cg[c].name, &lo, &hi);
		uint64_t gap = 0, units = 0;
		char list[1024] = "";

		for (size_t i = 0; i < n; i++)
			if (!strcmp(vw[i].cgroup, r->cg[c].name)) {
				if (vw[i].r->max_gap_ns / 1000000u > gap)
					gap = vw[i].r->max_gap_ns / 1000000u;
				units += vw[i].r->work_units;
			}
		if (r->cg[c].has_cpuset)
			cpulist_format(&r->cg[c].cpus, list, sizeof(list));
		result_add_cgroup(r->res, r->cg[c].name, list[0] ? list : NULL, cnt,
				  cnt >= 2 ? hi - lo : 0, gap, units);
	}
	if (r->res->tr.status == KTSTR__TEST_RESULT__STATUS__PASSED && r->res->tr.n_failures)
		result_set(r->res, KTSTR__TEST_RESULT__STATUS__FAILED, "%s",
			   r->res->tr.failures[0]->message);
out:
	verdict_result_free(&vr);
	free(vw);
	free(cgname);
}

void scenario_run(const struct scenario_env *env, const Ktstr__Scenario *sc, struct result *res)
{
	struct run *r = calloc(1, sizeof(*r));
	uint32_t scen_end;
	uint8_t le[4];
	int ret = 0;

	if (!r) {
		result_set(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "out of memory");
		return;
	}
	r->env = env;
	r->sc = sc;
	r->res = res;
	r->shared = mmap(NULL, sizeof(*r->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->shared == MAP_FAILED) {
		result_set(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED,
			   "mmap shared worker page: %s", strerror(errno));
		free(r);
		return;
	}
	r->t0 = ktstr_now_ms();
	for (size_t i = 0; i < sc->n_cgroups && !ret; i++) {
		const Ktstr__CgroupDef *d = sc->cgroups[i];
		int ci;

		ret = add_cg(r, d->name, &ci);
		if (!ret && d->cpuset)
			ret = set_cpuset(r, ci, d->cpuset);
		if (!ret)
			ret = spawn_def(r, ci, d);
	}
	if (ret) {
		/* A scheduler that died or was ejected while the scenario was
		 * being set up is the cause; the setup error (a worker that gave
		 * up waiting for PID 1, itself stalled) only its symptom. */
		if (sched_died(env->sched)) {
			char during[320];

			snprintf(during, sizeof(during), "during setup, which then failed: %.256s",
				 r->err);
			on_sched_death(r, during);
		} else {
			result_set(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "%s", r->err);
		}
		goto out_stop;
	}
	if (!hold(r, sc->settle_ms))
		goto out_stop;
	report_msg(env->rep, KTSTR_MSG_SCENARIO_START, NULL, 0);
	/* Settle is not judged: a worker that ran only before the scenario
	 * started (a scheduler that starves it once it sees its cgroup) is
	 * starved all the same. */
	for (size_t i = 0; i < r->nw; i++)
		r->ws[i].w.live_at_start =
			__atomic_load_n(&r->shared->live_iters[i], __ATOMIC_RELAXED);
	r->t0 = ktstr_now_ms();
	if (!sc->n_steps) {
		stimulus(r, 0, NULL);
		if (hold(r, sc->duration_ms))
			r->steps_done = 1;
	}
	for (size_t s = 0; s < sc->n_steps; s++) {
		const Ktstr__Step *st = sc->steps[s];

		r->cur_step = (unsigned)s;
		for (size_t o = 0; o < st->n_ops; o++) {
			ret = apply_op(r, st->ops[o]);
			if (ret == -ECANCELED)
				goto out_end; /* on_sched_death or the host said why */
			if (ret) {
				result_set(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED,
					   "step %zu op %zu: %s", s, o, r->err);
				goto out_end;
			}
		}
		stimulus(r, (unsigned)s, st);
		if (!hold(r, step_ms(sc, st)))
			goto out_end;
		r->steps_done++;
	}
out_end:
	/* A request that came with the scenario's last tick, while the
	 * scheduler still runs. */
	serve_dump_request(env->rep);
	scen_end = elapsed_ms(r);
	memcpy(le, &scen_end, sizeof(le));
	report_msg(env->rep, KTSTR_MSG_SCENARIO_END, le, sizeof(le));
out_stop:
	stop_workers(r, -1);
	/* Before judge(): a failed payload is the detail it reports first. */
	end_payloads(r, !r->died && res->tr.status == KTSTR__TEST_RESULT__STATUS__PASSED);
	res->tr.has_steps_completed = 1;
	res->tr.steps_completed = r->steps_done;
	res->tr.has_duration_ms = 1;
	res->tr.duration_ms = elapsed_ms(r);
	if (!r->died && res->tr.status == KTSTR__TEST_RESULT__STATUS__PASSED) {
		judge(r);
		if (r->host_stop && res->tr.status == KTSTR__TEST_RESULT__STATUS__PASSED)
			result_set(res, KTSTR__TEST_RESULT__STATUS__FAILED,
				   "host requested shutdown after %u of %zu steps (watchdog)",
				   r->steps_done, sc->n_steps);
	} else if (!r->died) {
		/* keep the setup failure; still attach what telemetry exists */
		for (size_t i = 0; i < r->nw; i++)
			if (r->ws[i].w.have_report)
				result_add_worker(res, &r->ws[i].w.rep, r->cg[r->ws[i].cg].name,
						  r->ws[i].type);
	}
	for (unsigned c = r->ncg; c-- > 0;)
		if (r->cg[c].live) {
			char err[256];

			if (cg_remove(r->cg[c].path, err, sizeof(err)))
				kwarn("cleanup: %s", err);
		}
	munmap(r->shared, sizeof(*r->shared));
	free(r->ws);
	free(r);
}
