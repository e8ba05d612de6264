/* JSON text for protobuf-c messages (descriptor-driven, so every metric the
 * guest reports appears without code here) and JSON string escaping. */
#ifndef KTSTR_ORCH_JSON_PB_H
#define KTSTR_ORCH_JSON_PB_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include <ktstr/util.h>

/* Append "s" quoted and escaped (control characters as \u00XX; invalid
 * UTF-8 bytes as \u00XX of the byte so the output is always valid JSON). */
int json_str(struct strbuf *sb, const char *s, size_t len);
/* Append msg as a JSON object; enum values as names, bytes as base64,
 * unset optional fields omitted. */
int json_pb(struct strbuf *sb, const ProtobufCMessage *msg);

/* Members a caller adds to the objects json_pb_extra writes: called for
 * msg and every message inside it, after its fields and before its '}';
 * appends `"key":value` pairs (with a leading ',' unless first: the object
 * has no member yet). Returns 0 or -errno. */
typedef int (*json_pb_extra_fn)(struct strbuf *sb, const ProtobufCMessage *msg, bool first,
				const void *ctx);
int json_pb_extra(struct strbuf *sb, const ProtobufCMessage *msg, json_pb_extra_fn extra,
		  const void *ctx);

#endif
