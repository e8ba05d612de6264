/* Struct offsets and sizes for the guest kernel's layout, from the
 * vmlinux's BTF through libbpf (which validates the BTF as it loads it:
 * btf__new refuses a damaged blob). Members are found through anonymous
 * struct/union members at any depth, as the kernel nests them (struct rq
 * keeps some of its fields in unnamed unions and cacheline groups). */
#include <bpf/btf.h>
#include <errno.h>
#include <string.h>

#include "kernel_layout_priv.h"

/* Anonymous members nest a few levels deep in practice; a cycle is garbage. */
#define NEST_MAX 16

static int struct_by_name(const struct btf *btf, const char *st, const struct btf_type **out)
{
	__s32 id = btf__find_by_name_kind(btf, st, BTF_KIND_STRUCT);

	if (id <= 0)
		return -ENOENT;
	*out = btf__type_by_id(btf, (__u32)id);
	return *out ? 0 : -ENOENT;
}

static int member_size(const struct btf *btf, const struct btf_member *m, uint32_t *size)
{
	__s64 sz = btf__resolve_size(btf, m->type);

	if (sz <= 0 || sz > UINT32_MAX)
		return -EINVAL;
	*size = (uint32_t)sz;
	return 0;
}

/* bits: the member's bit offset so far (outer anonymous members added). */
static int find_member(const struct btf *btf, const struct btf_type *t, const char *member,
		       uint64_t bits, int depth, uint32_t *offset, uint32_t *size)
{
	const struct btf_member *m = btf_members(t);
	int ret = -ENOENT;

	if (depth > NEST_MAX)
		return -EINVAL;
	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		uint64_t at = bits + btf_member_bit_offset(t, i);

		if (name && *name) {
			if (strcmp(name, member))
				continue;
			/* A bitfield cannot be read as whole bytes. */
			if (btf_member_bitfield_size(t, i) || at % 8)
				return -EINVAL;
			if (at / 8 > UINT32_MAX)
				return -EINVAL;
			*offset = (uint32_t)(at / 8);
			return member_size(btf, m, size);
		}
		/* Anonymous: look inside it if it is a struct or union. */
		{
			const struct btf_type *inner = btf__type_by_id(btf, m->type);

			while (inner && (btf_is_mod(inner) || btf_is_typedef(inner)))
				inner = btf__type_by_id(btf, inner->type);
			if (!inner || !btf_is_composite(inner))
				continue;
			ret = find_member(btf, inner, member, at, depth + 1, offset, size);
			if (ret != -ENOENT)
				return ret;
		}
	}
	return -ENOENT;
}

int kl_btf_member(const struct btf *btf, const char *st, const char *member, uint32_t *offset,
		  uint32_t *size)
{
	const struct btf_type *t;
	int ret = struct_by_name(btf, st, &t);

	if (ret)
		return ret;
	return find_member(btf, t, member, 0, 0, offset, size);
}

int kl_btf_struct_size(const struct btf *btf, const char *st, uint32_t *size)
{
	const struct btf_type *t;
	int ret = struct_by_name(btf, st, &t);

	if (ret)
		return ret;
	*size = t->size;
	return 0;
}

int kl_btf_percpu_var(const struct btf *btf, const char *var, uint32_t *offset)
{
	__s32 id = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	const struct btf_type *sec;
	const struct btf_var_secinfo *vi;

	if (id <= 0 || !(sec = btf__type_by_id(btf, (__u32)id)))
		return -ENOENT;
	vi = btf_var_secinfos(sec);
	for (__u16 i = 0; i < btf_vlen(sec); i++, vi++) {
		const struct btf_type *v = btf__type_by_id(btf, vi->type);
		const char *name = v ? btf__name_by_offset(btf, v->name_off) : NULL;

		if (name && !strcmp(name, var)) {
			*offset = vi->offset;
			return 0;
		}
	}
	return -ENOENT;
}

int kl_btf_each_member(const struct btf *btf, const char *st,
		       int (*fn)(void *ctx, const char *name, uint32_t offset, uint32_t size),
		       void *ctx)
{
	const struct btf_type *t;
	const struct btf_member *m;
	int ret = struct_by_name(btf, st, &t);

	if (ret)
		return ret;
	m = btf_members(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		uint32_t bits = btf_member_bit_offset(t, i), size;

		if (!name || !*name || btf_member_bitfield_size(t, i) || bits % 8)
			continue;
		if (member_size(btf, m, &size))
			continue;
		ret = fn(ctx, name, bits / 8, size);
		if (ret)
			return ret;
	}
	return 0;
}

int kl_btf_enum_value(const struct btf *btf, const char *en, const char *val, int64_t *out)
{
	__s32 id = btf__find_by_name_kind(btf, en, BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id <= 0 || !(t = btf__type_by_id(btf, (__u32)id)))
		return -ENOENT;
	e = btf_enum(t);
	for (__u16 i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);

		if (name && !strcmp(name, val)) {
			*out = e->val;
			return 0;
		}
	}
	return -ENOENT;
}
