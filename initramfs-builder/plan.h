/* The image plan: every entry that will go into the archive, with its bytes
 * already read from the host. Building the plan is the only place the
 * builder opens input files, so the sandbox can reason about file access in
 * one spot. The cache key is computed over the plan (key.c), the archive is
 * written from it (image.c). */
#ifndef KTSTR_BUILDER_PLAN_H
#define KTSTR_BUILDER_PLAN_H

#include <ktstr/guest_contract.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ktstr/error.h>
#include "builder.pb-c.h"
#include "fprint.h"

/* Size limits: the cpio format stores 32-bit sizes, and an image beyond a
 * few GiB cannot be unpacked into a test VM's memory anyway. */
#define PLAN_MAX_FILE (1ull << 30)		/* one file */
#define PLAN_MAX_TOTAL (3ull << 30)		/* sum of all file bytes */
#define PLAN_MAX_ENTRIES 16384u
#define PLAN_SENTINEL KTSTR_INITRD_OK_PATH
/* Written into the sentinel, so the guest can also check the content. */
#define PLAN_SENTINEL_DATA "ktstr initramfs complete\n"

enum plan_kind { PLAN_DIR, PLAN_FILE, PLAN_SYMLINK };

struct plan_entry {
	enum plan_kind kind;
	char *guest;		/* absolute guest path, normalised; owned */
	uint32_t mode;		/* permission bits */
	uint8_t *data;		/* file bytes or symlink target; owned */
	size_t len;
	dev_t dev;		/* host identity of a file, for dedupe */
	ino_t ino;
};

struct plan {
	struct plan_entry *v;	/* owned array */
	size_t n, cap;
	uint64_t total_bytes;
	uint32_t arch;		/* BuildRequest.arch (Ktstr__Arch): in the image key */
	char **libs;		/* guest paths of the resolved library closure */
	size_t nlibs;
	/* Where to record every host path looked at and its stat, for the
	 * fingerprint fast path (fprint.h); NULL = do not record. Not owned. */
	struct fp_deps *deps;
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);

/* Find an entry by guest path (normalised). */
struct plan_entry *plan_find(struct plan *p, const char *guest);

/* Read a whole regular file (<= PLAN_MAX_FILE) into *data (malloc'd, caller
 * frees); st receives its fstat. Errors name host_path. deps (may be NULL)
 * first records stat(host_path), found or not. */
int plan_read_host(struct fp_deps *deps, const char *host_path, uint8_t **data, size_t *len, struct stat *st,
		   struct ktstr_error *e);
/* Add a file whose bytes the caller read; takes ownership of data on success
 * and failure. mode 0 = st's mode; st gives the host identity. */
int plan_add_owned(struct plan *p, const char *guest, uint32_t mode, uint8_t *data,
		   size_t len, const struct stat *st, struct plan_entry **out, struct ktstr_error *e);
/* Read host_path (regular file, <= PLAN_MAX_FILE) into a new PLAN_FILE at
 * guest. mode 0 = host mode. On success *out points at the entry (valid
 * until the next plan_add_*). Errors name host_path. */
int plan_add_host_file(struct plan *p, const char *host_path, const char *guest,
		       uint32_t mode, struct plan_entry **out, struct ktstr_error *e);
/* Add bytes from memory (copied). */
int plan_add_bytes(struct plan *p, const char *guest, uint32_t mode, const void *data,
		   size_t len, struct ktstr_error *e);
int plan_add_symlink(struct plan *p, const char *guest, const char *target, struct ktstr_error *e);
int plan_add_dir(struct plan *p, const char *guest, uint32_t mode, struct ktstr_error *e);
int plan_add_lib_name(struct plan *p, const char *guest);

/* Add every missing ancestor directory, check no entry is below a
 * non-directory, and order the plan: directories first (sorted, so parents
 * precede children), then files and symlinks in insertion order, then the
 * sentinel, which must be the last entry of the archive. */
int plan_finalize(struct plan *p, struct ktstr_error *e);

/* Turn a BuildRequest into a complete plan: /init, /scheduler, files,
 * standard dirs, the shared-library closure, the sentinel. */
int plan_from_request(struct plan *p, const Ktstr__BuildRequest *req, struct ktstr_error *e);

#endif
