#include "sched_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ktstr/util.h"

/* SysRq-D hands the dump to the sched_ext_dump tracepoint only (the kernel
 * calls scx_dump_state with no printk buffer: kernel/sched/ext/ext.c,
 * sysrq_handle_sched_ext_dump), so PID 1 enables that event, triggers the
 * dump and reads the trace pipe. tracefs is mounted at boot (mounts.c). */
#define TRACE_DIR "/sys/kernel/tracing"
#define DUMP_EVENT TRACE_DIR "/events/sched_ext/sched_ext_dump/enable"
#define DUMP_TAG "sched_ext_dump: "

/* Relay each complete line in buf[0..*len) that carries the event; keep a
 * partial last line for the next read. */
static void relay_lines(struct report *rep, char *buf, size_t *len, unsigned *lines)
{
	char *p = buf, *nl;

	while (*lines < SCHED_DUMP_MAX_LINES && (nl = memchr(p, '\n', *len - (size_t)(p - buf)))) {
		char *tag;

		*nl = '\0';
		tag = strstr(p, DUMP_TAG);
		if (tag) {
			report_line(rep, "sched_ext dump: %s", tag + strlen(DUMP_TAG));
			(*lines)++;
		}
		p = nl + 1;
	}
	*len -= (size_t)(p - buf);
	memmove(buf, p, *len);
}

unsigned sched_dump_relay(struct report *rep)
{
	char buf[4096];
	size_t len = 0, total = 0;
	unsigned lines = 0;
	uint64_t deadline;
	int fd;

	if (write_file(DUMP_EVENT, "1"))
		return 0; /* no sched_ext tracepoint: nothing to relay */
	fd = open(TRACE_DIR "/trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || write_file("/proc/sysrq-trigger", "D"))
		goto out;
	deadline = ktstr_now_ms() + SCHED_DUMP_WAIT_MS;
	/* A scheduler printing without pause (bpf_printk) keeps the pipe
	 * full: the deadline holds whether or not reads block. */
	while (lines < SCHED_DUMP_MAX_LINES && total < SCHED_DUMP_MAX_BYTES &&
	       ktstr_now_ms() < deadline) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			uint64_t now = ktstr_now_ms();
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
				break;
			continue;
		}
		if (n <= 0)
			break;
		len += (size_t)n;
		total += (size_t)n;
		relay_lines(rep, buf, &len, &lines);
		if (len == sizeof(buf) - 1)
			len = 0; /* a line longer than the buffer: drop it */
	}
out:
	if (fd >= 0)
		close(fd);
	write_file(DUMP_EVENT, "0");
	return lines;
}
