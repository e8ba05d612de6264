/* A C test program built with gcc --coverage, for tests/integration/capi.c
 * (docs/c-api.md, "Coverage"): two tests, each calling counted() once, so
 * after `capi-cov run --coverage DIR` each VM's .gcda counts the marked
 * line once and the merged trees count it twice. Built by `make
 * tests-build` as build/tests/capi-cov (object in build/tests/capi-cov-obj,
 * where its .gcno is). */
#include <stdio.h>

#include <ktstr/ktstr.h>

static int counted(const char *who)
{
	printf("capi-cov: %s\n", who); /* KTSTR-COV-MARK */
	return 0;
}

static int never(void)
{
	return puts("capi-cov: never called"); /* KTSTR-COV-NEVER */
}

KTSTR_TEST(cov_one, .duration_ms = 5000)
{
	(void)ctx;
	if (ktstr_nllcs(ctx) > 1000)
		return never();
	return counted("one");
}

KTSTR_TEST(cov_two, .duration_ms = 5000)
{
	(void)ctx;
	return counted("two");
}
