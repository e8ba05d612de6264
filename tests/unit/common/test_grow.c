/* ktstr_grow / KTSTR_GROW: the one array-doubling helper. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <ktstr/util.h>

Test(grow, first_capacity_then_doubling)
{
	int *v = NULL;
	size_t cap = 0;

	cr_assert_eq(KTSTR_GROW(v, &cap, 1, 16), 0);
	cr_assert_not_null(v);
	cr_assert_eq(cap, 16, "an empty array starts at first");
	for (size_t n = 0; n < 16; n++) {
		cr_assert_eq(KTSTR_GROW(v, &cap, n + 1, 16), 0);
		v[n] = (int)n;
	}
	cr_assert_eq(cap, 16, "no growth while it fits");
	cr_assert_eq(KTSTR_GROW(v, &cap, 17, 16), 0);
	cr_assert_eq(cap, 32, "full: doubled");
	for (int i = 0; i < 16; i++)
		cr_assert_eq(v[i], i, "contents kept");
	cr_assert_eq(KTSTR_GROW(v, &cap, 200, 16), 0);
	cr_assert_eq(cap, 256, "doubled until it holds need");
	free(v);
}

Test(grow, need_within_capacity_is_a_no_op)
{
	char *v = malloc(8);
	char *was = v;
	size_t cap = 8;

	cr_assert_eq(ktstr_grow((void **)&v, &cap, 8, 1, 4), 0);
	cr_assert_eq(v, was);
	cr_assert_eq(cap, 8);
	cr_assert_eq(ktstr_grow((void **)&v, &cap, 0, 1, 4), 0);
	cr_assert_eq(cap, 8);
	free(v);
}

Test(grow, first_zero_still_makes_room)
{
	long *v = NULL;
	size_t cap = 0;

	cr_assert_eq(KTSTR_GROW(v, &cap, 3, 0), 0);
	cr_assert_geq(cap, 3);
	v[2] = 7;
	free(v);
}

Test(grow, overflowing_sizes_are_refused_and_leave_the_array_alone)
{
	uint64_t *v = NULL;
	uint64_t *was;
	size_t cap = 0;

	cr_assert_eq(KTSTR_GROW(v, &cap, 4, 4), 0);
	was = v;
	v[3] = 42;
	cr_assert_eq(KTSTR_GROW(v, &cap, SIZE_MAX / sizeof(*v) + 1, 4), -ENOMEM, "need * elem overflows");
	cr_assert_eq(v, was);
	cr_assert_eq(cap, 4);
	cr_assert_eq(KTSTR_GROW(v, &cap, SIZE_MAX, 4), -ENOMEM);
	cr_assert_eq(v, was);
	cr_assert_eq(cap, 4);
	cr_assert_eq(v[3], 42);
	free(v);
}

Test(grow, zero_element_size_is_invalid)
{
	void *v = NULL;
	size_t cap = 0;

	cr_assert_eq(ktstr_grow(&v, &cap, 1, 0, 4), -EINVAL);
	cr_assert_null(v);
	cr_assert_eq(cap, 0);
}
