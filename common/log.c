/* Line-oriented logging to stderr. One write(2) per line so lines from
 * concurrent processes sharing a terminal or pipe never interleave mid-line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktstr/log.h"

static const char *log_prog = "ktstr";
static enum klog_level log_level = KLOG_INFO;

/* The level names KTSTR_LOG takes, in enum order; "err" is also taken. */
static const char *const level_names[] = { "error", "warn", "info", "debug" };

int klog_level_parse(const char *s, enum klog_level *out)
{
	if (!strcmp(s, "err")) {
		*out = KLOG_ERR;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum klog_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *klog_level_name(enum klog_level level)
{
	return level <= KLOG_DEBUG ? level_names[level] : "info";
}

void klog_init(const char *prog)
{
	const char *lvl = getenv("KTSTR_LOG");
	enum klog_level l;

	if (prog) {
		const char *slash = strrchr(prog, '/');
		log_prog = slash ? slash + 1 : prog;
	}
	if (lvl && !klog_level_parse(lvl, &l))
		log_level = l;
}

void klog_set_level(enum klog_level level)
{
	log_level = level;
}

enum klog_level klog_get_level(void)
{
	return log_level;
}

void klog(enum klog_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	int saved = errno;
	char line[4096];
	va_list ap;
	int n, m;

	if (level > log_level)
		goto out;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prog, names[level]);
	if (n < 0)
		goto out;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		goto out;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	/* Best effort: nothing sensible to do if stderr is gone. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
	}
out:
	errno = saved;
}
