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

#endif
