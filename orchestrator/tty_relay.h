/* Keeping the live progress line intact on a terminal.
 *
 * The builder, the VM workers and this process itself log to fd 2. While the
 * progress line is shown, a log line written straight to the terminal would
 * land after the progress text ("[0/3] 1 running: fooktstr-vmm-worker: ...")
 * and be overwritten by the next redraw. So while a run shows progress, fd 2
 * becomes a pipe (children inherit it, as they did the terminal) and a relay
 * thread copies whole lines to the real terminal: under the progress lock it
 * erases the progress line, writes the lines, and draws the progress again.
 * Without a terminal nothing changes. */
#ifndef KTSTR_ORCH_TTY_RELAY_H
#define KTSTR_ORCH_TTY_RELAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "report.h"

struct tty_relay {
	bool on;
	int tty_fd;		/* dup of the original fd 2 (the terminal); owned */
	int rfd;		/* read end of the pipe now at fd 2; owned */
	FILE *tty;		/* on tty_fd: where the progress line goes; owned */
	pthread_t thread;
	pthread_mutex_t *lock;	/* the runner's progress lock; borrowed */
	struct progress *pg;	/* borrowed */
	volatile int stop;
};

/* Divert fd 2 through the relay and point pg at the terminal. 0, or -errno
 * with fd 2 unchanged (the run then goes on with the old behaviour). */
int tty_relay_start(struct tty_relay *r, pthread_mutex_t *lock, struct progress *pg);
/* Put the terminal back on fd 2, copy what is left (bounded: 200 ms), join
 * the thread and close everything. No-op when not started. */
void tty_relay_stop(struct tty_relay *r);

#endif
