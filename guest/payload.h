/* Running a suite's payloads (ktstr/payload.h) from PID 1: fork, join the
 * cgroup, exec with stdout+stderr on a pipe, keep the last
 * KTSTR_PAYLOAD_TAIL_BYTES of it and count the rest, enforce the timeout,
 * stop on request (SIGTERM to the process group, SIGKILL after the grace),
 * and describe how it ended as a PayloadResult. Single-threaded, like the
 * scenario: the caller pumps. */
#ifndef KTSTR_GUEST_PAYLOAD_H
#define KTSTR_GUEST_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ktstr/payload.h>

#include "guest.pb-c.h"

struct payload_run {
	char name[64];
	pid_t pid;		/* its process group too; kept after it ends */
	int out_fd;		/* read end of its output pipe; -1 once closed */
	bool done;		/* reaped: status valid */
	int status;		/* wait status */
	bool background, timed_out, stopped; /* stopped: by payload_stop */
	uint32_t expect_exit, step;
	uint64_t t_start, t_end; /* ms (ktstr_now_ms) */
	uint64_t deadline;	/* ms; 0 = none */
	uint64_t term_at;	/* SIGTERM sent at (ms), 0 = not yet */
	const char *note;	/* static text, or NULL */
	char *tail;		/* KTSTR_PAYLOAD_TAIL_BYTES ring; owned */
	uint64_t total;		/* bytes read; tail holds the last min(total, cap) */
};

/* Start spec with op's args appended, in cgroup_path (a cgroupfs directory;
 * NULL = stay in PID 1's), killed timeout_ms after its start (0 = never).
 * On success p owns a child and a pipe (payload_release frees them once it
 * is done). exec failures are reported here, with err: -errno. */
int payload_start(struct payload_run *p, const Ktstr__PayloadSpec *spec, const Ktstr__PayloadOp *op,
		  const char *cgroup_path, uint32_t timeout_ms, char *err, size_t errlen);

/* Wait up to timeout_ms for output from any of the n runs, read what came
 * (each run's tail ring keeps the newest bytes), reap the ones that ended,
 * and enforce timeouts and stop graces. Returns early on output. */
void payload_pump(struct payload_run *const *v, size_t n, int timeout_ms);

/* Pump p until it ends or until_ms (ktstr_now_ms; 0 = its own deadline
 * only). 0 when done, -ETIMEDOUT otherwise. */
int payload_wait(struct payload_run *p, uint64_t until_ms);

/* End p: SIGTERM to its process group, SIGKILL after
 * KTSTR_PAYLOAD_KILL_GRACE_MS, then wait for it (bounded). note says why
 * (kept in the result). A run that already ended is left as it is. */
void payload_stop(struct payload_run *p, const char *note);

/* Whether p's ending fails the test: it ran out of time, was killed by a
 * signal it was not sent by payload_stop, or exited with a status other
 * than expect_exit. why says so in one line ("payload x: exit 3, expected
 * 0"). A run that payload_stop ended is not judged. */
bool payload_failed(const struct payload_run *p, char *why, size_t whylen);

/* A PayloadResult for p (malloc'd with its strings, for result_free). */
Ktstr__PayloadResult *payload_result(const struct payload_run *p);

/* The kept output, oldest first, NUL-terminated; *len its length
 * (malloc'd; NULL on ENOMEM). */
char *payload_tail(const struct payload_run *p, size_t *len);

/* Close the pipe, free the ring (p must be done or stopped). */
void payload_release(struct payload_run *p);

#endif
