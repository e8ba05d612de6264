/* Stat fingerprints: the fast path from a BuildRequest to the content key of
 * the image it produced last time, without reading any input.
 *
 * A full build records, in order, every host path it looked at and what
 * stat(2) said about it (dev, ino, size, mtime_ns, ctime_ns, mode, or the
 * errno when the path did not resolve): the files the request names, every
 * library candidate the closure search probed (found or not: a library that
 * appears earlier in the search path must change the answer), PT_INTERP,
 * /etc/ld.so.cache, and realpath() of every ELF root (its $ORIGIN). The
 * record maps a hash of the request (paths, modes, resolve_libs,
 * compression, ld_library_path) to the content key, the image sizes and the
 * library list. A later request with the same hash whose every recorded
 * path still stats the same is served by that content key; any difference
 * falls back to reading and hashing everything.
 *
 * The key itself stays content-based: a fingerprint only names a key that
 * was computed over the bytes; the image is still looked up by that key
 * (memory memfd, or the disk entry with its own payload digest).
 *
 * Residual risk: a file rewritten in place with the same size within one
 * timestamp granule leaves dev/ino/size/mtime/ctime unchanged. Records
 * whose inputs changed less than FP_RACY_NS before the build finished are
 * therefore never stored (as git does for "racily clean" index entries), so
 * a later write within the same granule cannot produce a matching stat.
 * What remains: a clock set backwards, filesystems that do not maintain
 * ctime (some FUSE/network filesystems), writes through a shared mapping
 * whose mtime update is deferred, or raw block-device writes. Each stat
 * field is compared, so tools that restore mtime (touch -r, rsync -t) still
 * change ctime and are caught. */
#ifndef KTSTR_BUILDER_FPRINT_H
#define KTSTR_BUILDER_FPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "builder.pb-c.h"
#include <ktstr/sha256.h>

/* Bump when what goes into the request hash or the record changes. */
#define FP_FORMAT_VERSION 1u
/* An input changed this recently may still change within its timestamp
 * granule (1-2 s on coarse filesystems, plus the kernel's coarse clock
 * lag): its record is not stored. */
#define FP_RACY_NS (3ll * 1000 * 1000 * 1000)
/* Bounds for a decoded record (a damaged file must not allocate wildly). */
#define FP_MAX_DEPS 65536u
#define FP_MAX_LIBS 16384u
#define FP_MAX_BODY (64u << 20)

enum fp_dep_kind { FP_DEP_STAT = 1, FP_DEP_REALPATH = 2 };

/* What stat(2) said about a path. */
struct fp_stat {
	uint32_t err;		/* 0 = it exists (fields below), else errno */
	uint32_t mode;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct fp_dep {
	uint32_t kind;		/* enum fp_dep_kind */
	char *path;		/* owned */
	struct fp_stat st;	/* FP_DEP_STAT */
	char *real;		/* FP_DEP_REALPATH: realpath(path); owned */
};

struct fp_deps {
	struct fp_dep *v;	/* owned */
	size_t n, cap;
	/* Something the build depended on cannot be checked by stat (see
	 * closure_add_root): never store a record for it. */
	int uncacheable;
};

struct fp_meta {
	uint64_t size, uncompressed;
	uint32_t file_count, compression;
};

struct fp_record {
	uint8_t req[SHA256_LEN];	/* fp_request_key of the request */
	uint8_t key[SHA256_LEN];	/* content key of its image */
	struct fp_meta meta;
	struct fp_deps deps;
	char **libs;			/* BuildOk.libraries; owned */
	size_t nlibs;
	uint64_t last_use;		/* memory LRU */
};

/* Hash of everything in the request that decides what is packed. */
void fp_request_key(const Ktstr__BuildRequest *req, uint32_t compression,
		    uint8_t out[SHA256_LEN]);

void fp_stat_from(struct fp_stat *fs, const struct stat *st);

/* Record path with st (NULL: stat(path) now; a failing stat records its
 * errno). The first record of a path wins: it was taken before the read,
 * so a change during the build makes the later check fail. d NULL = no-op.
 * Returns 0 or -ENOMEM. */
int fp_deps_add_stat(struct fp_deps *d, const char *path, const struct stat *st);
/* Record that realpath(path) was real. */
int fp_deps_add_realpath(struct fp_deps *d, const char *path, const char *real);
/* 1 if every dep still stats (resolves) the same, 0 if not (*changed, if
 * not NULL, names the first path that differs; valid while d lives). */
int fp_deps_check(const struct fp_deps *d, const char **changed);
/* 1 if an existing dep's mtime or ctime is later than now_ns - window_ns. */
int fp_deps_racy(const struct fp_deps *d, int64_t now_ns, int64_t window_ns);
void fp_deps_free(struct fp_deps *d);

void fp_record_free(struct fp_record *r);

/* On-disk body of a record (little-endian, length-prefixed strings). encode
 * returns 0 and a malloc'd buffer, or -ENOMEM. decode returns 0 or -EBADMSG
 * (bounds, counts, trailing bytes) / -ENOMEM; r is freed on failure. */
int fp_encode(const struct fp_record *r, uint8_t **out, size_t *len);
int fp_decode(const uint8_t *buf, size_t len, struct fp_record *r);

#endif
