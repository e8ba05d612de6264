/* Every rule of every role, as a product test (Firecracker/bubblewrap
 * style): each rule called with arguments it allows must not kill the child
 * (the call may still fail harmlessly with EBADF/EFAULT/EINVAL: arguments
 * are -1 wherever the rule does not pin them); each argument condition,
 * perturbed, must kill it with SIGSYS; every syscall no rule names must kill
 * it with SIGSYS. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ktstr/util.h>

#include "child.h"
#include "policy.h"

/* A pid no process has (pid_max is at most 2^22): the ctl role may signal
 * and reap it, and the probes' invalid signal/options stop before lookup. */
#define FAKE_CHILD_PID 4194300

/* Highest syscall number swept for "not listed -> killed". */
#define SWEEP_MAX_NR 470

struct probe {
	enum sandbox_role role;
	int nr;
	long args[6];
	int self_arg;	  /* index that gets the child's getpid() (+ self_delta), or -1 */
	long self_delta;
	int cache_dirfd;
};

static void probe_child(void *arg)
{
	struct probe *p = arg;
	long a[6];

	memcpy(a, p->args, sizeof(a));
	child_confine(p->role, FAKE_CHILD_PID, p->cache_dirfd);
	if (p->self_arg >= 0)
		a[p->self_arg] = (long)getpid() + p->self_delta;
	syscall(p->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	_exit(CHILD_EXIT_OK);
}

static int g_sigreturn_hits;
static void on_usr1(int sig)
{
	(void)sig;
	g_sigreturn_hits++;
}

/* rt_sigreturn cannot be called with made-up arguments: exercise it the way
 * the worker does, by returning from a signal handler. */
static void sigreturn_child(void *arg)
{
	struct probe *p = arg;

	signal(SIGUSR1, on_usr1);
	child_confine(p->role, FAKE_CHILD_PID, p->cache_dirfd);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	_exit(g_sigreturn_hits == 1 ? CHILD_EXIT_OK : CHILD_EXIT_PROBE_FAILED);
}

static int dirfd_for(enum sandbox_role role)
{
	if (role != SANDBOX_ROLE_BUILDER)
		return -1;
	/* inherited by every forked probe at the same number */
	static int fd = -1;
	if (fd < 0)
		fd = open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	return fd;
}

static uint64_t dyn_value(enum sandbox_dyn d, int cache_dirfd, bool *ok)
{
	*ok = true;
	switch (d) {
	case SANDBOX_DYN_CHILD_PID:
		return FAKE_CHILD_PID;
	case SANDBOX_DYN_CHILD_PGRP:
		return (uint64_t)(int64_t)-FAKE_CHILD_PID;
	case SANDBOX_DYN_CACHE_DIRFD:
		*ok = cache_dirfd >= 0;
		return (uint64_t)cache_dirfd;
	default:
		return 0;
	}
}

/* Does rule r allow args? SELF_PID conditions compare against the marker
 * `self` (the probe substitutes the real pid in the child). */
static bool rule_allows(const struct sandbox_rule *r, const long *args, int self_arg,
			long self_delta, int cache_dirfd)
{
	for (unsigned i = 0; i < r->nconds; i++) {
		const struct sandbox_cond *c = &r->conds[i];
		uint64_t v = (uint64_t)args[c->arg];
		uint64_t want = c->a;
		bool ok;

		if (c->dyn == SANDBOX_DYN_SELF_PID) {
			if (self_arg != (int)c->arg || self_delta != 0)
				return false;
			continue;
		}
		if (c->dyn != SANDBOX_DYN_NONE) {
			want = dyn_value(c->dyn, cache_dirfd, &ok);
			if (!ok)
				return false;
		}
		if (c->op == SCMP_CMP_EQ && v != want)
			return false;
		if (c->op == SCMP_CMP_MASKED_EQ && (v & c->a) != c->b)
			return false;
	}
	return true;
}

static bool any_rule_allows(const struct sandbox_policy *pol, int nr, const long *args,
			    int self_arg, long self_delta, int cache_dirfd)
{
	for (size_t i = 0; i < sandbox_base_nrules; i++)
		if (sandbox_base_rules[i].nr == nr &&
		    rule_allows(&sandbox_base_rules[i], args, self_arg, self_delta, cache_dirfd))
			return true;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].nr == nr &&
		    rule_allows(&pol->rules[i], args, self_arg, self_delta, cache_dirfd))
			return true;
	return false;
}

/* uretprobe (335, Linux 6.11) and uprobe (336) are exempted from seccomp by
 * the kernel itself so probes keep working in filtered processes; outside a
 * probe trampoline they only raise SIGILL or return. Not ours to filter. */
static bool kernel_exempt(int nr)
{
	return nr == 335 || nr == 336;
}

static bool listed(const struct sandbox_policy *pol, int nr)
{
	for (size_t i = 0; i < sandbox_base_nrules; i++)
		if (sandbox_base_rules[i].nr == nr)
			return true;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].nr == nr)
			return true;
	return false;
}

/* Arguments that satisfy every condition of r; -1 elsewhere. Returns false
 * when the rule depends on a value this role has no instance of. */
static bool allowed_args(const struct sandbox_rule *r, int cache_dirfd, struct probe *p)
{
	for (int i = 0; i < 6; i++)
		p->args[i] = -1;
	p->self_arg = -1;
	p->self_delta = 0;
	for (unsigned i = 0; i < r->nconds; i++) {
		const struct sandbox_cond *c = &r->conds[i];
		bool ok = true;

		if (c->dyn == SANDBOX_DYN_SELF_PID) {
			p->self_arg = (int)c->arg;
			continue;
		}
		if (c->op == SCMP_CMP_EQ)
			p->args[c->arg] = c->dyn ? (long)dyn_value(c->dyn, cache_dirfd, &ok) : (long)c->a;
		else if (c->op == SCMP_CMP_MASKED_EQ)
			p->args[c->arg] = (long)c->b; /* masked bits as required, others clear */
		if (!ok)
			return false;
	}
	return true;
}

/* exit/exit_group probes exit 255 (their -1 argument): only our own
 * setup codes mean the probe did not run. */
static bool child_failed_setup(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) >= CHILD_EXIT_CONFINE_FAILED &&
	       WEXITSTATUS(status) <= CHILD_EXIT_PROBE_FAILED;
}

static bool has_unconditional_rule(const struct sandbox_policy *pol, int nr)
{
	for (size_t i = 0; i < sandbox_base_nrules; i++)
		if (sandbox_base_rules[i].nr == nr && !sandbox_base_rules[i].nconds)
			return true;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].nr == nr && !pol->rules[i].nconds)
			return true;
	return false;
}

static void check_rule(const struct sandbox_policy *pol, const struct sandbox_rule *r, int *nperturbed)
{
	int dirfd = dirfd_for(pol->role);
	struct probe p = { .role = pol->role, .nr = r->nr, .cache_dirfd = dirfd };
	char st[64];
	bool timed_out;
	int status;

	if (!allowed_args(r, dirfd, &p))
		return;
	if (r->nr == __NR_rt_sigreturn)
		status = child_run(sigreturn_child, &p, &timed_out);
	else
		status = child_run(probe_child, &p, &timed_out);
	cr_expect(!timed_out, "%s: %s (%s) hung", pol->name, r->name, r->who);
	cr_expect(!killed_by_sigsys(status) && !child_failed_setup(status),
		  "%s: allowed %s (%s) with allowed args: child %s", pol->name, r->name, r->who,
		  wait_text(status, st, sizeof(st)));

	/* Perturb each condition in turn; the result must match no rule.
	 * (A syscall that another rule allows unconditionally, such as the
	 * builder's newfstatat, has nothing to perturb.) */
	if (has_unconditional_rule(pol, r->nr))
		return;
	for (unsigned i = 0; i < r->nconds; i++) {
		const struct sandbox_cond *c = &r->conds[i];
		struct probe q = p;
		bool found = false;

		if (c->dyn == SANDBOX_DYN_SELF_PID) {
			q.self_delta = 1; /* our pid + 1: another process */
			found = !any_rule_allows(pol, r->nr, q.args, q.self_arg, 1, dirfd);
		} else {
			const uint64_t tries[] = { 1, 2, 0x100, 0x10000, 0x7f000000 };

			for (size_t t = 0; t < ARRAY_SIZE(tries) && !found; t++) {
				q.args[c->arg] = c->op == SCMP_CMP_MASKED_EQ && c->b == 0
							 ? (long)(c->a & -c->a) /* one forbidden bit */
							 : (long)((uint64_t)p.args[c->arg] ^ tries[t]);
				found = !any_rule_allows(pol, r->nr, q.args, q.self_arg, 0, dirfd);
			}
		}
		cr_assert(found, "%s: no perturbation of %s arg %u escapes every rule", pol->name,
			  r->name, c->arg);
		status = child_run(probe_child, &q, &timed_out);
		cr_expect(killed_by_sigsys(status),
			  "%s: %s (%s) with arg%u perturbed to %#lx: child %s, expected SIGSYS",
			  pol->name, r->name, r->who, c->arg, q.args[c->arg],
			  wait_text(status, st, sizeof(st)));
		(*nperturbed)++;
	}
}

static void check_role(enum sandbox_role role)
{
	const struct sandbox_policy *pol = sandbox_policy_get(role);
	int nperturbed = 0, nswept = 0;
	char st[64];
	bool timed_out;

	cr_assert_not_null(pol);
	for (size_t i = 0; i < sandbox_base_nrules; i++)
		check_rule(pol, &sandbox_base_rules[i], &nperturbed);
	for (size_t i = 0; i < pol->nrules; i++)
		check_rule(pol, &pol->rules[i], &nperturbed);
	cr_expect_gt(nperturbed, 0);

	/* Everything the tables do not name is killed. */
	for (int nr = 0; nr <= SWEEP_MAX_NR; nr++) {
		struct probe p = { .role = role, .nr = nr, .self_arg = -1, .cache_dirfd = dirfd_for(role) };

		if (listed(pol, nr) || kernel_exempt(nr))
			continue;
		for (int i = 0; i < 6; i++)
			p.args[i] = -1;
		int status = child_run(probe_child, &p, &timed_out);

		cr_expect(killed_by_sigsys(status), "%s: unlisted syscall %d: child %s, expected SIGSYS",
			  pol->name, nr, wait_text(status, st, sizeof(st)));
		nswept++;
	}
	cr_expect_gt(nswept, 300);
}

Test(sandbox_rules, worker_vcpu_every_rule) { check_role(SANDBOX_ROLE_WORKER_VCPU); }
Test(sandbox_rules, worker_ctl_every_rule) { check_role(SANDBOX_ROLE_WORKER_CTL); }
Test(sandbox_rules, builder_every_rule) { check_role(SANDBOX_ROLE_BUILDER); }
