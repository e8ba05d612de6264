/* Shared helpers for the orchestrator unit tests. */
#ifndef KTSTR_TEST_ORCH_HELPERS_H
#define KTSTR_TEST_ORCH_HELPERS_H

#include <stddef.h>

#include "suite.h"

/* Source tree root: $KTSTR_SRC_DIR or "." (tests run from the repo root). */
const char *test_srcdir(void);
/* Parse YAML text as a suite named "test.yaml"; asserts success. */
struct suite *parse_ok(const char *yaml);
/* Parse and return the error message (static buffer); asserts failure. */
const char *parse_err(const char *yaml);
/* got against the golden file at path (up to 4 MiB): a difference fails
 * the test showing both; with $KTSTR_UPDATE_GOLDEN set, path is rewritten
 * with got instead. The one golden-file loop of these tests. */
void test_golden(const char *path, const char *got);

#endif
