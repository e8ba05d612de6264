/* See shard_records.h. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/shard_records.h"

/* What differs from one run of a test to the next by time alone. */
static const char *const timing[] = { "wall_ms", "vm", "metrics", "stimulus_events" };

/* A --json array; the caller puts it. */
static json_object *load(const char *path)
{
	json_object *o = json_object_from_file(path);

	cr_assert_not_null(o, "%s: %s", path, json_util_get_last_err());
	cr_assert(json_object_is_type(o, json_type_array), "%s", path);
	return o;
}

void assert_same_records(const char *dir, const char *whole_name, const char *merged_name)
{
	char wp[1100], mp[1100];
	json_object *whole, *merged;
	size_t n;

	snprintf(wp, sizeof(wp), "%s/%s", dir, whole_name);
	snprintf(mp, sizeof(mp), "%s/%s", dir, merged_name);
	whole = load(wp);
	merged = load(mp);
	n = json_object_array_length(whole);

	cr_assert_eq(json_object_array_length(merged), n, "record count");
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(whole, i);
		json_object *b = json_object_array_get_idx(merged, i);
		struct json_object_iterator ia = json_object_iter_begin(a), ea = json_object_iter_end(a);
		struct json_object_iterator ib = json_object_iter_begin(b), eb = json_object_iter_end(b);

		for (; !json_object_iter_equal(&ia, &ea); json_object_iter_next(&ia),
							  json_object_iter_next(&ib)) {
			const char *k = json_object_iter_peek_name(&ia);
			bool timed = false;

			cr_assert(!json_object_iter_equal(&ib, &eb), "record %zu: merged lacks %s", i, k);
			cr_assert_str_eq(json_object_iter_peek_name(&ib), k, "record %zu: key order", i);
			for (size_t t = 0; t < sizeof(timing) / sizeof(timing[0]); t++)
				timed |= !strcmp(k, timing[t]);
			if (!timed)
				cr_assert(json_object_equal(json_object_iter_peek_value(&ia),
							    json_object_iter_peek_value(&ib)),
					  "record %zu key %s: %s vs %s", i, k,
					  json_object_to_json_string(json_object_iter_peek_value(&ia)),
					  json_object_to_json_string(json_object_iter_peek_value(&ib)));
		}
		cr_assert(json_object_iter_equal(&ib, &eb), "record %zu: merged has more keys", i);
	}
	json_object_put(whole);
	json_object_put(merged);
}
