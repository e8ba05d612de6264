/* Typed, position-aware reads from a ynode tree. Every failure writes
 * "FILE:LINE:COL: problem" into the context's error buffer and returns
 * -EINVAL, so callers only propagate. */
#ifndef KTSTR_ORCH_YAML_SCHEMA_H
#define KTSTR_ORCH_YAML_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/strv.h>

#include "yaml_tree.h"

struct ys_ctx {
	const char *file;
	char *err;
	size_t errlen;
};

int ys_fail(struct ys_ctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Each key of map must be in allowed (NULL-terminated); what names the
 * mapping in the message ("scheduler", "test"). Also fails if n is not a map. */
int ys_check_keys(struct ys_ctx *c, const struct ynode *map, const char *what,
		  const char *const *allowed);

int ys_expect(struct ys_ctx *c, const struct ynode *n, enum ynode_kind kind, const char *what);
/* Scalars. *out of ys_str is malloc'd. */
int ys_str(struct ys_ctx *c, const struct ynode *n, const char *what, char **out);
int ys_u32(struct ys_ctx *c, const struct ynode *n, const char *what, uint32_t min, uint32_t max,
	   uint32_t *out);
int ys_u64(struct ys_ctx *c, const struct ynode *n, const char *what, uint64_t *out);
int ys_i32(struct ys_ctx *c, const struct ynode *n, const char *what, int32_t *out);
int ys_double(struct ys_ctx *c, const struct ynode *n, const char *what, double *out);
int ys_bool(struct ys_ctx *c, const struct ynode *n, const char *what, bool *out);
/* A sequence of scalars (or one scalar) appended to out. */
int ys_strlist(struct ys_ctx *c, const struct ynode *n, const char *what, struct strv *out);
/* Seconds with an optional unit: "90", "1.5", "500ms", "2s", "1m". */
int ys_duration_ms(struct ys_ctx *c, const struct ynode *n, const char *what, uint32_t *out_ms);

#endif
