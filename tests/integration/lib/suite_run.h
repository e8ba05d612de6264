/* Running suites through the real `ktstr-orch run` from integration tests
 * (sched_real.c, sched_fixture.c, guest_verdicts.c): environment, scheduler
 * staging, the run itself and its --json records. */
#ifndef KTSTR_TEST_SUITE_RUN_H
#define KTSTR_TEST_SUITE_RUN_H

#include <stdbool.h>
#include <string.h>

#define RUN_TIMEOUT_MS (480 * 1000)

struct suite_env {
	char orch[1024], kernel[1024], src[1024], tmp[1024];
	bool staged; /* tmp/bin holds copies of the schedulers */
};

/* Skips the test when ktstr-orch or a kernel is missing; with schedulers,
 * stages world-readable copies of $KTSTR_SCHEDULER_PATH's binaries. */
void suite_env_init(struct suite_env *e, bool schedulers);
/* `ktstr-orch --workers 1 run SUITE --json tmp/r.json [--filter F]` on
 * kernel (NULL = the test kernel). Returns the exit status; output in *out
 * (malloc'd). */
int run_suite(const struct suite_env *e, const char *suite, const char *filter,
	      const char *kernel, char **out);
/* The same with extra `run` options (a shell-quoted string, or NULL). */
int run_suite_args(const struct suite_env *e, const char *suite, const char *filter,
		   const char *kernel, const char *args, char **out);
/* The same for a suite file anywhere (an absolute path, say one the test
 * wrote into tmp). */
int run_suite_path(const struct suite_env *e, const char *suite_path, const char *filter,
		   const char *kernel, const char *args, char **out);
/* `/bin/sh -c cmd` with output in *out (malloc'd; NULL discards it),
 * asserting it ended within timeout_ms. Returns its exit status, or 128 +
 * the signal that killed it. */
int sh_status(const char *cmd, int timeout_ms, char **out);
/* The --json record of test `name` (one record per line), malloc'd. */
char *json_record(const struct suite_env *e, const char *name);

#define assert_has(hay, needle, ...) \
	cr_assert(strstr((hay), (needle)), "missing \"%s\" in:\n%s", (needle), (hay))

#endif
