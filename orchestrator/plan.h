/* Test planning: suite -> variants (test x topology x flag profile), each
 * kept or dropped with a reason. Linear in the number of variants; nothing
 * here compares names pairwise. */
#ifndef KTSTR_ORCH_PLAN_H
#define KTSTR_ORCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/topology.h>

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
};

#define VARIANT_BASE_PRESET UINT16_MAX

struct variant {
	char *name;		/* "test" or "gauntlet/test/preset/profile"; owned */
	uint32_t test;		/* index into suite.tests */
	uint16_t preset;	/* index into topo_presets() or VARIANT_BASE_PRESET */
	uint8_t state;		/* enum variant_state */
	uint32_t profile;	/* active flags bitmask */
	struct ktstr_topo topo;
	char reason[192];	/* why dropped/skipped; empty when kept */
};

struct plan_opts {
	bool gauntlet;
	const char *filter;	   /* substring of the variant name, NULL = all */
	uint32_t part_k, part_n;   /* keep shard k of n (1-based); n = 0 = all */
	uint32_t budget_s;	   /* 0 = no budget */
	struct host_caps host;
	int kernel_scx;		   /* 1 has sched_ext, 0 lacks it, -1 unknown */
	bool quiet;		   /* no budget summary on stderr */
};

struct plan {
	struct variant *v;
	size_t n, cap;
	size_t kept;
	/* budget summary */
	double budget_used_s;
	unsigned budget_bits, budget_bits_possible;
};

/* Expand and filter. Returns 0 or -ENOMEM (err says so). Every variant
 * the selection (--filter, --partition) kept is then checked, in order:
 * the test's constraints, its scenario's cpusets on a gauntlet preset
 * (ktstr_scenario_check; a base run's own topology was checked when the
 * suite was read, as an error with its position), the host, the kernel. */
int plan_build(const struct suite *s, const struct plan_opts *o, struct plan *p, char *err,
	       size_t errlen);
void plan_free(struct plan *p);

/* Whether t is within c; when not, why says which bound it breaks. */
bool plan_topo_in_constraints(const struct topo_constraints *c, const struct ktstr_topo *t,
			      char *why, size_t whylen);

/* Variants that --filter and --partition selected (whatever happened to
 * them after: a skip or a constraint drop is still a selected test). */
size_t plan_selected(const struct plan *p);
/* Zero selected variants: a message for the user (what selected nothing,
 * and with a filter the closest names it could have meant), for exit 2
 * unless --allow-empty. */
void plan_explain_empty(const struct suite *s, const struct plan *p, const struct plan_opts *o,
			char *msg, size_t msglen);

/* Deterministic shard of a name: FNV-1a 64 of the bytes, so a variant's shard
 * never depends on what else is in the suite or in what order. */
uint64_t plan_name_hash(const char *name);
/* Parse "K/N" with 1 <= K <= N. */
int plan_parse_partition(const char *s, uint32_t *k, uint32_t *n);

/* Budget model (docs/reference.md, "Budget selection"). */
double variant_est_secs(const struct suite *s, const struct variant *v);
uint64_t variant_features(const struct suite *s, const struct variant *v);

const char *variant_state_name(enum variant_state st);
/* The human name of a variant's profile ("default", "a+b"). */
int variant_profile_name(const struct suite *s, const struct variant *v, char *buf, size_t len);

#endif
