/* Host files a suite puts into the guest: `include_files:` (suite,
 * scheduler and test level) and a scheduler's `config_file:`
 * (docs/suite-format.md, "Include files"). Read and checked when the suite
 * is read: every file exists, is readable and within the bounds below, and
 * no two files of one image share a guest path; the initramfs builder then
 * packs them (images.c), ELF files with their shared-library closure. */
#ifndef KTSTR_ORCH_INCLUDE_FILES_H
#define KTSTR_ORCH_INCLUDE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "yaml_schema.h"

/* Where a file without a `dest` lands: INCLUDE_DIR/BASENAME (a directory:
 * INCLUDE_DIR/DIRNAME/RELATIVE/PATH), as the reference's /include-files. */
#define INCLUDE_DIR "/include-files"
/* Files one image may carry from include_files and config_file together
 * (a directory counts every file it holds): each is an entry the builder
 * reads and hashes for every image it is in. */
#define INCLUDE_MAX_FILES 64
/* Bytes of one included file, and of all of one image's: the guest holds
 * its initramfs in RAM, unpacked, for the whole test. */
#define INCLUDE_MAX_FILE_BYTES (64ull << 20)
#define INCLUDE_MAX_TOTAL_BYTES (256ull << 20)
/* A `path` as written and every guest path, in bytes. */
#define INCLUDE_PATH_MAX 1024
/* A directory is walked at most this deep below the one named, and the
 * walk of one entry looks at most at this many directory entries, so a
 * suite cannot make ktstr-orch walk a large tree or a link loop. */
#define INCLUDE_DIR_DEPTH_MAX 8
#define INCLUDE_DIR_ENTRIES_MAX 4096
/* Tests that may have include_files of their own: each gets an image of
 * its own, built and held (a sealed memfd) for the whole run. */
#define INCLUDE_MAX_TEST_IMAGES 64

struct include_file {
	char *host;	/* the host file (the suite's directory joined); owned */
	char *dest;	/* absolute, canonical guest path; owned */
	uint64_t size;	/* st_size when the suite was read */
	unsigned line, col; /* the entry as written: errors point here */
	unsigned idx;	/* its index in the list as written */
};

/* One list as written, directories expanded. v (owned, with its strings;
 * include_list_free) has room for INCLUDE_MAX_FILES from the first file on,
 * so it never moves and an include_acc may point into it. */
struct include_list {
	struct include_file *v;
	size_t n;
	const char *field;	/* "include_files" or "config_file" (static) */
};

/* The files of one image while the suite is read: their count, bytes and
 * guest paths, checked as each file is added. Borrows the lists' strings. */
struct include_acc {
	struct {
		const char *dest, *host, *field;
		unsigned line, col, idx;
	} f[INCLUDE_MAX_FILES];
	size_t n;
	uint64_t bytes;
	char whose[160];	/* "the image of test 't'" (for messages) */
};

/* Parse an include_files list (a sequence of `PATH` or {path, dest}),
 * directories expanded, into out, adding each file to acc. dir: the suite
 * file's directory (relative paths are relative to it). 0, or -EINVAL with
 * "FILE:LINE:COL: ..." in c, or -ENOMEM. */
int include_parse(struct ys_ctx *c, const struct ynode *n, const char *dir,
		  struct include_acc *acc, struct include_list *out);
/* Parse a scheduler's config_file (a PATH to a regular file) into out (one
 * file at INCLUDE_DIR/BASENAME), adding it to acc. Same returns. */
int include_parse_config(struct ys_ctx *c, const struct ynode *n, const char *dir,
			 struct include_acc *acc, struct include_list *out);
/* Add every file of an already parsed list to acc (what an image inherits
 * from the suite and its scheduler). Same returns. */
int include_acc_add_list(struct ys_ctx *c, struct include_acc *acc,
			 const struct include_list *l);

/* A guest path a file may be put at: absolute, canonical (no "", ".",
 * ".." components, no trailing '/'), at most INCLUDE_PATH_MAX bytes, and
 * neither on, under nor above what the image or the guest already owns
 * (/init, /scheduler, /payloads, /ktstr, ...; /proc, /sys, /dev, /tmp and
 * /run are mounted over at boot, hiding anything packed there). 0 or
 * -EINVAL with why. */
int include_dest_check(const char *dest, char *why, size_t whylen);

void include_list_free(struct include_list *l);

#endif
