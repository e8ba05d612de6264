/* JSON text for protobuf-c messages (descriptor-driven, so every metric the
 * guest reports appears without code here) and JSON string escaping. */
#ifndef KTSTR_ORCH_JSON_PB_H
#define KTSTR_ORCH_JSON_PB_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include <ktstr/util.h>

/* Append "s" quoted and escaped (control characters as \u00XX; invalid
 * UTF-8 bytes as \u00XX of the byte so the output is always valid JSON). */
int json_str(struct strbuf *sb, const char *s, size_t len);
/* Append msg as a JSON object; enum values as names, bytes as base64,
 * unset optional fields omitted. */
int json_pb(struct strbuf *sb, const ProtobufCMessage *msg);

#endif
