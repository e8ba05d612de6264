/* The scheduler under test inside the guest: start, readiness, watch, stop. */
#ifndef KTSTR_GUEST_SCHEDULER_H
#define KTSTR_GUEST_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest.pb-c.h"

#define SCHED_LOG "/tmp/sched.log"
#define SCHED_BINARY "/scheduler"
#define SCX_SYSFS "/sys/kernel/sched_ext"

struct sched {
	const Ktstr__SchedulerSpec *spec; /* borrowed from the GuestSpec */
	pid_t pid;			  /* BINARY while running; 0 otherwise */
	bool started;
	bool exited;
	int exit_status; /* wait status once exited */
	char ops[128];	 /* root/ops seen while attached */
	bool death_seen; /* died mid-test: SCHED_EXIT goes out after the result */
	uint32_t died_at_ms; /* into the scenario, for SCHED_EXIT */
	bool died_reaped;    /* exit_status is the loader's own exit */
};

/* Outcome of start/watch for the result. */
struct sched_fail {
	Ktstr__TestResult__Status status; /* SCHEDULER_DIED / _NOT_ATTACHED / SETUP_FAILED */
	char detail[512];
};

/* Start per spec and wait for readiness (death poll, then attach). Returns 0
 * when ready (EEVDF is always ready), or -1 with f filled. */
int sched_start(struct sched *s, const Ktstr__SchedulerSpec *spec, struct sched_fail *f);

/* True when the scheduler stopped scheduling: its process exited, or
 * sched_ext is no longer enabled (ejected by the kernel). */
bool sched_died(struct sched *s);

/* The attach bound when the host left attach_timeout_ms unset (TCG-sized;
 * see sched_start). */
#define SCHED_ATTACH_TIMEOUT_UNSET_MS 8000u

/* After a death was seen: wait (at most max_ms) until the loader has
 * exited and sched_ext has finished disabling, so the kernel's reason and
 * the loader's last lines exist before they are read. */
void sched_settle(struct sched *s, unsigned max_ms);

/* Why sched_ext dropped the scheduler, in buf: the kernel log's
 * "sched_ext:" lines since the last enable (reason, watchdog message), the
 * CPU of a task the watchdog named, the loader's "EXIT: ..." line, then
 * state and root/ops. */
void sched_exit_reason(char *buf, size_t len);

/* Pure part of sched_exit_reason: the "sched_ext:" lines of klog after the
 * last 'BPF scheduler "X" enabled' line, joined with "; ". *stalled_pid is
 * the pid of a "comm[pid] failed to run for" line, else 0. Returns the
 * number of lines. */
int sched_klog_reason(const char *klog, char *buf, size_t len, int *stalled_pid);

/* Last max bytes of the scheduler log (whole lines), malloc'd or NULL. */
char *sched_log_tail(size_t max);

/* SIGINT, 2 s, SIGKILL, 1 s; then the disable commands. Idempotent. */
void sched_stop(struct sched *s);

/* Read a sysfs value into buf without the trailing newline ("" if absent). */
void sched_read_sysfs(const char *path, char *buf, size_t len);

/* Run one shell command line, bounded to timeout_ms. Uses /bin/sh, or
 * /bin/busybox sh. Returns the exit status or -errno. */
int sched_run_cmd(const char *cmd, int timeout_ms);

#endif
