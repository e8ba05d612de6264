/* Two-tier image cache.
 *
 * Memory: key -> sealed memfd, for the life of the builder process; the
 * same fd is handed to every VM that asks, so they share one page-cache copy.
 *
 * Disk: <dir>/<hexkey>.img, where dir is $KTSTR_CACHE_DIR/images, else
 * $XDG_CACHE_HOME/ktstr/images, else $HOME/.cache/ktstr/images. An entry is
 *   header (128 bytes): magic "KTSTRIMG", u32 format version, u32
 *     compression, u64 payload length, u64 uncompressed length, u32 file
 *     count, u32 zero, key[32], SHA-256(payload)[32], zeros
 *   payload (the image)
 *   trailer (16 bytes): "KTSTREND", u64 payload length
 * all little-endian. A reader checks every field and the payload digest, so
 * a truncated or damaged entry is rebuilt, never served (every disk read
 * hashes the payload: nettle's SHA-256 makes that a few ms). Entries are written
 * to a temp file, fsync'd and renamed into place, under an exclusive flock
 * on <dir>/<hexkey>.lock that readers take too: of several builders wanting
 * the same key, one builds and the others wait (bounded), then read.
 *
 * The directory is created and opened once, by imgcache_init, before the
 * builder is confined; every later access (lock, read, write, rename,
 * unlink) is relative to that directory fd with a name built here from the
 * hex key, never from user input. A name with '/' or ".." is refused, so a
 * bug cannot turn a cache write into a write elsewhere (the builder's seccomp
 * policy only lets it create files relative to this fd, but cannot see the
 * name; see docs/security.md). */
#ifndef KTSTR_BUILDER_IMGCACHE_H
#define KTSTR_BUILDER_IMGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fprint.h"
#include "image.h"
#include <ktstr/sha256.h>

#define IMGCACHE_MEM_MAX 64		/* memfds kept per builder process */
#define IMGCACHE_LOCK_TIMEOUT_MS 120000	/* longest wait for another builder */
#define IMGCACHE_HDR_LEN 128u
#define IMGCACHE_TRAILER_LEN 16u
#define IMGCACHE_FP_MAX 256		/* fingerprint records kept in memory */
#define IMGCACHE_FP_HDR_LEN 64u

struct imgcache_meta {
	uint64_t size;
	uint64_t uncompressed;
	uint32_t file_count;
	uint32_t compression;
};

struct imgcache_mem {
	uint8_t key[SHA256_LEN];
	int fd;				/* sealed memfd; owned by the cache */
	struct imgcache_meta meta;
	uint64_t last_use;
};

struct imgcache {
	char *dir;			/* disk cache dir (for messages), NULL = memory only */
	int dirfd;			/* O_DIRECTORY fd of dir, -1 = memory only; owned */
	struct imgcache_mem mem[IMGCACHE_MEM_MAX];
	size_t nmem;
	uint64_t use_clock;
	int lock_timeout_ms;
	struct fp_record *fp[IMGCACHE_FP_MAX];	/* owned; see fprint.h */
	size_t nfp;
	uint64_t disk_hashed;		/* payload digests computed by disk reads */
};

/* dir NULL = the directory whose fd $KTSTR_CACHE_FD names (ktstr/imgcache_fd.h), else from the
 * environment (see above); an empty or unusable directory makes the cache
 * memory-only (logged, not fatal). */
int imgcache_init(struct imgcache *c, const char *dir);
void imgcache_free(struct imgcache *c);

/* 0 if name may be used below the cache dir fd: non-empty, at most
 * NAME_MAX bytes, no '/', no "..". -EINVAL otherwise. */
int imgcache_name_check(const char *name);

/* Memory tier. get returns the cached fd (still owned by the cache) or -1.
 * put takes ownership of fd (evicting the least recently used entry). */
int imgcache_mem_get(struct imgcache *c, const uint8_t key[SHA256_LEN],
		     struct imgcache_meta *meta);
void imgcache_mem_put(struct imgcache *c, const uint8_t key[SHA256_LEN], int fd,
		      const struct imgcache_meta *meta);

/* Take the per-key lock with a bound. Returns the lock fd (release with
 * imgcache_unlock) or -errno (-ETIMEDOUT after lock_timeout_ms). */
int imgcache_lock(struct imgcache *c, const char *hexkey);
void imgcache_unlock(int lockfd);

/* Disk tier; call with the lock held. read: 0 = hit (*fd = sealed memfd
 * holding the image, owned by the caller; *meta filled from the header),
 * -ENOENT = no entry, -EBADMSG = entry was damaged and has been removed,
 * other -errno. write: 0 or -errno (the old entry, if any, stays
 * until the rename replaces it atomically). */
int imgcache_disk_read(struct imgcache *c, const char *hexkey, const uint8_t key[SHA256_LEN],
		       uint32_t compression, int *fd, struct imgcache_meta *meta);
int imgcache_disk_write(struct imgcache *c, const char *hexkey, const uint8_t key[SHA256_LEN],
			uint32_t compression, const struct image *img);

/* Fingerprint records (fprint.h). Memory: get returns the record for req
 * (still owned by the cache) or NULL; put takes ownership of r (heap
 * allocated), replacing a record for the same request and evicting the least
 * recently used one when full.
 * Disk: <dir>/<hexreq>.fp = 64-byte header (magic "KTSTRFPR", u32 version
 * FP_FORMAT_VERSION, u32 zero, u64 body length, zeros to 32, SHA-256 of the
 * body) + body (fp_encode), written to a temp file, fsync'd and renamed
 * like an image entry (no lock: concurrent writers each publish a complete
 * record, the last rename wins). read: 0 = *r filled (caller frees),
 * -ENOENT, -EBADMSG = damaged (logged and removed), other -errno. A record
 * read here still has to pass fp_deps_check before it is trusted. */
struct fp_record *imgcache_fp_get(struct imgcache *c, const uint8_t req[SHA256_LEN]);
void imgcache_fp_put(struct imgcache *c, struct fp_record *r);
int imgcache_fp_read(struct imgcache *c, const uint8_t req[SHA256_LEN], struct fp_record *r);
int imgcache_fp_write(struct imgcache *c, const struct fp_record *r);

/* Path of the entry for hexkey (for tests and messages; the builder itself
 * never opens it by path). -EINVAL for a hexkey that is not 64 hex digits. */
int imgcache_entry_path(const struct imgcache *c, const char *hexkey, char *out, size_t len);

#endif
