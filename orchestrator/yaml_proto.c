#include "yaml_proto.h"
#include "pb_field.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Length of the prefix ("WORK_") shared by every value name of ed, cut at
 * an underscore, so "cpu_spin" can name WORK_CPU_SPIN. */
static size_t enum_common_prefix(const ProtobufCEnumDescriptor *ed)
{
	size_t len;

	if (ed->n_values < 2)
		return 0;
	len = strlen(ed->values[0].name);
	for (unsigned i = 1; i < ed->n_values; i++) {
		size_t j = 0;

		while (j < len && ed->values[i].name[j] == ed->values[0].name[j])
			j++;
		len = j;
	}
	while (len && ed->values[0].name[len - 1] != '_')
		len--;
	return len;
}

static bool enum_name_eq(const char *value_name, const char *given)
{
	for (; *value_name && *given; value_name++, given++) {
		char g = *given == '-' ? '_' : *given;

		if (tolower((unsigned char)*value_name) != tolower((unsigned char)g))
			return false;
	}
	return !*value_name && !*given;
}

int yproto_enum(struct ys_ctx *c, const struct ynode *n, const ProtobufCEnumDescriptor *ed,
		const char *what, int *out)
{
	size_t pre = enum_common_prefix(ed);
	char list[512] = "";
	size_t off = 0;
	int ret = ys_expect(c, n, YNODE_SCALAR, what);

	if (ret)
		return ret;
	for (unsigned i = 0; i < ed->n_values; i++) {
		if (enum_name_eq(ed->values[i].name, n->value) ||
		    enum_name_eq(ed->values[i].name + pre, n->value)) {
			*out = ed->values[i].value;
			return 0;
		}
	}
	for (unsigned i = 0; i < ed->n_values && off < sizeof(list); i++) {
		char lower[64];
		size_t k;

		for (k = 0; ed->values[i].name[pre + k] && k < sizeof(lower) - 1; k++)
			lower[k] = (char)tolower((unsigned char)ed->values[i].name[pre + k]);
		lower[k] = '\0';
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					lower);
	}
	return ys_fail(c, n, "%s: unknown value '%s' (one of: %s)", what, n->value, list);
}

/* Store the scalar n into the element at dst. */
static int set_value(struct ys_ctx *c, const struct ynode *n, const ProtobufCFieldDescriptor *f,
		     void *dst, const char *what)
{
	int ret = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: {
		int32_t v;

		ret = ys_i32(c, n, what, &v);
		if (!ret)
			memcpy(dst, &v, 4);
		break;
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		uint32_t v;

		ret = ys_u32(c, n, what, 0, UINT32_MAX, &v);
		if (!ret)
			memcpy(dst, &v, 4);
		break;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v;

		ret = ys_u64(c, n, what, &v);
		if (!ret)
			memcpy(dst, &v, 8);
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v;

		ret = ys_double(c, n, what, &v);
		if (ret)
			break;
		if (f->type == PROTOBUF_C_TYPE_FLOAT) {
			float fv = (float)v;

			memcpy(dst, &fv, 4);
		} else {
			memcpy(dst, &v, 8);
		}
		break;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		bool v;
		protobuf_c_boolean pv;

		ret = ys_bool(c, n, what, &v);
		/* v is only defined when the scalar parsed (found by fuzz_suite). */
		if (!ret) {
			pv = v;
			memcpy(dst, &pv, sizeof(pv));
		}
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int v;

		ret = yproto_enum(c, n, f->descriptor, what, &v);
		if (!ret)
			memcpy(dst, &v, 4);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char *s;

		ret = ys_str(c, n, what, &s);
		if (!ret)
			memcpy(dst, &s, sizeof(s));
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *m;

		ret = yproto_new(c, n, f->descriptor, what, &m);
		if (!ret)
			memcpy(dst, &m, sizeof(m));
		break;
	}
	default:
		ret = ys_fail(c, n, "%s: this field type cannot be written in a suite file", what);
	}
	return ret;
}

int yproto_fill(struct ys_ctx *c, const struct ynode *map, ProtobufCMessage *msg, const char *what)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	int ret = ys_expect(c, map, YNODE_MAP, what);

	if (ret)
		return ret;
	for (size_t i = 0; i < map->n; i++) {
		const char *key = map->keys[i]->value;
		const struct ynode *val = map->items[i];
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
		char fwhat[160];
		char *base = (char *)msg;

		if (!f) {
			char list[512] = "";
			size_t off = 0;

			for (unsigned k = 0; k < d->n_fields && off < sizeof(list); k++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							k ? ", " : "", d->fields[k].name);
			return ys_fail(c, map->keys[i], "unknown key '%s' in %s (allowed: %s)", key,
				       what, list);
		}
		snprintf(fwhat, sizeof(fwhat), "%s.%s", what, key);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t *count = (size_t *)(base + f->quantifier_offset);
			void **arr = (void **)(base + f->offset);
			size_t es = pb_field_elem_size(f);
			size_t nitems = val->kind == YNODE_SEQ ? val->n : 1;
			char *a;

			if (*count)
				return ys_fail(c, val, "%s given twice", fwhat);
			a = calloc(nitems ? nitems : 1, es);
			if (!a)
				return -ENOMEM;
			*arr = a;
			for (size_t k = 0; k < nitems; k++) {
				const struct ynode *item = val->kind == YNODE_SEQ ? val->items[k] : val;

				ret = set_value(c, item, f, a + k * es, fwhat);
				if (ret)
					return ret;
				(*count)++;
			}
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
			void **slot = (void **)(base + f->offset);

			/* Replace a default string without freeing it (it is static). */
			if (f->type == PROTOBUF_C_TYPE_MESSAGE && *slot)
				return ys_fail(c, val, "%s given twice", fwhat);
			ret = set_value(c, val, f, slot, fwhat);
			if (ret)
				return ret;
			continue;
		}
		ret = set_value(c, val, f, base + f->offset, fwhat);
		if (ret)
			return ret;
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	}
	for (unsigned k = 0; k < d->n_fields; k++) {
		const ProtobufCFieldDescriptor *f = &d->fields[k];
		bool preset = (f->type == PROTOBUF_C_TYPE_STRING ||
			       f->type == PROTOBUF_C_TYPE_MESSAGE) &&
			      *(void **)((char *)msg + f->offset);

		/* A caller may fill a required string first (a scenario's name). */
		if (f->label == PROTOBUF_C_LABEL_REQUIRED && !preset && !ymap_get(map, f->name))
			return ys_fail(c, map, "%s: missing required key '%s'", what,
				       d->fields[k].name);
	}
	return 0;
}

int yproto_new(struct ys_ctx *c, const struct ynode *map, const ProtobufCMessageDescriptor *desc,
	       const char *what, ProtobufCMessage **out)
{
	ProtobufCMessage *m = calloc(1, desc->sizeof_message);
	int ret;

	if (!m)
		return -ENOMEM;
	desc->message_init(m);
	ret = yproto_fill(c, map, m, what);
	if (ret) {
		protobuf_c_message_free_unpacked(m, NULL);
		return ret;
	}
	*out = m;
	return 0;
}
