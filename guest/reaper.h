/* Child reaping for PID 1. Orphans anywhere in the guest are re-parented to
 * us, so a blanket waitpid(-1) is needed to avoid zombies; it records the
 * status of the children we track (scheduler, workers) so their owners can
 * still learn how they ended. Single-threaded use only. */
#ifndef KTSTR_GUEST_REAPER_H
#define KTSTR_GUEST_REAPER_H

#include <sys/types.h>

void reaper_track(pid_t pid);
/* Reap everything that has exited, without blocking. */
void reaper_poll(void);
/* 1 and *status when pid has exited (the entry is then forgotten), 0 while it
 * runs, -ECHILD when pid is not tracked. */
int reaper_status(pid_t pid, int *status);
/* Poll every 10 ms for at most timeout_ms. 0 or -ETIMEDOUT / -ECHILD. */
int reaper_wait(pid_t pid, int *status, int timeout_ms);

#endif
