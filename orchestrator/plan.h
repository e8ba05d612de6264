/* Test planning: suite -> variants (test x topology x flag profile x
 * kernel), each kept or dropped with a reason. Linear in the number of variants; nothing
 * here compares names pairwise. */
#ifndef KTSTR_ORCH_PLAN_H
#define KTSTR_ORCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ktstr/topology.h>

#include "common.pb-c.h"

#include "hostcaps.h"
#include "suite.h"

enum variant_state {
	VAR_KEPT = 0,
	VAR_SKIP_HOST,	     /* asked for, but this host cannot run it: reported as skipped */
	VAR_SKIP_KERNEL,     /* the kernel lacks what the scheduler needs: skipped */
	VAR_DROP_CONSTRAINT, /* gauntlet preset outside the test's constraints, or one
				a cpuset of its scenario does not fit */
	VAR_DROP_HOST,	     /* gauntlet preset larger than this host runs */
	VAR_DROP_FILTER,
	VAR_DROP_PARTITION,
	VAR_DROP_BUDGET,
	/* its own topology is one the guest architecture cannot express
	 * (arm64: ktstr/arm64_check.h): a suite error, before any boot */
	VAR_REFUSED_ARCH,
};

#define VARIANT_BASE_PRESET UINT16_MAX

/* --kernel is repeatable up to this many kernels (docs/kernels.md). */
#define PLAN_KERNELS_MAX 8

/* One kernel of the run: a dimension of the plan. */
struct plan_kernel {
	/* What the reports carry as the variant's kernel: the cache key, or
	 * the image path of a kernel given by path; borrowed (outlives the
	 * plan); NULL = not known (unit tests). */
	const char *id;
	/* With several kernels every variant name ends in "/k=LABEL"
	 * (plan_kernel_labels); "" with one kernel: names stay as they were. */
	char label[64];
	int scx;		/* 1 has sched_ext, 0 lacks it, -1 unknown */
};

struct variant {
	/* "test" or "gauntlet/test/preset/profile", then "/k=LABEL" with
	 * several kernels; owned */
	char *name;
	uint32_t test;		/* index into suite.tests */
	uint16_t preset;	/* index into topo_presets() or VARIANT_BASE_PRESET */
	uint8_t state;		/* enum variant_state */
	uint8_t kernel;		/* index into plan.kernels */
	uint32_t profile;	/* active flags bitmask */
	struct ktstr_topo topo;
	char reason[384];	/* why dropped/skipped/refused; empty when kept */
};

struct plan_opts {
	bool gauntlet;
	const char *filter;	   /* substring of the variant name, NULL = all */
	uint32_t part_k, part_n;   /* keep shard k of n (1-based, shard_assign.h); n = 0 = all */
	uint32_t budget_s;	   /* 0 = no budget */
	struct host_caps host;
	/* The kernels, in --kernel order (copied into the plan); nkernels 0
	 * = one kernel whose sched_ext is kernel_scx (1, 0, -1 unknown). */
	const struct plan_kernel *kernels;
	size_t nkernels;
	int kernel_scx;
	bool quiet;		   /* no budget summary on stderr */
	/* The guest architecture (--arch). ARCH_ARM64: a base topology arm64
	 * cannot express is VAR_REFUSED_ARCH, a gauntlet preset it cannot a
	 * VAR_DROP_CONSTRAINT (docs/aarch64.md). */
	Ktstr__Arch arch;
};

struct plan {
	struct variant *v;
	size_t n, cap;
	struct plan_kernel *kernels; /* owned copy of the options' (or the one implicit) */
	size_t nkernels;	     /* >= 1 once built */
	size_t kept;
	size_t refused;		     /* VAR_REFUSED_ARCH variants: the run must not start */
	Ktstr__Arch arch;	     /* the options' */
	/* The shard assignment (apply_partition): what the filter selected
	 * in every shard, what this shard holds of it (= selected_all without
	 * --partition), and a fingerprint of the names and weights it was
	 * made from, equal in every shard of one plan. */
	size_t selected_all, assigned;
	uint64_t fingerprint;
	uint32_t part_k, part_n;     /* the options' shard; n = 0: unsharded */
	/* budget summary */
	double budget_used_s;
	unsigned budget_bits, budget_bits_possible;
};

/* The name labels of n kernels from their ids, when n > 1: the version
 * at the start of the id's last path component ("7.2.13" of
 * "7.2.13+deb14-cloud-amd64"; of ".../KEY/vmlinux" the directory's name),
 * or that whole component when two versions are the same. Returns 0, or
 * -EEXIST with err when two kernels still cannot be told apart. */
int plan_kernel_labels(struct plan_kernel *k, size_t n, char *err, size_t errlen);

/* Expand and filter (each test's variants once per kernel, the kernel
 * innermost). Returns 0, -EINVAL (more than PLAN_KERNELS_MAX kernels) or
 * -ENOMEM (err says so). Each variant is checked, in order: --filter,
 * the test's constraints, its scenario's cpusets on a gauntlet preset
 * (ktstr_scenario_check; a base run's own topology was checked when the
 * suite was read, as an error with its position); then --partition
 * assigns every variant the filter kept to one shard (by estimated
 * duration, shard_assign.h), and what this shard holds is checked against
 * the host and the kernel; --budget comes last. */
int plan_build(const struct suite *s, const struct plan_opts *o, struct plan *p, char *err,
	       size_t errlen);
void plan_free(struct plan *p);

/* Whether t is within c; when not, why says which bound it breaks. */
bool plan_topo_in_constraints(const struct topo_constraints *c, const struct ktstr_topo *t,
			      char *why, size_t whylen);

/* The refused variants (VAR_REFUSED_ARCH), one line each, on f; returns
 * how many. For `run` and `list` to say before exiting 2. */
size_t plan_print_refused(FILE *f, const struct plan *p);

/* Variants that --filter and --partition selected (whatever happened to
 * them after: a skip or a constraint drop is still a selected test). */
size_t plan_selected(const struct plan *p);
/* Zero selected variants: a message for the user (what selected nothing,
 * and with a filter the closest names it could have meant), for exit 2
 * unless --allow-empty. */
void plan_explain_empty(const struct suite *s, const struct plan *p, const struct plan_opts *o,
			char *msg, size_t msglen);

/* Parse "K/N" with 1 <= K <= N <= SHARD_TOTAL_MAX. */
int plan_parse_partition(const char *s, uint32_t *k, uint32_t *n);

/* Budget model (docs/reference.md, "Budget selection"). */
double variant_est_secs(const struct suite *s, const struct variant *v);
uint64_t variant_features(const struct suite *s, const struct variant *v);

const char *variant_state_name(enum variant_state st);
/* The human name of a variant's profile ("default", "a+b"). */
int variant_profile_name(const struct suite *s, const struct variant *v, char *buf, size_t len);

#endif
