/* Verified stamps: the reason a disk-cache hit costs a stat instead of a
 * SHA-256 pass over the whole image.
 *
 * A cache entry carries the SHA-256 of its payload, and the first read of an
 * entry checks it (imgcache.c). When that check passes, the builder writes
 * <hexkey>.ok next to the entry: the key, the payload digest and what
 * fstat(2) said about the entry (dev, ino, size, mtime, ctime) at the time it
 * was verified. A later read whose entry still stats exactly the same is
 * served without hashing: any write, truncation, rename over it or
 * replacement by another builder changes ino, size or ctime, and ctime cannot
 * be set from user space.
 *
 * The one way a change could keep every field equal is a write within the
 * same timestamp granule as the last one. A stamp is therefore only trusted
 * when it was taken at least window_ns (FP_RACY_NS in the builder) after
 * the entry's ctime (git's "racily
 * clean" rule, the same window fprint.h uses for inputs); an entry read
 * sooner is hashed every time and stamped once it has aged. What remains is
 * what fprint.h lists: a clock set backwards, filesystems that do not keep
 * ctime, raw block-device writes and media bit rot, none of which a
 * content-addressed cache on a local filesystem defends against by hashing
 * either, short of re-reading every byte on every use.
 *
 * Layout (128 bytes, little-endian): "KTSTROK1", u32 version, u32 zero,
 * key[32], payload SHA-256[32], u64 dev, ino, size, i64 mtime_ns, ctime_ns,
 * verified_ns (CLOCK_REALTIME). Written to a temp file and renamed; not
 * fsync'd (a lost stamp only costs one more hash). */
#ifndef KTSTR_BUILDER_IMGSTAMP_H
#define KTSTR_BUILDER_IMGSTAMP_H

#include <stdint.h>
#include <sys/stat.h>

#include <ktstr/sha256.h>

#define IMGSTAMP_LEN 128u
#define IMGSTAMP_VERSION 1u

struct imgstamp {
	uint8_t key[SHA256_LEN];
	uint8_t sum[SHA256_LEN];	/* payload digest from the entry header */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	int64_t verified_ns;		/* when the payload was hashed and matched */
};

/* Fill s from the entry's identity and st (its fstat), verified now. */
void imgstamp_make(struct imgstamp *s, const uint8_t key[SHA256_LEN],
		   const uint8_t sum[SHA256_LEN], const struct stat *st, int64_t now_ns);
void imgstamp_encode(const struct imgstamp *s, uint8_t out[IMGSTAMP_LEN]);
/* 0 or -EBADMSG (magic, version, reserved bytes). */
int imgstamp_decode(const uint8_t in[IMGSTAMP_LEN], struct imgstamp *s);
/* 1 if s vouches for an entry with this key and header digest whose fstat
 * is st: identity equal and the stamp taken at least window_ns after the
 * entry's ctime (see above); else 0. */
int imgstamp_trusts(const struct imgstamp *s, const uint8_t key[SHA256_LEN],
		    const uint8_t sum[SHA256_LEN], const struct stat *st, int64_t window_ns);
/* 1 if a stamp taken at now_ns for an entry whose fstat is st would be
 * trusted (so worth writing); 0 if the entry changed too recently. */
int imgstamp_worth_writing(const struct stat *st, int64_t now_ns, int64_t window_ns);
/* CLOCK_REALTIME in ns (the clock ctime is taken from). */
int64_t imgstamp_now_ns(void);

#endif
