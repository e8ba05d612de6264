/* cpio "newc" (SVR4, magic 070701) writer over a growable memory buffer.
 *
 * Used by ktstr-initramfs-builder for the base image and by the orchestrator
 * for the small per-test suffix archive. The Linux initramfs unpacker reads a
 * sequence of concatenated archives, so base + suffix works as long as every
 * archive ends with TRAILER!!! and the base is padded (cpio_pad) so the next
 * one starts aligned.
 *
 * Names are stored without the leading '/' (kernel and GNU cpio both accept
 * that; GNU cpio would otherwise extract absolute names onto the host).
 * Every entry has uid/gid 0 and mtime 0 so identical inputs give identical
 * bytes, which the content-keyed cache relies on. */
#ifndef KTSTR_CPIO_H
#define KTSTR_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ktstr/util.h"

/* Longest guest path accepted (bytes, without NUL). */
#define CPIO_PATH_MAX 4095u

struct cpio_writer {
	struct strbuf out;	/* the archive so far; owned, freed by cpio_free */
	uint32_t next_ino;	/* unique inode numbers for every entry */
	uint32_t entries;	/* entries written (not counting the trailer) */
	int finished;		/* trailer written: further adds are -EBUSY */
};

/* Start an empty archive. first_ino lets a suffix archive use inode numbers
 * that cannot collide with the base (pass 0 for the default, 1). */
void cpio_init(struct cpio_writer *w, uint32_t first_ino);

/* Check and normalise a guest path: must be absolute, no "." or ".."
 * components, no empty components ("//"), no trailing '/', at most
 * CPIO_PATH_MAX bytes. On success writes the path without its leading '/'
 * into out (size outlen) and returns 0; -EINVAL (bad form) or
 * -ENAMETOOLONG. The root "/" itself is rejected. */
int cpio_path_normalize(const char *guest_path, char *out, size_t outlen);

/* Add a directory (mode: permission bits only, S_IFDIR is added). */
int cpio_add_dir(struct cpio_writer *w, const char *guest_path, mode_t mode);
/* Add a regular file from memory (data is copied). */
int cpio_add_file(struct cpio_writer *w, const char *guest_path, mode_t mode,
		  const void *data, size_t len);
/* Add a regular file read from fd (from its current offset to EOF, at most
 * max_len bytes, else -EFBIG). fd stays owned by the caller. */
int cpio_add_file_fd(struct cpio_writer *w, const char *guest_path, mode_t mode,
		     int fd, size_t max_len);
/* Add a symlink guest_path -> target (target stored verbatim). */
int cpio_add_symlink(struct cpio_writer *w, const char *guest_path, const char *target);

/* Write the TRAILER!!! entry. After this only cpio_pad is allowed. */
int cpio_finish(struct cpio_writer *w);
/* Append zero bytes until the archive length is a multiple of align
 * (a power of two; 512 for base+suffix concatenation). */
int cpio_pad(struct cpio_writer *w, size_t align);

/* Hand the archive bytes to the caller (who frees *buf with free()); the
 * writer is left empty. */
void cpio_take(struct cpio_writer *w, uint8_t **buf, size_t *len);
void cpio_free(struct cpio_writer *w);

#endif
