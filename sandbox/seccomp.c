/* Compile a role's policy table into a seccomp BPF filter with libseccomp
 * and load it. Default action: kill the whole process, so a confined thread
 * that strays cannot leave a half-working process behind. Foreign
 * architectures (i386 int 0x80, x32) hit the bad-arch action, also a kill:
 * the filter only speaks the native syscall table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <seccomp.h>

#include "policy.h"

const struct sandbox_policy *sandbox_policy_get(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_ROLE_WORKER_CTL:
		return &sandbox_policy_worker_ctl;
	case SANDBOX_ROLE_WORKER_VCPU:
		return &sandbox_policy_worker_vcpu;
	case SANDBOX_ROLE_BUILDER:
		return &sandbox_policy_builder;
	default:
		return NULL;
	}
}

const char *sandbox_role_name(enum sandbox_role role)
{
	const struct sandbox_policy *p = sandbox_policy_get(role);

	return p ? p->name : "unknown-role";
}

/* Resolve load-time data. Returns 1 if the rule applies, 0 if it must be
 * dropped because the value it depends on does not exist (no child, no
 * cache dir: then nothing may use that syscall at all). */
static int rule_resolve(const struct sandbox_rule *r, const struct sandbox_opts *o,
			struct scmp_arg_cmp *out)
{
	for (unsigned i = 0; i < r->nconds; i++) {
		const struct sandbox_cond *c = &r->conds[i];
		uint64_t a = c->a;

		switch (c->dyn) {
		case SANDBOX_DYN_NONE:
			break;
		case SANDBOX_DYN_SELF_PID:
			a = (uint64_t)getpid();
			break;
		case SANDBOX_DYN_CHILD_PID:
			if (!o || o->child_pid <= 0)
				return 0;
			a = (uint64_t)o->child_pid;
			break;
		case SANDBOX_DYN_CHILD_PGRP:
			if (!o || o->child_pid <= 0)
				return 0;
			/* kill() takes an int: the kernel uses the low 32 bits of
			 * the register only, and glibc's kill() wrapper passes the
			 * int as is (upper half zero, not sign-extended), so a
			 * 64-bit compare against -pid never matched it (the
			 * confined QEMU worker died of SIGSYS in kill(-pid) at a
			 * VM timeout). Compare the low 32 bits, like SB_EQ32. */
			out[i] = (struct scmp_arg_cmp){ .arg = c->arg,
							.op = SCMP_CMP_MASKED_EQ,
							.datum_a = 0xffffffffull,
							.datum_b = (uint32_t)-o->child_pid };
			continue;
		case SANDBOX_DYN_CACHE_DIRFD:
			if (!o || o->cache_dirfd < 0)
				return 0;
			a = (uint64_t)o->cache_dirfd;
			break;
		}
		out[i] = (struct scmp_arg_cmp){
			.arg = c->arg, .op = c->op, .datum_a = a, .datum_b = c->b
		};
	}
	return 1;
}

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_rule *rules, size_t n,
		     const struct sandbox_opts *o, const char *role, char *err, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		const struct sandbox_rule *r = &rules[i];
		struct scmp_arg_cmp cmp[SANDBOX_MAX_ARGS];
		uint32_t action = r->deny_errno ? SCMP_ACT_ERRNO((uint32_t)r->deny_errno) : SCMP_ACT_ALLOW;
		int ret;

		if (!rule_resolve(r, o, cmp))
			continue;
		ret = seccomp_rule_add_exact_array(ctx, action, r->nr, r->nconds, cmp);
		if (ret < 0) {
			snprintf(err, len,
				 "sandbox: seccomp rule for %s (%s, role %s) rejected by libseccomp: %s; "
				 "the policy table is wrong, fix sandbox/policy_*.c",
				 r->name, r->who, role, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int sandbox_load_policy(enum sandbox_role role, unsigned flags, const struct sandbox_opts *o,
			char *err, size_t len)
{
	const struct sandbox_policy *p = sandbox_policy_get(role);
	scmp_filter_ctx ctx;
	int ret;

	if (!p) {
		snprintf(err, len, "sandbox: unknown role %d; use enum sandbox_role", (int)role);
		return -EINVAL;
	}
	/* KILL_PROCESS needs API level 3 (kernel 4.14+, libseccomp 2.4+).
	 * Killing only the thread would leave a half-dead VMM running: refuse
	 * rather than degrade. */
	if (seccomp_api_get() < 3) {
		snprintf(err, len,
			 "sandbox: seccomp API level %u < 3: kernel or libseccomp lacks "
			 "SECCOMP_RET_KILL_PROCESS; need Linux >= 4.14 and libseccomp >= 2.4",
			 seccomp_api_get());
		return -ENOSYS;
	}
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, len, "sandbox: seccomp_init failed (out of memory?) for role %s", p->name);
		return -ENOMEM;
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (ret < 0) {
		snprintf(err, len, "sandbox: cannot set the bad-arch action for role %s: %s", p->name,
			 strerror(-ret));
		goto err_release;
	}
	if (flags & SANDBOX_POLICY_TSYNC) {
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
		if (ret < 0) {
			snprintf(err, len, "sandbox: TSYNC unsupported for role %s: %s; need Linux >= 3.17",
				 p->name, strerror(-ret));
			goto err_release;
		}
	}
	ret = add_rules(ctx, sandbox_base_rules, sandbox_base_nrules, o, p->name, err, len);
	if (ret < 0)
		goto err_release;
	ret = add_rules(ctx, p->rules, p->nrules, o, p->name, err, len);
	if (ret < 0)
		goto err_release;
	ret = seccomp_load(ctx);
	if (ret < 0) {
		/* With TSYNC, -ESRCH means a thread already runs a filter that
		 * is not an ancestor of ours (it loaded its own). */
		snprintf(err, len,
			 "sandbox: loading the seccomp filter for role %s failed: %s%s", p->name,
			 strerror(-ret),
			 ret == -ESRCH ? " (TSYNC: another thread has its own filter; load TSYNC "
					 "policies before per-thread ones)"
				       : " (is no_new_privs set or CAP_SYS_ADMIN held?)");
		goto err_release;
	}
	seccomp_release(ctx);
	return 0;

err_release:
	seccomp_release(ctx);
	return ret;
}
