#include "helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

const char *test_srcdir(void)
{
	const char *d = getenv("KTSTR_SRC_DIR");

	return d && *d ? d : ".";
}

struct suite *parse_ok(const char *yaml)
{
	struct suite *s = NULL;
	char err[2048] = "";
	int ret = suite_parse("test.yaml", yaml, strlen(yaml), &s, err, sizeof(err));

	cr_assert_eq(ret, 0, "suite should parse, got: %s", err);
	return s;
}

const char *parse_err(const char *yaml)
{
	static char err[2048];
	struct suite *s = NULL;
	int ret = suite_parse("test.yaml", yaml, strlen(yaml), &s, err, sizeof(err));

	cr_assert_neq(ret, 0, "suite should not parse");
	cr_assert_null(s);
	return err;
}
