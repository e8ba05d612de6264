/* Test helpers: every confined check runs in a fresh forked child, because a
 * seccomp filter cannot be removed and criterion's own runner needs syscalls
 * our policies forbid. */
#ifndef KTSTR_TEST_SANDBOX_CHILD_H
#define KTSTR_TEST_SANDBOX_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox.h"

/* Exit codes a child uses to say what went wrong before the probe. */
#define CHILD_EXIT_OK 0
#define CHILD_EXIT_CONFINE_FAILED 100
#define CHILD_EXIT_SETUP_FAILED 101
#define CHILD_EXIT_PROBE_FAILED 102

/* Upper bound on any child's life: a probe that blocks is a test failure,
 * never a hung test run. */
#define CHILD_TIMEOUT_MS 10000

typedef void (*child_fn)(void *arg);

/* Fork, run fn(arg) in the child (which must _exit), wait with the bound
 * above (SIGKILL on timeout, reported as status of SIGKILL and *timed_out).
 * Returns the raw wait status. */
int child_run(child_fn fn, void *arg, bool *timed_out);

/* Like child_run, but the child calls child_pause() once it is confined; the
 * parent then reads /proc/<pid>/status into status_buf before letting it go
 * on. The child must not have closed its inherited pipe fds. */
int child_run_paused(child_fn fn, void *arg, char *status_buf, size_t len, bool *timed_out);
void child_pause(void);

/* Value of `key:` in a /proc status text ("2" for "Seccomp:\t2"), or "". */
const char *status_field(const char *status, const char *key, char *out, size_t len);

/* Human text for a wait status ("killed by SIGSYS (31)"). */
const char *wait_text(int status, char *buf, size_t len);

/* True when the child was killed by the seccomp default action. */
bool killed_by_sigsys(int status);

/* Confine the calling (child) process for role with child_pid/cache_dirfd
 * as given and no namespaces; _exit(CHILD_EXIT_CONFINE_FAILED) on failure
 * after printing why. */
void child_confine(enum sandbox_role role, pid_t child_pid, int cache_dirfd);

#endif
