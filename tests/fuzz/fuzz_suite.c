/* libFuzzer target: the suite parser (YAML via libyaml -> suite model).
 * Suites come from users and CI configs; no input may crash the parser,
 * leak, or read out of bounds. Accepted suites are freed to check the
 * ownership of everything the parser built. */
#include <stddef.h>
#include <stdint.h>

#include "suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct suite *s = NULL;
	char err[1024];

	if (suite_parse("fuzz.yaml", (const char *)data, size, &s, err, sizeof(err)) == 0)
		suite_free(s);
	return 0;
}
