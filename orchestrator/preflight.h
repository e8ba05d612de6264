/* Checks before a run starts any VM, each failing with what is wrong and
 * the command that fixes it (peer tools leave users guessing here). All
 * run as the user the VMs will run as (after the privilege drop), since
 * every worker inherits exactly those credentials. */
#ifndef KTSTR_ORCH_PREFLIGHT_H
#define KTSTR_ORCH_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include <stdio.h>

#include "hostcaps.h"
#include "plan.h"
#include "suite.h"

/* Workers start with a clean environment (no PATH), so they look for
 * qemu-system-x86_64 in exactly these directories (vmm-worker's
 * qemu_find_binary default). NULL-terminated. */
extern const char *const preflight_qemu_dirs[];

/* The QEMU engine: qemu-system-x86_64 executable in one of dirs (NULL =
 * preflight_qemu_dirs). Returns 0 or -ENOENT with err set. */
int preflight_qemu(const char *const *dirs, char *err, size_t errlen);
/* The same for a guest of arch: qemu-system-aarch64 for arm64 (Debian
 * package qemu-system-arm). */
int preflight_qemu_arch(const char *const *dirs, Ktstr__Arch arch, char *err, size_t errlen);
/* The KVM engine: dev (NULL = /dev/kvm) exists and this process may read
 * and write it. user names the account in the message. Returns 0, -ENOENT
 * or -EACCES with err set. */
int preflight_kvm(const char *dev, const char *user, char *err, size_t errlen);
/* The engine's own check: qemu for QEMU; for KVM, hardware KVM (kvm_pvm is
 * refused: -ENODEV) and a /dev/kvm this process may use. */
int preflight_engine(const struct host_caps *hc, const char *user, char *err, size_t errlen);

/* Host CPUs vs the kept variants' vCPUs with `workers` VMs at once.
 * Always fills msg; returns 1 when vCPUs would be oversubscribed (the
 * caller warns: never silent), else 0. */
int preflight_cpu_plan(const struct plan *p, const struct host_caps *hc, unsigned workers,
		       char *msg, size_t msglen);

/* `list`: every scheduler binary a test of s names, looked up as `run`
 * looks it up (scheduler_resolve: beside the suite, $KTSTR_SCHEDULER,
 * $KTSTR_SCHEDULER_PATH, ...). One line on f per binary not found, saying
 * where it looked and whether `run` would stop on it (a variant the plan
 * keeps needs it: exit 2) or not yet (only skipped or dropped variants
 * need it). Fills sd->resolved_path of those found. Returns how many are
 * missing. */
size_t preflight_scheduler_binaries(struct suite *s, const struct plan *p, FILE *f);

#endif
