/* What a shard's --json file says about the shard (docs/farms.md,
 * "Merging"): one element after its records,
 *   {"ktstr_shard":{"index":K,"total":N,"source":..,"suite":..,"plan":"HEX",
 *     "variants":V,"selected":S,"assigned":A,"positions":[..]}}
 * so that `ktstr-orch merge` can tell a shard that never reported from one
 * that ran nothing, put records back in plan order and refuse shards of
 * different plans. An unsharded run's file has no such element. */
#ifndef KTSTR_ORCH_SHARD_INFO_H
#define KTSTR_ORCH_SHARD_INFO_H

#include <stddef.h>
#include <stdint.h>

#include <ktstr/util.h>

#include "plan.h"
#include "record.h"

#define SHARD_INFO_KEY "ktstr_shard"

/* Append the element to sb, which holds json_render's array of recs (it
 * ends "\n]\n"; the element goes before the bracket). k, n: the shard, as
 * the plan was built with; source: where it came from ("--partition" or
 * shard_env's source), suite: the suite's path. Returns 0, -EINVAL (sb is
 * not such an array) or -ENOMEM. */
int shard_info_append(struct strbuf *sb, const struct plan *p, const struct test_record *recs,
		      size_t n, const char *source, const char *suite);

#endif
