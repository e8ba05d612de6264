#include "json_pb.h"
#include "pb_field.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/utf8.h>

int json_str(struct strbuf *sb, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	int ret = sb_append(sb, "\"", 1);

	for (size_t i = 0; !ret && i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (!n) {
			/* Not UTF-8: U+FFFD, so the document stays valid UTF-8. */
			ret = sb_append(sb, "\\ufffd", 6);
			i++;
		} else if (cp == '"' || cp == '\\') {
			char esc[2] = { '\\', (char)cp };

			ret = sb_append(sb, esc, 2);
			i++;
		} else if (cp == '\n') {
			ret = sb_append(sb, "\\n", 2);
			i++;
		} else if (cp == '\t') {
			ret = sb_append(sb, "\\t", 2);
			i++;
		} else if (cp < 0x20 || cp == 0x7f) {
			ret = sb_printf(sb, "\\u%04x", (unsigned)cp);
			i++;
		} else {
			ret = sb_append(sb, p + i, n);
			i += n;
		}
	}
	return ret ? ret : sb_append(sb, "\"", 1);
}

static int json_num(struct strbuf *sb, double d)
{
	if (!isfinite(d))
		return sb_append(sb, "null", 4);
	return sb_printf(sb, "%.17g", d);
}

struct json_extra {
	json_pb_extra_fn fn;
	const void *ctx;
};

static int json_msg(struct strbuf *sb, const ProtobufCMessage *msg, const struct json_extra *x);

static int json_value(struct strbuf *sb, const ProtobufCFieldDescriptor *f, const void *p,
		      const struct json_extra *x)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return sb_printf(sb, "%" PRId32, *(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sb_printf(sb, "%" PRIu32, *(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return sb_printf(sb, "%" PRId64, *(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sb_printf(sb, "%" PRIu64, *(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_num(sb, *(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_num(sb, *(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return sb_printf(sb, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);

		if (ev)
			return json_str(sb, ev->name, strlen(ev->name));
		return sb_printf(sb, "%d", *(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		return s ? json_str(sb, s, strlen(s)) : sb_append(sb, "null", 4);
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		char *enc = NULL;
		int ret = base64_encode(b->data, b->len, &enc);

		if (!ret)
			ret = json_str(sb, enc, strlen(enc));
		free(enc);
		return ret;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;

		return m ? json_msg(sb, m, x) : sb_append(sb, "null", 4);
	}
	}
	return -EINVAL;
}

static int json_msg(struct strbuf *sb, const ProtobufCMessage *msg, const struct json_extra *x)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	bool first = true;
	int ret = sb_append(sb, "{", 1);

	for (unsigned i = 0; !ret && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)p;

			if (!n)
				continue;
			ret = sb_printf(sb, "%s\"%s\":[", first ? "" : ",", f->name);
			for (size_t k = 0; !ret && k < n; k++) {
				if (k)
					ret = sb_append(sb, ",", 1);
				if (!ret)
					ret = json_value(sb, f, arr + k * pb_field_elem_size(f), x);
			}
			if (!ret)
				ret = sb_append(sb, "]", 1);
			first = false;
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (!*(void *const *)p)
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
			   !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			   !*(const protobuf_c_boolean *)(base + f->quantifier_offset)) {
			continue;
		}
		ret = sb_printf(sb, "%s\"%s\":", first ? "" : ",", f->name);
		if (!ret)
			ret = json_value(sb, f, p, x);
		first = false;
	}
	if (!ret && x->fn)
		ret = x->fn(sb, msg, first, x->ctx);
	return ret ? ret : sb_append(sb, "}", 1);
}

int json_pb(struct strbuf *sb, const ProtobufCMessage *msg)
{
	const struct json_extra none = { 0 };

	return json_msg(sb, msg, &none);
}

int json_pb_extra(struct strbuf *sb, const ProtobufCMessage *msg, json_pb_extra_fn extra,
		  const void *ctx)
{
	const struct json_extra x = { extra, ctx };

	return json_msg(sb, msg, &x);
}
