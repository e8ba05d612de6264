/* Logging for every ktstr process: one line per event on stderr, prefixed by
 * the program name, so interleaved output from many processes stays readable.
 * Errors follow the house rule: what failed, where, why, what to do. */
#ifndef KTSTR_LOG_H
#define KTSTR_LOG_H

enum klog_level { KLOG_ERR = 0, KLOG_WARN = 1, KLOG_INFO = 2, KLOG_DEBUG = 3 };

/* Set the program name used as prefix; level from $KTSTR_LOG (err|warn|info|debug). */
void klog_init(const char *prog);
void klog_set_level(enum klog_level level);
/* "error" (or "err"), "warn", "info", "debug" -> *out; -EINVAL otherwise. */
int klog_level_parse(const char *s, enum klog_level *out);
/* The name klog_level_parse takes back ("error", "warn", "info", "debug"). */
const char *klog_level_name(enum klog_level level);
enum klog_level klog_get_level(void);
/* Preserves errno. */
void klog(enum klog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define kerr(...) klog(KLOG_ERR, __VA_ARGS__)
#define kwarn(...) klog(KLOG_WARN, __VA_ARGS__)
#define kinfo(...) klog(KLOG_INFO, __VA_ARGS__)
#define kdbg(...) klog(KLOG_DEBUG, __VA_ARGS__)

#endif
