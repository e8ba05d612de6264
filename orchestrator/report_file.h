/* The --junit / --json report files (docs/security.md, "Report files").
 *
 * A root ktstr-orch resolves the report's directory before it drops root
 * (safe_path.h: no link another user planted is followed) and keeps that
 * directory open. The report itself is then written atomically by the
 * dropped user: a new temporary file (O_CREAT|O_EXCL|O_NOFOLLOW) in that
 * directory, renamed over the name, so an existing file there is replaced
 * and never written through (a symlink or hard link to /root/secret stays
 * untouched). Where the dropped user may not write the directory (a
 * root-owned CI workspace), root creates a fresh, empty file of its own
 * there at open time (again a new inode renamed into place) and the report
 * is written into that inode: the previous report is then replaced when
 * the run starts rather than when it ends. */
#ifndef KTSTR_ORCH_REPORT_FILE_H
#define KTSTR_ORCH_REPORT_FILE_H

#include <limits.h>
#include <stddef.h>

struct report_file {
	const char *path;	/* borrowed; NULL = no such report */
	int dirfd;		/* the directory, owned; -1 = not open */
	int fd;			/* root's fresh inode (fallback), owned; -1 = none */
	char name[NAME_MAX + 1];/* the last component */
};

#define REPORT_FILE_INIT { NULL, -1, -1, "" }

/* Resolve and check path while still privileged. user: the account the
 * report will be written as (NULL = this process's own ids); when it may
 * not write the directory, the fallback inode is made now. Refuses a path
 * whose last component exists and is not a regular file (a symlink, a
 * FIFO, a directory). Returns 0 or -errno with err set (what, why, fix). */
int report_file_open(struct report_file *rf, const char *path, const char *user, char *err,
		     size_t errlen);
/* Write the whole report (after the privilege drop). Returns 0 or -errno. */
int report_file_write(struct report_file *rf, const char *buf, size_t len);
void report_file_close(struct report_file *rf);

/* A report written as the run goes (--jsonl): resolved like the others,
 * then a fresh, empty inode of this process (O_CREAT|O_EXCL|O_NOFOLLOW at
 * a temporary name, renamed over path) made now and kept open in rf->fd,
 * so the dropped user appends to it without reaching the directory. The
 * previous file at path is replaced when the run starts. Returns 0 or
 * -errno with err set. */
int report_file_open_stream(struct report_file *rf, const char *path, char *err, size_t errlen);
/* Append buf to a stream report and make it durable (fdatasync): a run
 * killed after this keeps it. Returns 0 or -errno. */
int report_file_append(struct report_file *rf, const char *buf, size_t len);

#endif
