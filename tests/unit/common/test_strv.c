/* strv.c: the argv-style string vector the orchestrator (and the QEMU
 * engine's command line) build. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/strv.h>

Test(strv, push_copies_and_keeps_a_null_terminator)
{
	struct strv sv = { 0 };
	char s[] = "abc";

	cr_assert_eq(strv_push(&sv, s), 0);
	s[0] = 'x';
	cr_assert_eq(sv.n, 1);
	cr_assert_str_eq(sv.v[0], "abc");
	cr_assert_null(sv.v[1]);
	cr_assert_eq(strv_pushf(&sv, "-smp %u,sockets=%s", 4u, "2"), 0);
	cr_assert_eq(sv.n, 2);
	cr_assert_str_eq(sv.v[1], "-smp 4,sockets=2");
	cr_assert_null(sv.v[2]);
	strv_free(&sv);
	cr_assert_null(sv.v);
	cr_assert_eq(sv.n, 0);
	strv_free(&sv); /* twice is harmless */
}

Test(strv, push_owned_takes_the_string_and_null_is_enomem)
{
	struct strv sv = { 0 };

	cr_assert_eq(strv_push_owned(&sv, strdup("own")), 0);
	cr_assert_eq(strv_push_owned(&sv, NULL), -ENOMEM);
	cr_assert_eq(sv.n, 1);
	strv_free(&sv);
}

Test(strv, find_join_extend)
{
	struct strv a = { 0 }, b = { 0 };
	char *j;

	for (int i = 0; i < 40; i++)
		cr_assert_eq(strv_pushf(&a, "s%d", i), 0);
	cr_assert_eq(strv_find(&a, "s17"), 17);
	cr_assert_eq(strv_find(&a, "s40"), -1);
	cr_assert_eq(strv_push(&b, "x"), 0);
	cr_assert_eq(strv_extend(&b, &a), 0);
	cr_assert_eq(b.n, 41);
	cr_assert_null(b.v[41]);
	strv_free(&a);
	cr_assert_eq(strv_push(&a, "p"), 0);
	cr_assert_eq(strv_push(&a, "q"), 0);
	j = strv_join(&a, ", ");
	cr_assert_str_eq(j, "p, q");
	free(j);
	strv_free(&a);
	j = strv_join(&a, ",");
	cr_assert_str_eq(j, "", "empty vector joins to the empty string");
	free(j);
	strv_free(&b);
}
