/* The grouped and attribute-churning work types, run for real on the host:
 * workers forked through worker_spawn as in the guest (no cgroup), stopped
 * with SIGUSR1, their reports collected. Checks that every worker works,
 * that the grouping is right (fan-out receivers are woken by their
 * messenger, mutex contenders exclude one another) and that NiceSweep and
 * PolicyChurn really change what /proc/<pid>/stat shows. Root runs the
 * privileged variants and drops to nobody for the unprivileged ones. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/util.h"
#include "spec.h"
#include "work.h"
#include "worker.h"

#define MAXW 8

struct run {
	struct worker w[MAXW];
	unsigned n;
	struct work_group *groups; /* MAP_SHARED, MAXW of them */
	uint64_t *live;		   /* MAP_SHARED: each worker's iterations so far */
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Fork n workers of ws, grouped as scenario.c groups them. */
static void spawn(struct run *r, const Ktstr__WorkSpec *ws, unsigned n)
{
	unsigned group = (unsigned)ktstr_work_group_size(ws), ngroups = 0;
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } };
	char err[256];

	cr_assert_leq(n, MAXW);
	cr_assert_eq(n % group, 0);
	memset(r, 0, sizeof(*r));
	r->groups = mmap(NULL, MAXW * sizeof(*r->groups), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(r->groups, MAP_FAILED);
	r->live = mmap(NULL, MAXW * sizeof(*r->live), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(r->live, MAP_FAILED);
	for (unsigned i = 0; i < n; i++) {
		struct worker_opts o = { 0 };
		unsigned side = i % group;

		work_cfg_defaults(&o.cfg, ws);
		o.cfg.live_iters = &r->live[i];
		o.cfg.side = (int)side;
		if (side == 0)
			ngroups++;
		if (work_uses_group(ws->type))
			o.cfg.grp = &r->groups[ngroups - 1];
		if (work_uses_pipes(ws->type)) {
			if (side == 0)
				cr_assert(!pipe2(pipes[0], O_CLOEXEC) &&
					  !pipe2(pipes[1], O_CLOEXEC));
			o.cfg.wr_fd = pipes[side][1];
			o.cfg.rd_fd = pipes[side ^ 1][0];
		}
		cr_assert_eq(worker_spawn(&o, &r->w[i], err, sizeof(err)), 0, "%s", err);
		if (work_uses_pipes(ws->type) && side == 1)
			for (int k = 0; k < 4; k++)
				close(pipes[k / 2][k % 2]);
	}
	r->n = n;
}

static void stop_all(struct run *r)
{
	struct worker *ws[MAXW];
	uint64_t end = ktstr_now_ms() + 20000;

	/* "Every worker did work" is what the tests check: on a loaded host
	 * a fixed sleep is no guarantee, so wait (bounded) until each has
	 * counted an iteration before asking them to stop. */
	for (unsigned i = 0; i < r->n; i++)
		while (!__atomic_load_n(&r->live[i], __ATOMIC_RELAXED) && ktstr_now_ms() < end)
			sleep_ms(10);
	for (unsigned i = 0; i < r->n; i++) {
		worker_stop(&r->w[i]);
		ws[i] = &r->w[i];
	}
	worker_collect(ws, r->n, WORKER_COLLECT_MS);
	for (unsigned i = 0; i < r->n; i++) {
		cr_assert(r->w[i].have_report, "worker %u did not report", i);
		cr_assert_eq(r->w[i].rep.err, 0, "worker %u: %s", i, r->w[i].rep.errmsg);
		cr_assert_gt(r->w[i].rep.work_units, 0, "worker %u did no work", i);
	}
}

/* Field `field` (1-based, as in proc(5)) of /proc/pid/stat. */
static long stat_field(pid_t pid, int field)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, f = 2;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1000;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1000;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p)
		return -1000;
	while (p && f < field) {
		p = strchr(p + 1, ' ');
		f++;
	}
	return p ? strtol(p + 1, NULL, 10) : -1000;
}

/* Sample a stat field of pid every 200 us for ms; seen[v - base] set for
 * every value in [base, base + 64) (seen accumulates across calls). */
static void sample(pid_t pid, int field, long base, unsigned ms, bool seen[64])
{
	struct timespec ts = { 0, 200 * 1000 };

	for (unsigned i = 0; i < ms * 5; i++) {
		long v = stat_field(pid, field);

		if (v >= base && v < base + 64)
			seen[v - base] = true;
		nanosleep(&ts, NULL);
	}
}

static void drop_to_nobody(void)
{
	if (geteuid() != 0)
		return;
	cr_assert(!setgroups(0, NULL) && !setresgid(65534, 65534, 65534) &&
		  !setresuid(65534, 65534, 65534), "drop to nobody: %s", strerror(errno));
}

Test(work, group_sizes_follow_the_parameters)
{
	Ktstr__WorkSpec w = KTSTR__WORK_SPEC__INIT;

	cr_assert_eq(ktstr_work_group_size(NULL), 1);
	w.type = KTSTR__WORK_TYPE__WORK_CACHE_PIPE;
	cr_assert_eq(ktstr_work_group_size(&w), 2);
	w.type = KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT;
	cr_assert_eq(ktstr_work_group_size(&w), 5, "fan_out 4 by default");
	w.has_fan_out = 1;
	w.fan_out = 2;
	cr_assert_eq(ktstr_work_group_size(&w), 3);
	w.type = KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION;
	cr_assert_eq(ktstr_work_group_size(&w), 4, "contenders 4 by default");
	w.has_contenders = 1;
	w.contenders = 3;
	cr_assert_eq(ktstr_work_group_size(&w), 3);
	w.type = KTSTR__WORK_TYPE__WORK_NICE_SWEEP;
	cr_assert_eq(ktstr_work_group_size(&w), 1);
	w.type = KTSTR__WORK_TYPE__WORK_POLICY_CHURN;
	cr_assert_eq(ktstr_work_group_size(&w), 1);
}

Test(work, oversized_groups_and_ragged_counts_are_rejected)
{
	Ktstr__WorkSpec w = KTSTR__WORK_SPEC__INIT;
	Ktstr__CgroupDef d = KTSTR__CGROUP_DEF__INIT, *dp = &d;
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	char err[512];

	sc.name = "x";
	sc.duration_ms = 1000;
	sc.n_cgroups = 1;
	sc.cgroups = &dp;
	d.name = "cg";
	d.work = &w;
	d.has_workers = 1;
	d.workers = 4;
	w.type = KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "groups of 5") && strstr(err, "multiple of 5"), "%s", err);
	w.has_fan_out = 1;
	w.fan_out = 0xffffffffu;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "lower fan_out"), "%s", err);
	w.fan_out = 3;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), 0, "%s", err);
	w.type = KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION;
	w.has_contenders = 1;
	w.contenders = 3;
	cr_assert_eq(spec_validate_scenario(&sc, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "multiple of 3"), "%s", err);
}

Test(work, cache_pipe_pairs_hand_over_through_the_pipe, .timeout = 30)
{
	Ktstr__WorkSpec ws = KTSTR__WORK_SPEC__INIT;
	struct run r;

	ws.type = KTSTR__WORK_TYPE__WORK_CACHE_PIPE;
	spawn(&r, &ws, 4);
	sleep_ms(300);
	stop_all(&r);
	for (unsigned i = 0; i < 4; i++) {
		/* every unit is one strided write of a turn: turns of 1024 */
		cr_assert_eq(r.w[i].rep.work_units % 1024, 0);
		cr_assert_gt(r.w[i].rep.wake_samples, 0, "worker %u never woken by its partner", i);
	}
	/* partners alternate, so their turns differ by at most one */
	for (unsigned i = 0; i < 4; i += 2) {
		uint64_t a = r.w[i].rep.iterations, b = r.w[i + 1].rep.iterations;

		cr_assert_leq(a > b ? a - b : b - a, 1, "pair %u: %llu vs %llu turns", i / 2,
			      (unsigned long long)a, (unsigned long long)b);
	}
}

Test(work, futex_fan_out_receivers_are_woken_by_their_messenger, .timeout = 30)
{
	Ktstr__WorkSpec ws = KTSTR__WORK_SPEC__INIT;
	struct run r;

	ws.type = KTSTR__WORK_TYPE__WORK_FUTEX_FAN_OUT;
	ws.has_fan_out = 1;
	ws.fan_out = 3;
	spawn(&r, &ws, 4);
	sleep_ms(300);
	stop_all(&r);
	/* the generation counter is bumped once per messenger iteration */
	cr_assert_eq(r.groups[0].word, (uint32_t)r.w[0].rep.iterations);
	for (unsigned i = 1; i < 4; i++) {
		cr_assert_gt(r.w[i].rep.wake_samples, 0, "receiver %u never slept and woke", i);
		/* at most one round of work per message */
		cr_assert_leq(r.w[i].rep.iterations, r.w[0].rep.iterations,
			      "receiver %u: %llu rounds for %llu messages", i,
			      (unsigned long long)r.w[i].rep.iterations,
			      (unsigned long long)r.w[0].rep.iterations);
	}
}

Test(work, mutex_contenders_exclude_each_other_group_by_group, .timeout = 30)
{
	Ktstr__WorkSpec ws = KTSTR__WORK_SPEC__INIT;
	struct run r;

	ws.type = KTSTR__WORK_TYPE__WORK_MUTEX_CONTENTION;
	ws.has_contenders = 1;
	ws.contenders = 3;
	spawn(&r, &ws, 6);
	sleep_ms(300);
	stop_all(&r);
	for (unsigned g = 0; g < 2; g++) {
		uint64_t units = 0;

		for (unsigned i = g * 3; i < g * 3 + 3; i++)
			units += r.w[i].rep.work_units;
		cr_assert_eq(r.groups[g].overlaps, 0, "group %u: two holders at once", g);
		cr_assert_eq(r.groups[g].holders, 0, "group %u: lock left held", g);
		cr_assert_eq(r.groups[g].word, 0, "group %u: lock word %u", g, r.groups[g].word);
		cr_assert_eq(r.groups[g].acquisitions, units,
			     "group %u: %llu acquisitions counted inside the lock, %llu units", g,
			     (unsigned long long)r.groups[g].acquisitions,
			     (unsigned long long)units);
	}
	cr_assert_eq(r.groups[2].acquisitions, 0, "only two groups");
}

static void nice_sweep(bool privileged)
{
	Ktstr__WorkSpec ws = KTSTR__WORK_SPEC__INIT;
	bool seen[64] = { false };
	unsigned distinct = 0;
	bool neg = false;
	struct run r;

	ws.type = KTSTR__WORK_TYPE__WORK_NICE_SWEEP;
	spawn(&r, &ws, 1);
	/* Sample until the sweep has shown itself (bounded: 3 s on a loaded
	 * host, a tenth of that usually). */
	for (unsigned k = 0; k < 30 && (distinct < 3 || (privileged && !neg)); k++) {
		sample(r.w[0].pid, 19, -20, 100, seen);
		distinct = 0;
		for (int v = 0; v < 40; v++) {
			distinct += seen[v];
			neg |= seen[v] && v < 20;
		}
	}
	stop_all(&r);
	if (privileged) {
		cr_assert_geq(distinct, 3, "nice seen at %u values only", distinct);
		cr_assert(neg, "no negative nice value seen as root");
		cr_assert_str_empty(r.w[0].rep.note, "%s", r.w[0].rep.note);
	} else {
		cr_assert(!neg, "negative nice without CAP_SYS_NICE");
		cr_assert(strstr(r.w[0].rep.note, "sweeping 0..19 only"), "note: %s",
			  r.w[0].rep.note);
	}
}

Test(work, nice_sweep_cycles_its_nice_value, .timeout = 30)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_SYS_NICE) for negative nice values");
	nice_sweep(true);
}

Test(work, nice_sweep_without_cap_sys_nice_clamps_and_says_so, .timeout = 30)
{
	drop_to_nobody();
	nice_sweep(false);
}

Test(work, policy_churn_cycles_its_policy, .timeout = 30)
{
	Ktstr__WorkSpec ws = KTSTR__WORK_SPEC__INIT;
	bool seen[64] = { false };
	struct run r;

	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_SYS_NICE) for SCHED_FIFO/RR");
	ws.type = KTSTR__WORK_TYPE__WORK_POLICY_CHURN;
	/* Long steps (~0.1-1 ms): at 1024 spins an RT step is over in a
	 * microsecond or two and a 200 us sampler rarely lands in one. */
	ws.has_spin_iters = 1;
	ws.spin_iters = 200000;
	spawn(&r, &ws, 1);
	/* bounded: 3 s on a loaded host, well under a second usually */
	for (unsigned k = 0; k < 30; k++) {
		sample(r.w[0].pid, 41, 0, 100, seen);
		if ((seen[SCHED_FIFO] || seen[SCHED_RR]) &&
		    seen[SCHED_OTHER] + seen[SCHED_BATCH] + seen[SCHED_IDLE] >= 2)
			break;
	}
	stop_all(&r);
	cr_assert_str_empty(r.w[0].rep.note, "%s", r.w[0].rep.note);
	cr_assert(seen[SCHED_OTHER] + seen[SCHED_BATCH] + seen[SCHED_IDLE] >= 2,
		  "OTHER %d BATCH %d IDLE %d", seen[SCHED_OTHER], seen[SCHED_BATCH],
		  seen[SCHED_IDLE]);
	cr_assert(seen[SCHED_FIFO] || seen[SCHED_RR], "never seen under an RT policy");
}

Test(work, policy_churn_without_cap_sys_nice_skips_rt_and_says_so, .timeout = 30)
{
	Ktstr__WorkSpec ws = KTSTR__WORK_SPEC__INIT;
	bool seen[64] = { false };
	struct run r;

	drop_to_nobody();
	cr_assert_eq(setrlimit(RLIMIT_NICE, &(struct rlimit){ 0, 0 }), 0);
	cr_assert_eq(setrlimit(RLIMIT_RTPRIO, &(struct rlimit){ 0, 0 }), 0);
	ws.type = KTSTR__WORK_TYPE__WORK_POLICY_CHURN;
	spawn(&r, &ws, 1);
	for (unsigned k = 0; k < 30 && !(seen[SCHED_OTHER] && seen[SCHED_BATCH]); k++)
		sample(r.w[0].pid, 41, 0, 100, seen);
	stop_all(&r);
	cr_assert(strstr(r.w[0].rep.note, "SCHED_FIFO/RR"), "note: %s", r.w[0].rep.note);
	cr_assert(!seen[SCHED_FIFO] && !seen[SCHED_RR]);
	/* RLIMIT_NICE 0 (the default): SCHED_IDLE left out, OTHER and BATCH
	 * still alternate */
	cr_assert(seen[SCHED_OTHER] && seen[SCHED_BATCH], "OTHER %d BATCH %d IDLE %d",
		  seen[SCHED_OTHER], seen[SCHED_BATCH], seen[SCHED_IDLE]);
}
