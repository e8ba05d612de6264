/* Fill a protobuf-c message from a YAML mapping, driven by the message
 * descriptor: keys are the .proto field names, enum values are written as
 * their names (case-insensitive, with or without the enum's common prefix:
 * "cpu_spin" or "WORK_CPU_SPIN"), nested messages as mappings and repeated
 * fields as lists. Unknown keys and missing required fields are errors that
 * name the position. This keeps the suite schema in lockstep with
 * proto/guest.proto: a field added there is accepted here without code. */
#ifndef KTSTR_ORCH_YAML_PROTO_H
#define KTSTR_ORCH_YAML_PROTO_H

#include <protobuf-c/protobuf-c.h>

#include "yaml_schema.h"

/* msg must be initialized (desc->message_init); on error it may be partly
 * filled and is still freed with protobuf_c_message_free_unpacked(msg, NULL):
 * every allocation uses malloc. what names the mapping for messages. */
int yproto_fill(struct ys_ctx *c, const struct ynode *map, ProtobufCMessage *msg, const char *what);

/* Allocate and fill a new message of type desc. */
int yproto_new(struct ys_ctx *c, const struct ynode *map, const ProtobufCMessageDescriptor *desc,
	       const char *what, ProtobufCMessage **out);

/* Enum value by name as described above; -EINVAL (with message) if none. */
int yproto_enum(struct ys_ctx *c, const struct ynode *n, const ProtobufCEnumDescriptor *ed,
		const char *what, int *out);

#endif
