/* A small YAML document tree built from libyaml events, with the source
 * position of every node so schema errors can name file:line:col.
 *
 * Anchors and aliases are refused: suite files are meant to be read by
 * people, and an alias would make an error's line number point somewhere
 * other than the text the user wrote. */
#ifndef KTSTR_ORCH_YAML_TREE_H
#define KTSTR_ORCH_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_kind { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ };

struct ynode {
	enum ynode_kind kind;
	unsigned line, col;	 /* 1-based, from libyaml marks */
	char *value;		 /* SCALAR: the text (owned) */
	bool quoted;		 /* SCALAR: written with quotes (never a null) */
	/* MAP: keys[i] (SCALAR) -> items[i]; SEQ: items[i]. Owned. */
	struct ynode **keys;
	struct ynode **items;
	size_t n, cap;
	/* MAP: open-addressing index of keys[] (slot = index + 1, 0 = empty),
	 * so a duplicate key is found in O(1) however many keys a hostile
	 * suite has. kcap is a power of two, at least twice n. */
	size_t *kidx, kcap;
};

/* Parse text (len bytes) into a tree. On error returns -EINVAL and writes
 * "FILE:LINE:COL: problem" into err. *out is owned by the caller
 * (ynode_free). An empty document yields an empty MAP. */
int ytree_parse(const char *file, const char *text, size_t len, struct ynode **out, char *err,
		size_t errlen);
void ynode_free(struct ynode *n);

/* Value for key in a MAP, or NULL. */
const struct ynode *ymap_get(const struct ynode *map, const char *key);

#endif
