/* Reflection helpers over protobuf-c field descriptors, shared by the YAML
 * suite mapper (yaml_proto.c) and the JSON report writer (json_pb.c). */
#ifndef KTSTR_ORCH_PB_FIELD_H
#define KTSTR_ORCH_PB_FIELD_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Size of one element of field f as protobuf-c stores it in a message
 * (the stride of a repeated field's array). */
size_t pb_field_elem_size(const ProtobufCFieldDescriptor *f);

#endif
