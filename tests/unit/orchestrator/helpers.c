#include "helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

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

void test_golden(const char *path, const char *got)
{
	char *want = NULL;
	size_t len;

	if (getenv("KTSTR_UPDATE_GOLDEN")) {
		cr_assert_eq(write_file_create(path, got, strlen(got), 0644), 0, "cannot write %s",
			     path);
		return;
	}
	cr_assert_eq(read_file(path, &want, &len, 1 << 22), 0,
		     "golden file %s missing (KTSTR_UPDATE_GOLDEN=1 creates it)", path);
	cr_expect_str_eq(got, want, "%s differs:\n--- got\n%s--- want\n%s", path, got, want);
	free(want);
}
