/* `ktstr-orch shell --result-json FILE`: the typed end of a --exec run,
 * for programs (libktstr's ktstr_vm_run) that must not guess it from an
 * exit status (a command exiting 3 vs an infrastructure error 3). The
 * format is include/ktstr/shell_result.h; docs/shell.md describes it. */
#ifndef KTSTR_ORCH_SHELL_RESULT_H
#define KTSTR_ORCH_SHELL_RESULT_H

#include <stdint.h>
#include <time.h>

#include "shell_exec.h"

struct shell_result {
	int fd;			/* owned; -1: no --result-json */
	struct exec_tail tail;	/* tail.buf owned */
	const char *outcome;	/* KTSTR_SR_*; NULL: not decided yet */
	int exit_code;
	const char *engine;	/* static */
	char error[1024];
	struct timespec start;	/* CLOCK_MONOTONIC, for wall_ms */
};

/* Open FILE now, as the invoking user (before root is dropped, so the
 * path is the caller's to name), and take the start time. 0 or -errno,
 * err saying why. */
int shell_result_open(struct shell_result *sr, const char *path, char *err, size_t errlen);
/* Decide the outcome once; later calls keep the first. error may be NULL. */
void shell_result_set(struct shell_result *sr, const char *outcome, int exit_code,
		      const char *error);
/* Write the JSON object and close the file (nothing when fd is -1); an
 * undecided outcome is written as an infra error. 0 or -errno. */
int shell_result_finish(struct shell_result *sr);
void shell_result_free(struct shell_result *sr);

#endif
