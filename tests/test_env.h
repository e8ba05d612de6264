/* What the test environment provides, for unit and integration tests alike
 * (one home: scripts/run-tests sets these variables, docs/architecture.md,
 * "Hosts", explains them).
 *
 * A missing piece of the environment (a kernel, QEMU, iasl, a binary not
 * built) is a skip with its reason on a developer's machine and a failure
 * in CI (KTSTR_REQUIRE_VM=1), so a broken setup never passes as "skipped".
 * A missing host property (no /dev/kvm, not root, no hugepages) is not
 * this: those tests use cr_skip_test, and the reason names the property. */
#ifndef KTSTR_TESTS_TEST_ENV_H
#define KTSTR_TESTS_TEST_ENV_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

static inline bool test_env_required(void)
{
	const char *req = getenv("KTSTR_REQUIRE_VM");

	return req && !strcmp(req, "1");
}

/* A test kernel file. kind: "vmlinux", "bzImage" or "config" of the
 * sched_ext kernel (Debian sid), or "noscx" (a vmlinux without sched_ext,
 * bookworm 6.12). $KTSTR_TEST_KERNEL / $KTSTR_TEST_BZIMAGE /
 * $KTSTR_TEST_KERNEL_NOSCX win (the config lies beside the vmlinux);
 * otherwise a developer's hand-extracted copies under /var/tmp/kdev.
 * Fills buf; true when the file is readable. */
static inline bool test_env_kernel(const char *kind, char *buf, size_t len)
{
	const char *vml = getenv("KTSTR_TEST_KERNEL");

	if (!strcmp(kind, "noscx")) {
		const char *e = getenv("KTSTR_TEST_KERNEL_NOSCX");

		snprintf(buf, len, "%s", e && *e ? e : "/var/tmp/kdev/k612/vmlinux");
	} else if (!strcmp(kind, "bzImage") && getenv("KTSTR_TEST_BZIMAGE") &&
		   *getenv("KTSTR_TEST_BZIMAGE")) {
		snprintf(buf, len, "%s", getenv("KTSTR_TEST_BZIMAGE"));
	} else if (vml && *vml) {
		const char *slash = strrchr(vml, '/');
		int dirlen = slash ? (int)(slash - vml) : 1;

		if (!strcmp(kind, "vmlinux"))
			snprintf(buf, len, "%s", vml);
		else
			snprintf(buf, len, "%.*s/%s", dirlen, slash ? vml : ".", kind);
	} else {
		snprintf(buf, len, "/var/tmp/kdev/k72/%s", kind);
	}
	return access(buf, R_OK) == 0;
}

#define test_missing(...)                            \
	do {                                         \
		if (test_env_required())             \
			cr_assert_fail(__VA_ARGS__); \
		cr_skip_test(__VA_ARGS__);           \
	} while (0)

#endif
