/* Helpers the reproducers of upstream scheduler bugs share (each is one
 * static program built by its scripts/repro-* script; header-only so each
 * stays a single compile). */
#ifndef KTSTR_REPRO_H
#define KTSTR_REPRO_H

#include <fcntl.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

static inline double repro_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /sys/kernel/sched_ext/state without its newline ("" when unreadable). */
static inline void repro_scx_state(char *b, size_t n)
{
	int fd = open("/sys/kernel/sched_ext/state", O_RDONLY | O_CLOEXEC);
	ssize_t r = fd >= 0 ? read(fd, b, n - 1) : -1;

	b[r > 0 ? r : 0] = '\0';
	if (r > 0 && b[r - 1] == '\n')
		b[r - 1] = '\0';
	if (fd >= 0)
		close(fd);
}

#endif
