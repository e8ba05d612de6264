/* A private Slurm cluster on localhost for integration tests (integ-slurm,
 * docs/farms.md "Proof on Slurm"): Debian's slurmctld, slurmd and munged
 * with their own key, free ports, state, spool and logs in a temp dir,
 * SLURM_CONF pointing this process and its children at it, all of it in
 * a PID namespace of its own (unshare --pid --kill-child under
 * PR_SET_PDEATHSIG), so that nothing of it outlives the test process. */
#ifndef KTSTR_TEST_SLURM_CLUSTER_H
#define KTSTR_TEST_SLURM_CLUSTER_H

#include <stddef.h>
#include <sys/types.h>

#define SLURM_CMD_MS (30 * 1000) /* one Slurm client command */

/* Starts the cluster and waits (60 s at most) for its node to be idle.
 * Skips the test when not root; a missing binary, a host slurmd -C cannot
 * describe or a cluster that does not come up is test_missing (skip, or
 * failure in CI) with the reason and the daemons' log tails. */
void slurm_cluster_start(void);
/* Cancels every job, shuts the daemons down, waits (20 s at most) for
 * the namespace's PID 1 to end, then SIGKILLs what is left. Returns how
 * many processes of the cluster's namespaces were still alive 5 s later
 * (their command lines in what, when given); 0 also when none ran. */
int slurm_cluster_stop(char *what, size_t whatlen);
/* slurm_cluster_stop and the temp dir removed: for a fini. */
void slurm_cluster_teardown(void);
/* The cluster's temp dir (its key, sockets, conf, state and logs; tests
 * put their own files there too). */
const char *slurm_cluster_dir(void);

/* The processes in the cluster's PID namespace or one nested in it whose
 * argv has arg (or whose argv[0] is a path to arg), every one with arg
 * NULL; sig (when not 0) is sent to each. Returns how many; their pids
 * (as this process sees them) and command lines in what, when given. */
int slurm_ns_procs(const char *arg, int sig, char *what, size_t whatlen);
/* The tails of the named files of the temp dir (space-separated), for a
 * failure message; a static buffer, so one call per message. */
const char *slurm_log_tail(const char *names);

/* One field ("JobState", "ExitCode", "RunTime", ...) of `scontrol -o
 * show job ID` into val. */
void slurm_job_field(const char *id, const char *key, char *val, size_t len);
/* Waits (ms at most) until no task of job is pending, running,
 * configuring, completing or suspended. */
void slurm_wait_job_ended(const char *job, int ms);
/* `scontrol requeue JOB_TASK`, started now (Slurm otherwise holds a
 * requeued job about two minutes). */
void slurm_requeue(const char *job, int task);

void slurm_write_file(const char *path, const char *text, mode_t mode);
void slurm_nap_ms(long ms);

#endif
