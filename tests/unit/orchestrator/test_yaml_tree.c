/* yaml_tree.c: the suite's YAML tree. Duplicate keys are found through a
 * hash index (a hostile suite of 80k keys once cost 12.9 s of root's CPU in
 * a quadratic scan; make bench times 1M keys). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "yaml_tree.h"

static char *many_keys(size_t n, const char *last)
{
	struct strbuf sb = { 0 };

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sb_printf(&sb, "k%zu: %zu\n", i, i), 0);
	if (last)
		cr_assert_eq(sb_printf(&sb, "%s", last), 0);
	return sb.buf;
}

Test(yaml_tree, a_duplicate_among_many_keys_is_found_with_both_lines)
{
	char *text = many_keys(100000, "k0: again\n"), err[512];
	struct ynode *root = NULL;

	cr_assert_eq(ytree_parse("big.yaml", text, strlen(text), &root, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "big.yaml:100001:1: duplicate key 'k0' (first at line 1)"), "%s", err);
	free(text);
}

Test(yaml_tree, many_distinct_keys_are_all_found)
{
	char *text = many_keys(50000, NULL), err[512], key[32];
	struct ynode *root = NULL;
	const struct ynode *v;

	cr_assert_eq(ytree_parse("big.yaml", text, strlen(text), &root, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(root->n, 50000);
	for (size_t i = 0; i < 50000; i += 777) {
		snprintf(key, sizeof(key), "k%zu", i);
		v = ymap_get(root, key);
		cr_assert_not_null(v, "%s", key);
		cr_assert_eq(strtoul(v->value, NULL, 10), i);
	}
	cr_assert_null(ymap_get(root, "k50000"));
	cr_assert_null(ymap_get(root, ""));
	ynode_free(root);
	free(text);
}

Test(yaml_tree, duplicates_in_nested_maps_are_per_map)
{
	const char *ok = "a: {x: 1, y: 2}\nb: {x: 3}\n", *bad = "a: {x: 1, y: 2, x: 3}\n";
	struct ynode *root = NULL;
	char err[512];

	cr_assert_eq(ytree_parse("n.yaml", ok, strlen(ok), &root, err, sizeof(err)), 0, "%s", err);
	ynode_free(root);
	root = NULL;
	cr_assert_eq(ytree_parse("n.yaml", bad, strlen(bad), &root, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "duplicate key 'x' (first at line 1)"), "%s", err);
}
