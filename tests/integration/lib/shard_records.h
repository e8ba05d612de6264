/* Comparing a merged shard report with an unsharded run's (integ-shards,
 * integ-slurm): docs/farms.md, "Merging", promises the same records. */
#ifndef KTSTR_TEST_SHARD_RECORDS_H
#define KTSTR_TEST_SHARD_RECORDS_H

/* Asserts that dir/merged_name holds the records of dir/whole_name (both
 * `--json` arrays): same count, same order, same keys in the same order,
 * the same values but for the fields that differ by time alone (wall_ms,
 * vm, metrics, stimulus_events). */
void assert_same_records(const char *dir, const char *whole_name, const char *merged_name);

#endif
