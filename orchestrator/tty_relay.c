#include "tty_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#define RELAY_BUF 8192
#define RELAY_POLL_MS 100

/* Copy complete lines (or a full buffer) to the terminal without breaking
 * the progress line. Returns how many bytes of buf were consumed. */
static size_t relay_lines(struct tty_relay *r, const char *buf, size_t len, bool flush_all)
{
	const char *nl = memrchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) + 1 : 0;
	bool shown;

	if (flush_all || (!n && len == RELAY_BUF))
		n = len;
	if (!n)
		return 0;
	pthread_mutex_lock(r->lock);
	shown = r->pg->shown;
	progress_clear(r->pg);
	fflush(r->tty);
	if (write_full(r->tty_fd, buf, n) == 0 && n == len && buf[n - 1] != '\n')
		write_full(r->tty_fd, "\n", 1); /* a cut line must not run into the bar */
	if (shown)
		progress_redraw(r->pg);
	pthread_mutex_unlock(r->lock);
	return n;
}

static void *relay_thread(void *arg)
{
	struct tty_relay *r = arg;
	char buf[RELAY_BUF];
	size_t have = 0;

	for (;;) {
		struct pollfd pf = { .fd = r->rfd, .events = POLLIN };
		int stopping = __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
		ssize_t got;
		size_t used;

		/* Once stopping, only what is already in the pipe is copied. */
		if (poll(&pf, 1, stopping ? 0 : RELAY_POLL_MS) <= 0) {
			if (stopping)
				break;
			continue;
		}
		got = read(r->rfd, buf + have, sizeof(buf) - have);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			break;	/* every writer is gone */
		have += (size_t)got;
		used = relay_lines(r, buf, have, false);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	if (have)
		relay_lines(r, buf, have, true);
	return NULL;
}

int tty_relay_start(struct tty_relay *r, pthread_mutex_t *lock, struct progress *pg)
{
	int p[2], ret;

	memset(r, 0, sizeof(*r));
	r->tty_fd = r->rfd = -1;
	/* Only when the bar is on fd 2: that is where the children's logs go. */
	if (!pg->tty || fileno(pg->f) != STDERR_FILENO)
		return 0;
	r->tty_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (r->tty_fd < 0)
		return -errno;
	r->tty = fdopen(r->tty_fd, "w");
	if (!r->tty) {
		ret = -errno;
		goto err_tty;
	}
	/* Like stderr: each escape sequence reaches the terminal at once. */
	setvbuf(r->tty, NULL, _IONBF, 0);
	if (pipe2(p, O_CLOEXEC)) {
		ret = -errno;
		goto err_file;
	}
	fflush(stderr);
	/* dup2 leaves fd 2 without O_CLOEXEC: children inherit the pipe. */
	if (dup2(p[1], STDERR_FILENO) < 0) {
		ret = -errno;
		close(p[0]);
		close(p[1]);
		goto err_file;
	}
	close(p[1]);
	r->rfd = p[0];
	r->lock = lock;
	r->pg = pg;
	pthread_mutex_lock(lock);
	pg->f = r->tty;
	pthread_mutex_unlock(lock);
	ret = -pthread_create(&r->thread, NULL, relay_thread, r);
	if (ret) {
		dup2(r->tty_fd, STDERR_FILENO);
		close(r->rfd);
		r->rfd = -1;
		goto err_file;
	}
	r->on = true;
	return 0;
err_file:
	pg->f = stderr;
	fclose(r->tty);	/* closes tty_fd */
	r->tty = NULL;
	r->tty_fd = -1;
	return ret;
err_tty:
	close(r->tty_fd);
	r->tty_fd = -1;
	return ret;
}

void tty_relay_stop(struct tty_relay *r)
{
	if (!r->on)
		return;
	fflush(stderr);
	/* The terminal back on fd 2 closes our write end; children that still
	 * hold one (none should: every worker is reaped) cannot stall this:
	 * the thread copies what is buffered and leaves. */
	dup2(r->tty_fd, STDERR_FILENO);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(r->thread, NULL);
	pthread_mutex_lock(r->lock);
	fflush(r->tty);
	r->pg->f = stderr;
	pthread_mutex_unlock(r->lock);
	close(r->rfd);
	fclose(r->tty);
	memset(r, 0, sizeof(*r));
	r->tty_fd = r->rfd = -1;
}
