/* Reading the lock directory: which locks are held (the view placement
 * works on) and who holds them (the records of live holders). A lock is
 * tested with a non-blocking flock that is dropped at once; a record
 * counts only while its writer holds its flock. */
#ifndef KTSTR_ORCH_HOSTRES_SCAN_H
#define KTSTR_ORCH_HOSTRES_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hostres_dir.h"
#include "hostres_place.h"
#include "hostres_record.h"

/* Holder record files looked at, at most, live or dead: a directory with
 * more refuses admission (a co-tenant could otherwise make every admission
 * read without end). */
#define HOSTRES_HOLDERS_MAX 4096
/* Directory entries looked at, at most, for the same reason: a host's
 * CPU and LLC locks (2 x 1024 at most) and the holders fit well within. */
#define HOSTRES_DIR_ENTRIES_MAX 16384
#define HOSTRES_ADMIT_LOCK "admit.lock"

struct hostres_holder {
	struct hostres_record rec; /* valid when ok */
	bool ok;
	char why[160];		   /* !ok: why the record could not be read */
	uid_t uid;		   /* the record file's owner (the filesystem's word) */
	char name[HOSTRES_NAME_MAX];
};

/* Lock file names: "cpu-C.lock", "llc-L.lock". */
void hostres_cpu_lock_name(unsigned cpu, char *buf, size_t len);
void hostres_llc_lock_name(unsigned llc, char *buf, size_t len);
/* The view of t's online CPUs and LLCs. 0 or -errno with err. */
int hostres_scan_view(int dirfd, const struct hostres_topo *t, struct hostres_view *v, char *err,
		      size_t errlen);
/* Every live holder (its record file flock'ed), skipping the record named
 * self (NULL: none). Records of dead holders are removed when reap and
 * this user owns them. *out is malloc'd (the caller frees; NULL when *n is
 * 0). Returns 0, or -E2BIG past HOSTRES_HOLDERS_MAX, or -errno, with err. */
int hostres_scan_holders(int dirfd, const char *self, bool reap, struct hostres_holder **out,
			 size_t *n, char *err, size_t errlen);

#endif
