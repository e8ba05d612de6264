/* Run a helper tool (apt-get, apt-cache, dpkg-deb) with a bound, capturing
 * its stdout. */
#ifndef KTSTR_ORCH_PROC_RUN_H
#define KTSTR_ORCH_PROC_RUN_H

#include <ktstr/util.h>

/* argv[0] is looked up in /usr/bin, /bin, /usr/sbin, /sbin. out may be NULL
 * (stdout then goes to our stderr). quiet: the tool's stderr to /dev/null.
 * Returns the tool's exit status (0..255), or -ETIMEDOUT (killed after
 * timeout_ms), -ENOENT (tool missing) or another -errno. */
int proc_run(char *const argv[], int timeout_ms, struct strbuf *out, int quiet);

#endif
