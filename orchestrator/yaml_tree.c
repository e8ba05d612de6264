/* libyaml event stream -> struct ynode tree (see yaml_tree.h). */
#include "yaml_tree.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <yaml.h>

#include <ktstr/util.h>

#define YTREE_MAX_DEPTH 64 /* suites are shallow; bounds recursion on hostile input */

struct ybuild {
	yaml_parser_t parser;
	const char *file;
	char *err;
	size_t errlen;
};

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			ynode_free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->kidx);
	free(n->value);
	free(n);
}

/* FNV-1a: short keys, no adversarial-collision concern worth more (a suite
 * is at most 16 MiB, and a collision only costs a comparison). */
static size_t key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (size_t)h;
}

/* Index of key in map, or -1. */
static ssize_t map_find(const struct ynode *map, const char *key)
{
	if (!map->kcap)
		return -1;
	for (size_t h = key_hash(key) & (map->kcap - 1);; h = (h + 1) & (map->kcap - 1)) {
		size_t slot = map->kidx[h];

		if (!slot)
			return -1;
		if (!strcmp(map->keys[slot - 1]->value, key))
			return (ssize_t)(slot - 1);
	}
}

static void map_index_put(size_t *kidx, size_t kcap, const char *key, size_t idx)
{
	size_t h = key_hash(key) & (kcap - 1);

	while (kidx[h])
		h = (h + 1) & (kcap - 1);
	kidx[h] = idx + 1;
}

/* Add keys[idx] to the index, doubling it past half full. */
static int map_index_add(struct ynode *map, size_t idx)
{
	if ((idx + 1) * 2 > map->kcap) {
		size_t ncap = map->kcap ? map->kcap * 2 : 16;
		size_t *nidx = calloc(ncap, sizeof(*nidx));

		if (!nidx)
			return -ENOMEM;
		for (size_t i = 0; i < idx; i++)
			map_index_put(nidx, ncap, map->keys[i]->value, i);
		free(map->kidx);
		map->kidx = nidx;
		map->kcap = ncap;
	}
	map_index_put(map->kidx, map->kcap, map->keys[idx]->value, idx);
	return 0;
}

static struct ynode *ynode_new(enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

/* Append (key, item) to a MAP or item to a SEQ; takes ownership of both on
 * success only. */
static int ynode_push(struct ynode *parent, struct ynode *key, struct ynode *item)
{
	if (parent->n == parent->cap) {
		/* items and keys share one capacity: grow each from it. */
		size_t icap = parent->cap, kcap = parent->cap;

		if (KTSTR_GROW(parent->items, &icap, parent->n + 1, 4))
			return -ENOMEM;
		if (parent->kind == YNODE_MAP && KTSTR_GROW(parent->keys, &kcap, parent->n + 1, 4))
			return -ENOMEM;
		parent->cap = icap;
	}
	if (parent->kind == YNODE_MAP) {
		parent->keys[parent->n] = key;
		if (map_index_add(parent, parent->n))
			return -ENOMEM;
	}
	parent->items[parent->n++] = item;
	return 0;
}

static int yb_fail(struct ybuild *b, const yaml_mark_t *m, const char *what)
{
	snprintf(b->err, b->errlen, "%s:%zu:%zu: %s", b->file, m->line + 1, m->column + 1, what);
	return -EINVAL;
}

static int yb_next(struct ybuild *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		const yaml_mark_t *m = &b->parser.problem_mark;

		snprintf(b->err, b->errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", b->file,
			 m->line + 1, m->column + 1,
			 b->parser.problem ? b->parser.problem : "unknown problem",
			 b->parser.context ? " " : "", b->parser.context ? b->parser.context : "");
		return -EINVAL;
	}
	return 0;
}

/* Build the node that starts with ev (already read; consumed here). */
static int yb_node(struct ybuild *b, yaml_event_t *ev, int depth, struct ynode **out)
{
	struct ynode *n = NULL;
	int ret;

	if (depth > YTREE_MAX_DEPTH)
		return yb_fail(b, &ev->start_mark, "document nested too deeply (limit 64 levels)");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return yb_fail(b, &ev->start_mark,
			       "YAML aliases (*name) are not supported in suite files: write the value out");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return yb_fail(b, &ev->start_mark, "YAML anchors (&name) are not supported");
		n = ynode_new(YNODE_SCALAR, &ev->start_mark);
		if (!n)
			return -ENOMEM;
		n->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		if (!n->value) {
			free(n);
			return -ENOMEM;
		}
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool is_map = ev->type == YAML_MAPPING_START_EVENT;
		yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

		if ((is_map && ev->data.mapping_start.anchor) ||
		    (!is_map && ev->data.sequence_start.anchor))
			return yb_fail(b, &ev->start_mark, "YAML anchors (&name) are not supported");
		n = ynode_new(is_map ? YNODE_MAP : YNODE_SEQ, &ev->start_mark);
		if (!n)
			return -ENOMEM;
		for (;;) {
			yaml_event_t cev;
			struct ynode *key = NULL, *item = NULL;

			ret = yb_next(b, &cev);
			if (ret)
				goto err_node;
			if (cev.type == end) {
				yaml_event_delete(&cev);
				break;
			}
			ret = yb_node(b, &cev, depth + 1, is_map ? &key : &item);
			yaml_event_delete(&cev);
			if (ret)
				goto err_node;
			if (is_map) {
				if (key->kind != YNODE_SCALAR) {
					yaml_mark_t m = { .line = key->line - 1, .column = key->col - 1 };

					ynode_free(key);
					ret = yb_fail(b, &m, "mapping keys must be plain words");
					goto err_node;
				}
				ssize_t dup = map_find(n, key->value);

				if (dup >= 0) {
					yaml_mark_t m = { .line = key->line - 1,
							  .column = key->col - 1 };
					char msg[256];

					snprintf(msg, sizeof(msg), "duplicate key '%.64s' (first at line %u)",
						 key->value, n->keys[dup]->line);
					ynode_free(key);
					ret = yb_fail(b, &m, msg);
					goto err_node;
				}
				ret = yb_next(b, &cev);
				if (ret) {
					ynode_free(key);
					goto err_node;
				}
				ret = yb_node(b, &cev, depth + 1, &item);
				yaml_event_delete(&cev);
				if (ret) {
					ynode_free(key);
					goto err_node;
				}
			}
			ret = ynode_push(n, key, item);
			if (ret) {
				ynode_free(key);
				ynode_free(item);
				goto err_node;
			}
		}
		*out = n;
		return 0;
	}
	default:
		return yb_fail(b, &ev->start_mark, "unexpected YAML event");
	}
err_node:
	ynode_free(n);
	return ret;
}

int ytree_parse(const char *file, const char *text, size_t len, struct ynode **out, char *err,
		size_t errlen)
{
	struct ybuild b = { .file = file, .err = err, .errlen = errlen };
	struct ynode *root = NULL;
	yaml_event_t ev;
	int ret;

	if (!yaml_parser_initialize(&b.parser)) {
		snprintf(err, errlen, "%s: cannot initialize the YAML parser (out of memory)", file);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END. */
	for (;;) {
		ret = yb_next(&b, &ev);
		if (ret)
			goto out;
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		break;
	}
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_mark_t m = ev.start_mark;

		yaml_event_delete(&ev);
		root = ynode_new(YNODE_MAP, &m);
		ret = root ? 0 : -ENOMEM;
		goto out;
	}
	ret = yb_node(&b, &ev, 0, &root);
	yaml_event_delete(&ev);
	if (ret)
		goto out;
	ret = yb_next(&b, &ev); /* DOCUMENT-END */
	if (ret)
		goto out;
	yaml_event_delete(&ev);
	ret = yb_next(&b, &ev);
	if (ret)
		goto out;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		ret = yb_fail(&b, &ev.start_mark,
			      "a suite file holds one YAML document; found a second one ('---')");
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&b.parser);
	if (ret) {
		ynode_free(root);
		return ret;
	}
	*out = root;
	return 0;
}

const struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	ssize_t i;

	if (!map || map->kind != YNODE_MAP)
		return NULL;
	i = map_find(map, key);
	return i >= 0 ? map->items[i] : NULL;
}
