#include <errno.h>
#include <sys/wait.h>
#include <time.h>

#include "ktstr/util.h"
#include "reaper.h"

#define REAPER_MAX 4096

static struct {
	pid_t pid;
	int exited, status;
} tab[REAPER_MAX];

void reaper_track(pid_t pid)
{
	for (int i = 0; i < REAPER_MAX; i++)
		if (!tab[i].pid) {
			tab[i].pid = pid;
			tab[i].exited = 0;
			return;
		}
	/* Table full: the pid is still reaped, its status just is not kept;
	 * reaper_status then reports -ECHILD and callers treat it as gone. */
}

void reaper_poll(void)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p <= 0)
			return;
		for (int i = 0; i < REAPER_MAX; i++)
			if (tab[i].pid == p) {
				tab[i].exited = 1;
				tab[i].status = st;
				break;
			}
	}
}

int reaper_status(pid_t pid, int *status)
{
	reaper_poll();
	for (int i = 0; i < REAPER_MAX; i++)
		if (tab[i].pid == pid) {
			if (!tab[i].exited)
				return 0;
			if (status)
				*status = tab[i].status;
			tab[i].pid = 0;
			return 1;
		}
	return -ECHILD;
}

int reaper_wait(pid_t pid, int *status, int timeout_ms)
{
	uint64_t end = ktstr_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int r = reaper_status(pid, status);
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (r == 1)
			return 0;
		if (r < 0)
			return r;
		if (ktstr_now_ms() >= end)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}
