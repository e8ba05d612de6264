/* How a test's settings combine with its scheduler's (the reference's merge
 * rules, docs/suite-format.md "Merge rules"). */
#ifndef KTSTR_ORCH_MERGE_H
#define KTSTR_ORCH_MERGE_H

#include <stdint.h>

#include <ktstr/strv.h>

#include "suite.h"
#include "worker.pb-c.h"

/* Scheduler command line, the one place it is assembled: --config PATH
 * (when config_file: the file's guest path), then --cell-parent-cgroup P
 * (when cgroup_parent), then sched_args, then the test's extra_sched_args,
 * then the args of each active flag in declaration order. Appends to out. */
int merge_sched_args(const struct sched_def *sd, const struct test_def *t, uint32_t profile,
		     struct strv *out);

/* Asserts: built-in defaults, then the scheduler's, then the test's; for each
 * field the last one set wins. */
void merge_asserts(const struct sched_def *sd, const struct test_def *t, Ktstr__AssertSpec *out);
/* The built-in defaults, release thresholds
 * (docs/reference.md, "Assert thresholds"). */
void asserts_defaults(Ktstr__AssertSpec *out);
/* The monitor's settings (docs/monitor.md): the thresholds from the merged
 * asserts (unset fields keep MonitorSpec's defaults), and watchdog_timeout:
 * the test's, else the scheduler's, else MonitorSpec's default
 * (proto/worker.proto). */
void merge_monitor(const struct sched_def *sd, const struct test_def *t, Ktstr__MonitorSpec *out);
/* watchdog_timeout's range, in a suite and for `shell --watchdog-timeout`:
 * while it lowers the timeout the monitor re-stamps the watchdog's check-in
 * every 100 ms, so a timeout must leave room for that; an hour is far past
 * any test. */
#define WATCHDOG_TIMEOUT_MIN_MS 1000u
#define WATCHDOG_TIMEOUT_MAX_MS 3600000u
/* dst.field = src.field for every field set in src. */
void asserts_overlay(Ktstr__AssertSpec *dst, const Ktstr__AssertSpec *src);

/* Scheduler default topology with the test's per-dimension overrides. */
struct ktstr_topo merge_topology(const struct sched_def *sd, const struct test_def *t);

/* Effective constraints: defaults (numa 1..1, llcs 1..12, cpus 1..192, no
 * SMT requirement), then the scheduler's fields, then the test's. */
struct topo_constraints merge_constraints(const struct sched_def *sd, const struct test_def *t);

/* Kernel command-line additions: sysctl.K=V for each scheduler sysctl, then
 * the scheduler's kargs, space-separated, appended to out. */
int merge_cmdline(const struct sched_def *sd, struct strv *out);

#endif
