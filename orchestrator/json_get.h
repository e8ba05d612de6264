/* Typed, bounded views of fields in JSON someone else wrote (result files
 * given to merge, compare and report): NULL / false when a field is absent
 * or of another type, never a guess. One home for merge (shard_merge.c) and
 * the result reader (compare_read.c). */
#ifndef KTSTR_ORCH_JSON_GET_H
#define KTSTR_ORCH_JSON_GET_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct json_object *rj_obj(struct json_object *o, const char *key);
struct json_object *rj_arr(struct json_object *o, const char *key);
/* A string of at most max bytes, without an embedded NUL (a \u0000 inside
 * would cut a name short). */
const char *rj_str(struct json_object *o, const char *key, size_t max);
/* A number (int or double); false when absent; *finite false for NaN/inf. */
bool rj_num(struct json_object *o, const char *key, double *out, bool *finite);

#endif
