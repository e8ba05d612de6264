/* libFuzzer target for one protobuf-c decoder, chosen at build time:
 *   -DFUZZ_DESC=ktstr__worker_request__descriptor -DFUZZ_HDR='"worker.pb-c.h"'
 * The decoder must never crash, leak or read out of bounds on any input, and
 * whatever it accepts must survive a pack/unpack round trip unchanged (a
 * decoder that accepts what the encoder cannot reproduce would let two
 * processes disagree about one frame). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include FUZZ_HDR

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* protobuf-c keeps fields it does not know as raw bytes and re-emits them
 * as it read them, including a field number 0 written as an over-long
 * varint (80 00), which it then refuses to read back. Such frames are not
 * ours to round-trip: the round-trip property applies only to messages made
 * of known fields. */
static int has_unknown_fields(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields)
		return 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);

			for (size_t j = 0; j < n; j++)
				if (has_unknown_fields(arr[j]))
					return 1;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)(base + f->offset);
		if (sub && has_unknown_fields(sub))
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *desc = &FUZZ_DESC;
	ProtobufCMessage *m, *m2;
	uint8_t *out, *out2;
	size_t n, n2;

	m = protobuf_c_message_unpack(desc, NULL, size, data);
	if (!m)
		return 0;
	if (has_unknown_fields(m)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return 0;
	}
	n = protobuf_c_message_get_packed_size(m);
	out = malloc(n ? n : 1);
	if (!out)
		abort();
	if (protobuf_c_message_pack(m, out) != n)
		abort();
	m2 = protobuf_c_message_unpack(desc, NULL, n, out);
	if (!m2)
		abort(); /* we produced bytes we cannot read back */
	n2 = protobuf_c_message_get_packed_size(m2);
	out2 = malloc(n2 ? n2 : 1);
	if (!out2)
		abort();
	if (protobuf_c_message_pack(m2, out2) != n2 || n2 != n || memcmp(out, out2, n))
		abort(); /* not a fixed point after one round trip */
	free(out2);
	free(out);
	protobuf_c_message_free_unpacked(m2, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
