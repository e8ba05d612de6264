/* Stop requests for every ktstr-orch command (SIGINT, SIGTERM, SIGHUP),
 * armed by stop_init() as main()'s first act: before it, a signal would
 * kill the process wherever it was (exit 143 mid-build, a terminal left
 * raw, temporary files behind).
 *
 * The signals are blocked in every thread and taken by one watcher thread.
 * On the first one it records the signal, restores a terminal a command
 * put in raw mode, sets the flags registered with stop_link_flag (a VM's
 * cancel flag), and SIGKILLs the child registered for the current phase
 * (the initramfs builder while images are built): the command's bounded
 * waits then return, it sees stop_signal() and exits 130. A second signal
 * exits 130 at once (children die by their PDEATHSIG). Children start with
 * an empty signal mask (ktstr_spawn). */
#ifndef KTSTR_ORCH_STOP_H
#define KTSTR_ORCH_STOP_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

/* Block the stop signals and start the watcher. 0 or -errno. */
int stop_init(void);
/* The first stop signal received, 0 if none. */
int stop_signal(void);
/* SIGKILL pid (a process group when pgrp) on a stop; 0 clears. */
void stop_watch_child(pid_t pid, bool pgrp);
/* Shut down the socket fd (both ways) on a stop; -1 clears. For a child
 * this process may not signal (the builder running as the image cache's
 * owner, cache_owner.h): a blocked read of its reply ends at once. */
void stop_watch_sock(int fd);
/* Restore the terminal at fd to *saved on a stop; NULL clears. */
void stop_watch_tty(int fd, const struct termios *saved);
/* Set *flag = 1 on a stop (at most one at a time; NULL clears). If a
 * stop already came, *flag is set now. */
void stop_link_flag(volatile int *flag);

#endif
