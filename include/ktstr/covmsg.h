/* The PROFRAW ring message (KTSTR_MSG_PROFRAW, "PRAW"): one coverage file
 * from the guest, or a note about files that were not sent
 * (docs/c-api.md, "Coverage"). Little-endian:
 *
 *   0  u32 path_len   bytes of path; 0 = a note (data is UTF-8 text)
 *   4  u32 data_len   bytes of data
 *   8  path           the file's absolute path as the test binary wrote it
 *                     (the guest's KTSTR_COV_PREFIX removed), no NUL
 *   8+path_len data   the file's bytes
 *
 * path_len + data_len + 8 is exactly the payload's length. The guest side
 * (guest/coverage.c) and the host side (orchestrator/coverage.c) share this
 * codec; the host treats every field as hostile. */
#ifndef KTSTR_COVMSG_H
#define KTSTR_COVMSG_H

#include <stddef.h>
#include <stdint.h>

#define KTSTR_COVMSG_HDR 8u

struct covmsg {
	const char *path;	/* points into the payload; NOT NUL-terminated */
	uint32_t path_len;	/* 0: a note */
	const uint8_t *data;	/* points into the payload */
	uint32_t data_len;
};

/* Decode payload[0..len). Returns 0, or -EBADMSG when the lengths do not
 * add up to len or path_len is over KTSTR_COV_PATH_MAX. */
int covmsg_parse(const uint8_t *payload, size_t len, struct covmsg *m);

/* Encode into a malloc'd buffer (*out, caller frees) of *len bytes.
 * Returns 0, -EMSGSIZE past KTSTR_COV_PATH_MAX / 4 GiB, or -ENOMEM. */
int covmsg_build(const char *path, size_t path_len, const void *data, size_t data_len,
		 uint8_t **out, size_t *len);

#endif
