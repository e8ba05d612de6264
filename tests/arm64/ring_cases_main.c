/* The ring cases of tests/unit/common/ring_cases.c as a static program, built
 * for aarch64 (Makefile: $(BUILD)/tests/arm64/ring-cases) and run under
 * qemu-aarch64-static by scripts/arm64-ring-lane, so common/ring.c as the
 * arm64 guest runs it is proven. One "PASS name" / "FAIL name: why" line per
 * case (scripts/run-tests counts them); exit 1 if any failed. */
#include <stdio.h>

#include "ring_cases.h"

int main(void)
{
	int failed = 0;

	for (const struct ring_case *c = ring_cases; c->name; c++) {
		char why[512] = "";

		if (c->fn(why, sizeof(why))) {
			printf("FAIL arm64-ring/%s: %s\n", c->name, why);
			failed = 1;
		} else {
			printf("PASS arm64-ring/%s\n", c->name);
		}
	}
	return failed;
}
