/* run --coverage DIR: the coverage files C tests send from their guests
 * (PROFRAW messages, ktstr/covmsg.h) written under DIR (docs/c-api.md,
 * "Coverage").
 *
 * Each VM's files go to DIR/<test>/<absolute path the binary wrote> (a
 * .gcda at its build path, clang's /ktstr-PID.profraw), one tree per VM:
 * the counters are summed by gcov-tool / llvm-profdata, which read every
 * format version and which the orchestrator does not run on guest bytes;
 * docs/c-api.md shows the merge. <test> is the variant's
 * name with '/' turned into '+'. The guest's path is untrusted: it must be
 * absolute, every component a plain name (no "", ".", "..", no NUL), at
 * most KTSTR_COV_PATH_MAX bytes and KTSTR_COV_DEPTH_MAX + 1 components;
 * it is created one component at a time below the VM's directory with
 * O_NOFOLLOW, and each file is written at a temporary name and renamed
 * into place, so nothing outside DIR is reached and no link is written
 * through. */
#ifndef KTSTR_ORCH_COVERAGE_H
#define KTSTR_ORCH_COVERAGE_H

#include <stddef.h>
#include <stdio.h>

#include "worker.pb-c.h"

struct coverage_out {
	const char *path;	/* DIR as given; borrowed */
	int dirfd;		/* DIR, owned; -1 = closed */
	unsigned files;		/* files written */
	unsigned vms;		/* VMs that sent at least one */
	unsigned problems;	/* refused messages, notes, write errors */
};

/* Resolve DIR while still privileged (safe_path.h: no link another user
 * planted is followed), creating it (0755) when missing; user: the account
 * the run continues as after dropping root (NULL: unchanged), given a DIR
 * created here. Returns 0 or -errno with err set. */
int coverage_open(struct coverage_out *co, const char *path, const char *user, char *err,
		  size_t errlen);

/* Check a path from the guest (len bytes, not NUL-terminated). Returns 0 or
 * -EINVAL with err saying why. */
int coverage_path_check(const char *p, size_t len, char *err, size_t errlen);

/* Write the PROFRAW files of one VM's result under DIR/<label>/; notes and
 * every refusal or error go to log, prefixed with the label. Returns the
 * number of files written (0 when the VM sent none) or -errno when the
 * VM's directory cannot be made. */
int coverage_write_vm(struct coverage_out *co, const char *label, const Ktstr__VmResult *vr,
		      FILE *log);

void coverage_close(struct coverage_out *co);

#endif
