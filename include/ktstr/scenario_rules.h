/* What a GuestSpec's scenario (and the few scheduler fields the guest
 * checks) must satisfy before anything runs. One home for each limit and
 * message: ktstr-orch checks a suite with these when it reads it (each
 * problem at its file:line:col, exit 2, before any VM boots), and the guest
 * checks the spec it is sent with the same code (defence in depth: a bad
 * spec still ends as SETUP_FAILED naming the field). */
#ifndef KTSTR_SCENARIO_RULES_H
#define KTSTR_SCENARIO_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/gtopo.h"
#include "guest.pb-c.h"

/* Workers spawned over a whole scenario (cgroups:, add_cgroup and spawn
 * together; stopped ones count: the guest keeps their telemetry). */
#define KTSTR_SCENARIO_MAX_WORKERS 1024u
/* Cgroups created over a whole scenario (removed ones count). */
#define KTSTR_SCENARIO_MAX_CGROUPS 64
#define KTSTR_CGROUP_NAME_MAX 48
#define KTSTR_SCENARIO_MAX_DURATION_MS (3600u * 1000u)
/* A scheduler's cgroup_parent: short enough that every cgroup path the
 * guest builds below /sys/fs/cgroup fits its 512-byte buffers. */
#define KTSTR_CGROUP_PARENT_MAX 256

/* A cgroup name is one path component of [A-Za-z0-9_.-], 1 to
 * KTSTR_CGROUP_NAME_MAX characters, not "." or "..". 0 or -EINVAL. */
int ktstr_cgroup_name_check(const char *name);

/* cgroup_parent: an absolute path below /sys/fs/cgroup, without "..", at
 * most KTSTR_CGROUP_PARENT_MAX characters. 0 or -EINVAL with why. */
int ktstr_cgroup_parent_check(const char *parent, char *why, size_t whylen);

/* A sysctl as "key=value": a key, no "..", no space (it also travels on the
 * kernel command line as sysctl.key=value). 0 or -EINVAL with why. */
int ktstr_sysctl_check(const char *kv, char *why, size_t whylen);

/* How many workers one group of w's type has (w NULL = cpu_spin): 2 for the
 * pairs (pipe_io, futex_ping_pong, cache_pipe), fan_out + 1 for
 * futex_fan_out, contenders for mutex_contention, 1 otherwise; 0 parameters
 * take their defaults (4). A result above KTSTR_SCENARIO_MAX_WORKERS is a
 * bad parameter. */
uint64_t ktstr_work_group_size(const Ktstr__WorkSpec *w);

/* Check a scenario. t NULL: every check that needs no topology; t set:
 * those, then every cpuset resolved against t exactly as the guest
 * resolves it (ktstr/cpuspec.h). The walk follows the scenario in order
 * (cgroups:, then each step's ops), tracking which cgroups exist, so an op
 * on a cgroup that is not there, a name used twice, or too many cgroups or
 * workers over the whole run are found here rather than mid-run.
 * Returns 0; -EINVAL (wrong on any topology) or -ERANGE (a cpuset that
 * does not fit t) with path naming the field in the suite's own words
 * ("cgroups[1].workers", "steps[0].ops[2].def.cpuset", "duration_ms") and
 * why saying what is wrong and what to do. */
int ktstr_scenario_check(const Ktstr__Scenario *sc, const struct gtopo *t, char *path,
			 size_t pathlen, char *why, size_t whylen);

/* Whether any cpuset in sc depends on the topology (any but none): only
 * then is a topology worth building for ktstr_scenario_check. */
int ktstr_scenario_has_cpusets(const Ktstr__Scenario *sc);

#endif
