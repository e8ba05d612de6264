/* Which shard runs which variant (docs/farms.md, "Shards"): a pure
 * function of the variants' names and duration estimates, so every shard
 * of a CI job, on whatever host, computes the same assignment from the
 * same suite and options. */
#ifndef KTSTR_ORCH_SHARD_ASSIGN_H
#define KTSTR_ORCH_SHARD_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

/* --partition's N: a farm of more shards than this is a typo. */
#define SHARD_TOTAL_MAX 100000u

struct shard_item {
	const char *name; /* borrowed; names are unique within one plan */
	uint64_t est_ms;  /* estimated duration (variant_est_secs), 0 = costs nothing */
};

/* Longest processing time first: items sorted by (est_ms descending, name
 * ascending, index), each put on the least-loaded shard, ties to the one
 * with fewer items, then the lower shard. The largest shard's load is then at most the ideal (total / n)
 * plus one item. out[i] = the 0-based shard of it[i] (caller-sized, n
 * entries). Returns 0, -EINVAL (nshards 0 or > SHARD_TOTAL_MAX) or
 * -ENOMEM. */
int shard_assign(const struct shard_item *it, size_t n, uint32_t nshards, uint32_t *out);

#endif
