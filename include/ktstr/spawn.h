/* fork+exec of ktstr children with a clean environment and only the fds they
 * need: keep[i] becomes fd 3+i in the child, everything else is closed. */
#ifndef KTSTR_SPAWN_H
#define KTSTR_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_opts {
	const int *keep;	  /* fds to pass, become 3.. in order */
	size_t nkeep;
	char *const *env;	  /* full environment (NULL = empty) */
	int stdin_fd;		  /* -1 = /dev/null */
	int stdout_fd;		  /* -1 = /dev/null; -2 = inherit */
	int stderr_fd;		  /* -1 = /dev/null; -2 = inherit */
	int new_pgrp;		  /* setpgid(0,0) in the child */
	int pdeathsig;		  /* PR_SET_PDEATHSIG signal, 0 = none */
	/* Run in the child first, before any fd moves (e.g. a Landlock
	 * restriction for QEMU); async-signal-safe only. Returns 0 or -errno,
	 * which then fails the spawn. NULL = none. */
	int (*child_hook)(void *arg);
	void *child_hook_arg;
	/* With set_ids (root only): the child becomes uid/gid with no
	 * supplementary group before it execs, after child_hook. How a root
	 * ktstr-orch starts the builder as the image cache's own account
	 * (docs/security.md, "Who owns what"). */
	int set_ids;
	uid_t uid;
	gid_t gid;
};

/* Returns 0 and the child's pid, or -errno. An exec failure in the child is
 * reported as -errno through a close-on-exec pipe, so the caller learns that
 * the binary is missing rather than seeing a child exit 127. */
int ktstr_spawn(const char *path, char *const argv[], const struct spawn_opts *o, pid_t *pid);

/* Wait for pid with a bound. Returns 0 and the wait status, -ETIMEDOUT (child
 * still running), or -errno. */
int ktstr_wait_timeout(pid_t pid, int *status, int timeout_ms);

/* Directory holding the running executable (for finding sibling binaries). */
int ktstr_self_dir(char *buf, size_t len);

#endif
