/* Payloads: programs a suite declares (`payloads:`), that the image carries
 * under KTSTR_PAYLOAD_DIR and the scenario's run_payload / wait_payload /
 * kill_payload ops run in the guest. One home for their limits and rules:
 * ktstr-orch checks a suite with these when it reads it (file:line:col,
 * exit 2) and the guest checks the spec it is sent with the same code. */
#ifndef KTSTR_PAYLOAD_H
#define KTSTR_PAYLOAD_H

#include <stddef.h>

#include "guest.pb-c.h"

/* Where the image puts payload NAME: KTSTR_PAYLOAD_DIR/NAME/BASENAME (its
 * own directory, so two payloads may share a basename, and argv[0] stays
 * the program's own name). */
#define KTSTR_PAYLOAD_DIR "/payloads"
/* Payloads a suite may declare. */
#define KTSTR_PAYLOAD_MAX 16
/* run_payload ops in one scenario: each keeps an output tail in the
 * TestResult, so this times KTSTR_PAYLOAD_TAIL_BYTES bounds what they add
 * to it (1 MiB). */
#define KTSTR_PAYLOAD_RUNS_MAX 16
/* Arguments of one run (the declared ones and the op's together), and the
 * bytes of each. */
#define KTSTR_PAYLOAD_ARGS_MAX 64
#define KTSTR_PAYLOAD_ARG_MAX 4096
/* The last bytes of a run's stdout+stderr kept for the report; the rest is
 * counted (PayloadResult.output_bytes). */
#define KTSTR_PAYLOAD_TAIL_BYTES 65536u
/* timeout_ms of a run or a wait: at most an hour, as a scenario. */
#define KTSTR_PAYLOAD_TIMEOUT_MAX_MS (3600u * 1000u)
/* kill_payload and the scenario's end send SIGTERM to the run's process
 * group, then SIGKILL after this grace. */
#define KTSTR_PAYLOAD_KILL_GRACE_MS 1000u

/* A payload name: the rules of a cgroup name (one path component of
 * [A-Za-z0-9_.-], 1..48 characters, not . or ..). 0 or -EINVAL. */
int ktstr_payload_name_check(const char *name);

/* The guest path of payload name whose host file is host_path (its
 * basename is kept). 0, or -ENAMETOOLONG. */
int ktstr_payload_guest_path(const char *name, const char *host_path, char *buf, size_t len);

/* Check the declared payloads (names unique and valid, at most
 * KTSTR_PAYLOAD_MAX, paths under KTSTR_PAYLOAD_DIR, argument bounds) and
 * every payload op of sc against them, in scenario order: a run names a
 * declared payload not already running in the background, with
 * expect_exit 0..255, bounded timeout and arguments, at most
 * KTSTR_PAYLOAD_RUNS_MAX runs; wait/kill name one running in the
 * background there and take only name (and a wait its timeout_ms).
 * Returns 0 or -EINVAL with path naming the field as a suite writes it
 * ("steps[0].ops[1].payload.name", "payloads[2].args") and why. */
int ktstr_payload_ops_check(const Ktstr__Scenario *sc, Ktstr__PayloadSpec *const *pl, size_t npl,
			    char *path, size_t pathlen, char *why, size_t whylen);

#endif
