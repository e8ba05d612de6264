/* JUnit XML (the dialect Jenkins/GitLab/Codecov read) and the JSON record
 * file of a run. Both are written to a temp file beside the target and
 * renamed into place, so a reader never sees half a file. */
#ifndef KTSTR_ORCH_JUNIT_H
#define KTSTR_ORCH_JUNIT_H

#include <stddef.h>

#include <ktstr/util.h>

#include "record.h"
#include "suite.h"

/* Append s escaped for XML character data / attributes. Characters XML 1.0
 * forbids (most controls, invalid UTF-8) become U+FFFD. */
int xml_escape(struct strbuf *sb, const char *s, size_t len);

int junit_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		 const struct test_record *r, size_t n);
int json_render(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n);
/* Write buf to path atomically (temp + rename). Returns 0 or -errno. */
int write_file_atomic(const char *path, const char *buf, size_t len);

/* A report file created before ktstr-orch drops root, so the dropped user
 * can still deliver it into a directory only root may write (a root-owned
 * mkdtemp dir, a CI workspace). */
struct report_file {
	const char *path; /* borrowed; NULL = no such report */
	int fd;		  /* O_WRONLY, owned; -1 = not open */
};
/* Create (never truncate: a previous report stays until the new one is
 * complete) and keep it open. Returns 0 or -errno. */
int report_file_open(struct report_file *rf, const char *path);
/* Atomically (temp + rename) when this user may write the directory; else
 * through the fd opened earlier (truncate + write + fsync). Returns 0 or
 * -errno. */
int report_file_write(struct report_file *rf, const char *buf, size_t len);
void report_file_close(struct report_file *rf);

#endif
