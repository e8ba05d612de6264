/* The ring's copy and wrap-around cases, checked against memcpy. One home
 * for two harnesses: the host's criterion tests (test_ring_copy.c, in
 * unit-common) and the aarch64 build of the same cases run under
 * qemu-aarch64-static (tests/arm64/ring_cases_main.c, scripts/arm64-ring-lane),
 * so common/ring.c compiled for arm64 is proven too. No criterion here: the
 * arm64 program is static and links only ring.c and zlib.
 *
 * Each case returns 0, or -1 with what differed in why. */
#ifndef KTSTR_TESTS_RING_CASES_H
#define KTSTR_TESTS_RING_CASES_H

#include <stddef.h>

/* ring_copy_to_region: every destination alignment 0..15, every source
 * alignment 0..15, every length 0..72: the region buffer (guard bytes
 * around the copy included) equals what memcpy gives. */
int ring_case_copy_to(char *why, size_t whylen);
/* ring_copy_from_region: the same matrix the other way. */
int ring_case_copy_from(char *why, size_t whylen);
/* ring_write then ring_drain: every capacity 64..71 (each residue mod 8, so
 * the wrap point falls at every word offset), every start position in the
 * data area, every payload length that fits: the data area equals a
 * byte-by-byte model of the message at that position with wrap-around, and
 * the drained message equals what was written (type, length, bytes, CRC). */
int ring_case_wrap(char *why, size_t whylen);
/* A region not 8-byte aligned is refused by ring_format and ring_attach
 * (-EINVAL): the header's 64-bit acquire loads must be aligned. */
int ring_case_unaligned_region(char *why, size_t whylen);

struct ring_case {
	const char *name;
	int (*fn)(char *why, size_t whylen);
};
/* Every case above, in order, ending with { NULL, NULL }. */
extern const struct ring_case ring_cases[];

#endif
