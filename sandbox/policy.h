/* Seccomp policies as data (private to libktstr-sandbox and its tests).
 *
 * A policy is a table of rules. A rule allows (or soft-denies with an errno)
 * one syscall when all of its argument conditions hold; several rules for the
 * same syscall are alternatives. Anything no rule matches kills the process
 * (SCMP_ACT_KILL_PROCESS). Some argument values are only known at load time
 * (our own pid, the QEMU child, the cache dir fd): a condition names them
 * with a SANDBOX_DYN_* marker that the loader substitutes.
 *
 * Every rule carries `who`: the code that needs it. The unit tests walk these
 * tables: each rule is called with allowed arguments (must not be killed),
 * then with perturbed ones (must be killed). */
#ifndef KTSTR_SANDBOX_POLICY_H
#define KTSTR_SANDBOX_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <seccomp.h>

#include <ktstr/util.h>

#include "sandbox.h"

#define SANDBOX_MAX_ARGS 3

/* Where a condition's datum comes from. */
enum sandbox_dyn {
	SANDBOX_DYN_NONE = 0,	  /* datum as written */
	SANDBOX_DYN_SELF_PID,	  /* getpid() at load time */
	SANDBOX_DYN_CHILD_PID,	  /* opts->child_pid (rule dropped when 0) */
	SANDBOX_DYN_CHILD_PGRP,	  /* -opts->child_pid: its process group, as kill(-pid) */
	SANDBOX_DYN_CACHE_DIRFD,  /* opts->cache_dirfd (rule dropped when < 0) */
};

struct sandbox_cond {
	unsigned arg;		/* 0-based syscall argument */
	enum scmp_compare op;	/* SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ, ... */
	uint64_t a, b;		/* datum_a (mask for MASKED_EQ), datum_b */
	enum sandbox_dyn dyn;	/* substitutes `a` (EQ) at load time */
};

struct sandbox_rule {
	int nr;			/* __NR_* (x86_64 numbers on x86_64) */
	const char *name;	/* syscall name for messages and tests */
	int deny_errno;		/* 0 = allow; else fail the call with this errno */
	unsigned nconds;
	struct sandbox_cond conds[SANDBOX_MAX_ARGS];
	const char *who;	/* who needs it (documentation, test output) */
};

struct sandbox_policy {
	enum sandbox_role role;
	const char *name;
	const struct sandbox_rule *rules;
	size_t nrules;
};

/* Table constructors: keep each rule one readable line. */
#define SB_ALLOW(sys, why) \
	{ .nr = __NR_##sys, .name = #sys, .who = why }
#define SB_ALLOW_IF(sys, why, ...) \
	{ .nr = __NR_##sys, .name = #sys, .who = why, \
	  .nconds = ARRAY_SIZE(((struct sandbox_cond[]){ __VA_ARGS__ })), \
	  .conds = { __VA_ARGS__ } }
#define SB_ERRNO_IF(sys, err, why, ...) \
	{ .nr = __NR_##sys, .name = #sys, .deny_errno = err, .who = why, \
	  .nconds = ARRAY_SIZE(((struct sandbox_cond[]){ __VA_ARGS__ })), \
	  .conds = { __VA_ARGS__ } }
/* Argument n equals v. */
#define SB_EQ(n, v) { .arg = n, .op = SCMP_CMP_EQ, .a = (uint64_t)(v) }
/* Argument n has none of the bits in m. */
#define SB_NONE_OF(n, m) { .arg = n, .op = SCMP_CMP_MASKED_EQ, .a = (uint64_t)(m), .b = 0 }
/* The low 32 bits of argument n equal v: ioctl request numbers are an
 * unsigned int in the kernel, and a caller that passes one through an int
 * sign-extends the upper half. */
#define SB_EQ32(n, v) { .arg = n, .op = SCMP_CMP_MASKED_EQ, .a = 0xffffffffull, .b = (uint32_t)(v) }
/* Argument n equals a load-time value. */
#define SB_EQ_DYN(n, d) { .arg = n, .op = SCMP_CMP_EQ, .dyn = d }

/* The role's table; NULL for an out-of-range role. */
const struct sandbox_policy *sandbox_policy_get(enum sandbox_role role);

/* The per-role tables (policy_*.c). */
extern const struct sandbox_policy sandbox_policy_worker_ctl;
extern const struct sandbox_policy sandbox_policy_worker_vcpu;
extern const struct sandbox_policy sandbox_policy_builder;

/* Rules every role shares (policy_base.c): memory, futexes, signals for our
 * own threads, clocks, exit. */
extern const struct sandbox_rule sandbox_base_rules[];
extern const size_t sandbox_base_nrules;

#endif
