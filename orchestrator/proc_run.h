/* Run a helper tool (apt-get, apt-cache, dpkg-deb) with a bound, capturing
 * its stdout. */
#ifndef KTSTR_ORCH_PROC_RUN_H
#define KTSTR_ORCH_PROC_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/util.h>

/* Read fd (a child's output pipe) until EOF, feeding each chunk to sink
 * (which returns 0 or -errno to stop), until deadline_ms (ktstr_now_ms
 * time) or a stop signal. The one read loop of every helper tool ktstr
 * runs (proc_run, kbuild_run). Returns 0 at EOF, the sink's error,
 * -ETIMEDOUT, -EINTR (stop signal, when stoppable) or -errno. */
int proc_drain(int fd, uint64_t deadline_ms, bool stoppable,
	       int (*sink)(void *ctx, const char *buf, size_t n), void *ctx);

/* argv[0] is looked up in /usr/bin, /bin, /usr/sbin, /sbin. out may be NULL
 * (stdout then goes to our stderr). quiet: the tool's stderr to /dev/null.
 * Returns the tool's exit status (0..255), or -ETIMEDOUT (killed after
 * timeout_ms), -ENOENT (tool missing) or another -errno. */
int proc_run(char *const argv[], int timeout_ms, struct strbuf *out, int quiet);

#endif
