#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/le.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "imgcache.h"
#include "imgsweep.h"
#include "key.h"
#include <ktstr/imgcache_fd.h>
#include <ktstr/memfd.h>

#define IC_MAGIC "KTSTRIMG"
#define IC_END "KTSTREND"
#define IC_MAX_ENTRY (4ull << 30)

static int ic_dir_from_env(char *out, size_t len)
{
	const char *v;

	if ((v = getenv("KTSTR_CACHE_DIR")) && v[0])
		return snprintf(out, len, "%s/images", v) >= (int)len ? -ENAMETOOLONG : 0;
	if ((v = getenv("XDG_CACHE_HOME")) && v[0])
		return snprintf(out, len, "%s/ktstr/images", v) >= (int)len ? -ENAMETOOLONG : 0;
	if ((v = getenv("HOME")) && v[0])
		return snprintf(out, len, "%s/.cache/ktstr/images", v) >= (int)len ?
		       -ENAMETOOLONG : 0;
	return -ENOENT;
}

static void ic_sweep(struct imgcache *c)
{
	unsigned removed;
	int ret = imgsweep(c->dirfd, &removed);

	if (ret)
		kwarn("image cache: cannot sweep %s for stale temporary files: %s", c->dir,
		      strerror(-ret));
}

/* The directory a root ktstr-orch opened for us (orchestrator/cache_owner.h):
 * no path to walk, so a cache below a directory this account cannot search
 * works, and nothing can swap the directory between check and use. */
static int ic_adopt_fd(struct imgcache *c, const char *v)
{
	char path[PATH_MAX];
	struct stat st;
	char *end;
	long fd;

	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno || *end || fd < 3 || fd > 1023 || fstat((int)fd, &st) || !S_ISDIR(st.st_mode)) {
		kwarn("image cache: %s=%s is not an open directory; caching images in memory "
		      "only", KTSTR_CACHE_FD_ENV, v);
		return 0;
	}
	if (st.st_uid != geteuid())
		kwarn("image cache: the directory passed as fd %ld belongs to uid %u, not to this "
		      "builder (uid %u): writes will fail", fd, (unsigned)st.st_uid,
		      (unsigned)geteuid());
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC))
		return -errno;
	if (ic_dir_from_env(path, sizeof(path)))
		snprintf(path, sizeof(path), "(cache directory fd %ld)", fd);
	c->dir = strdup(path);
	if (!c->dir)
		return -ENOMEM;
	c->dirfd = (int)fd;
	ic_sweep(c);
	return 0;
}

int imgcache_init(struct imgcache *c, const char *dir)
{
	char path[PATH_MAX];
	int ret;

	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	c->lock_timeout_ms = IMGCACHE_LOCK_TIMEOUT_MS;
	if (!dir && getenv(KTSTR_CACHE_FD_ENV))
		return ic_adopt_fd(c, getenv(KTSTR_CACHE_FD_ENV));
	if (dir) {
		if (!dir[0])
			return 0;
		snprintf(path, sizeof(path), "%s", dir);
	} else if (ic_dir_from_env(path, sizeof(path))) {
		kwarn("image cache: no KTSTR_CACHE_DIR, XDG_CACHE_HOME or HOME; "
		      "caching images in memory only");
		return 0;
	}
	/* The only path-based writes the builder ever makes, done before it
	 * is confined: from here on it writes only relative to dirfd, which
	 * is the one directory its seccomp policy lets it create files in. */
	ret = mkdir_p(path, 0755);
	if (ret) {
		kwarn("image cache: cannot create %s: %s; caching images in memory only "
		      "(set KTSTR_CACHE_DIR to a writable directory)", path, strerror(-ret));
		return 0;
	}
	c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		kwarn("image cache: cannot open directory %s: %s; caching images in memory only "
		      "(set KTSTR_CACHE_DIR to a readable, writable directory)", path,
		      strerror(errno));
		c->dirfd = -1;
		return 0;
	}
	c->dir = strdup(path);
	if (!c->dir) {
		close(c->dirfd);
		c->dirfd = -1;
		return -ENOMEM;
	}
	ic_sweep(c);
	return 0;
}

void imgcache_free(struct imgcache *c)
{
	size_t i;

	for (i = 0; i < c->nmem; i++)
		close(c->mem[i].fd);
	for (i = 0; i < c->nfp; i++) {
		fp_record_free(c->fp[i]);
		free(c->fp[i]);
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
}

int imgcache_name_check(const char *name)
{
	size_t len = strlen(name);

	/* Names are built here from the hex key; anything else means a bug
	 * or an attempt to leave the cache dir through a relative name. */
	if (!len || len > NAME_MAX || strchr(name, '/') || strstr(name, ".."))
		return -EINVAL;
	return 0;
}

/* "<64 lowercase hex digits>", as sha256_hex writes it. */
static int ic_key_check(const char *hexkey)
{
	size_t i;

	for (i = 0; hexkey[i]; i++)
		if (!((hexkey[i] >= '0' && hexkey[i] <= '9') || (hexkey[i] >= 'a' && hexkey[i] <= 'f')))
			return -EINVAL;
	return i == SHA256_HEX_LEN ? 0 : -EINVAL;
}

/* "<hexkey><suffix>" into out, checked. */
static int ic_name(const char *hexkey, const char *suffix, char *out, size_t len)
{
	int ret = ic_key_check(hexkey);

	if (ret)
		return ret;
	if (snprintf(out, len, "%s%s", hexkey, suffix) >= (int)len)
		return -ENAMETOOLONG;
	return imgcache_name_check(out);
}

int imgcache_mem_get(struct imgcache *c, const uint8_t key[SHA256_LEN],
		     struct imgcache_meta *meta)
{
	size_t i;

	for (i = 0; i < c->nmem; i++) {
		if (memcmp(c->mem[i].key, key, SHA256_LEN))
			continue;
		c->mem[i].last_use = ++c->use_clock;
		*meta = c->mem[i].meta;
		return c->mem[i].fd;
	}
	return -1;
}

void imgcache_mem_put(struct imgcache *c, const uint8_t key[SHA256_LEN], int fd,
		      const struct imgcache_meta *meta)
{
	struct imgcache_mem *slot;
	size_t i;

	if (c->nmem < IMGCACHE_MEM_MAX) {
		slot = &c->mem[c->nmem++];
	} else {
		/* Evict the least recently used; VMs that received its fd
		 * keep their own reference. */
		slot = &c->mem[0];
		for (i = 1; i < c->nmem; i++)
			if (c->mem[i].last_use < slot->last_use)
				slot = &c->mem[i];
		close(slot->fd);
	}
	memcpy(slot->key, key, SHA256_LEN);
	slot->fd = fd;
	slot->meta = *meta;
	slot->last_use = ++c->use_clock;
}

int imgcache_entry_path(const struct imgcache *c, const char *hexkey, char *out, size_t len)
{
	char name[NAME_MAX + 1];
	int ret;

	if (c->dirfd < 0)
		return -ENOENT;
	ret = ic_name(hexkey, ".img", name, sizeof(name));
	if (ret)
		return ret;
	return snprintf(out, len, "%s/%s", c->dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

int imgcache_lock(struct imgcache *c, const char *hexkey)
{
	char name[NAME_MAX + 1];
	uint64_t deadline;
	int fd, ret;

	if (c->dirfd < 0)
		return -ENOENT;
	ret = ic_name(hexkey, ".lock", name, sizeof(name));
	if (ret)
		return ret;
	fd = openat(c->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	/* flock has no timeout: poll LOCK_NB so the wait is bounded. */
	deadline = ktstr_now_ms() + (uint64_t)c->lock_timeout_ms;
	for (;;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (!flock(fd, LOCK_EX | LOCK_NB))
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ret = -errno;
			close(fd);
			return ret;
		}
		if (ktstr_now_ms() >= deadline) {
			close(fd);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
}

void imgcache_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);	/* closing the last fd drops the flock */
}

/* Header layout offsets. */
enum { IC_OFF_VER = 8, IC_OFF_COMP = 12, IC_OFF_LEN = 16, IC_OFF_RAW = 24, IC_OFF_COUNT = 32,
       IC_OFF_KEY = 40, IC_OFF_SUM = 72 };

static void ic_header(uint8_t *h, const uint8_t key[SHA256_LEN], uint32_t compression,
		      const struct image *img)
{
	memset(h, 0, IMGCACHE_HDR_LEN);
	memcpy(h, IC_MAGIC, 8);
	put_le32(h + IC_OFF_VER, IMAGE_FORMAT_VERSION);
	put_le32(h + IC_OFF_COMP, compression);
	put_le64(h + IC_OFF_LEN, img->len);
	put_le64(h + IC_OFF_RAW, img->uncompressed);
	put_le32(h + IC_OFF_COUNT, img->file_count);
	memcpy(h + IC_OFF_KEY, key, SHA256_LEN);
	sha256_buf(img->data, img->len, h + IC_OFF_SUM);
}

/* Whole entry into memory (NUL-terminated, like read_file), from an fd
 * opened below the cache dir. -EFBIG past max. */
static int ic_read_fd(int fd, char **out, size_t *len, size_t max)
{
	struct stat st;
	size_t size;
	ssize_t n;
	char *buf;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	n = read_full(fd, buf, size);
	if (n < 0) {
		ret = (int)n;
		goto err_free;
	}
	/* A file that shrank under us reads short: the length check in the
	 * caller then calls it truncated, which is what it is. */
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
err_free:
	free(buf);
	return ret;
}

/* pread exactly len bytes at off; -EIO on a short read (the file shrank). */
static int ic_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* len bytes of src from offset off into dst (a fresh memfd of that size).
 * sendfile keeps the copy in the kernel, page cache to shmem, with no user
 * mapping to fault in page by page (about twice as fast here as pread into
 * a mapping); kernels or filesystems that refuse it get the mapping. -EIO
 * if src ends early. */
static int ic_copy(int src, int dst, size_t len, off_t off)
{
	off_t pos = off;
	size_t done = 0;
	void *map;
	int ret;

	while (done < len) {
		ssize_t n = sendfile(dst, src, &pos, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS) && !done)
			goto fallback;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
fallback:
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dst, 0);
	if (map == MAP_FAILED)
		return -errno;
	ret = ic_pread_full(src, map, len, off);
	munmap(map, len);
	return ret;
}

static int ic_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Header and trailer of an entry whose fstat is st: NULL if they are
 * consistent (*plen set), else what is wrong. */
static const char *ic_check_frame(int fd, const struct stat *st, const uint8_t key[SHA256_LEN],
				  uint32_t compression, uint8_t *h, uint64_t *plen)
{
	uint8_t t[IMGCACHE_TRAILER_LEN];
	uint64_t size = (uint64_t)st->st_size;

	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (size > IC_MAX_ENTRY)
		return "larger than any image";
	if (size <= IMGCACHE_HDR_LEN + IMGCACHE_TRAILER_LEN)
		return "no payload between header and trailer";
	if (ic_pread_full(fd, h, IMGCACHE_HDR_LEN, 0) ||
	    ic_pread_full(fd, t, sizeof(t), (off_t)(size - IMGCACHE_TRAILER_LEN)))
		return "header or trailer unreadable";
	if (memcmp(h, IC_MAGIC, 8) || get_le32(h + IC_OFF_VER) != IMAGE_FORMAT_VERSION)
		return "bad magic or format version";
	if (memcmp(h + IC_OFF_KEY, key, SHA256_LEN) || get_le32(h + IC_OFF_COMP) != compression)
		return "header names another key";
	*plen = get_le64(h + IC_OFF_LEN);
	if (*plen != size - IMGCACHE_HDR_LEN - IMGCACHE_TRAILER_LEN)
		return "length does not match the file size (truncated?)";
	if (memcmp(t, IC_END, 8) || get_le64(t + 8) != *plen)
		return "trailer missing or wrong";
	return NULL;
}

int imgcache_disk_read(struct imgcache *c, const char *hexkey, const uint8_t key[SHA256_LEN],
		       uint32_t compression, int *out_fd, struct imgcache_meta *meta)
{
	uint8_t h[IMGCACHE_HDR_LEN], sum[SHA256_LEN];
	char name[NAME_MAX + 1];
	struct stat st, after;
	const char *bad;
	uint64_t plen = 0, got = 0;
	int fd, mfd = -1, ret;

	*out_fd = -1;
	if (c->dirfd < 0)
		return -ENOENT;
	ret = ic_name(hexkey, ".img", name, sizeof(name));
	if (ret)
		return ret;
	fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto err_close;
	}
	bad = ic_check_frame(fd, &st, key, compression, h, &plen);
	if (bad)
		goto err_bad;
	/* Straight from the page cache into the memfd that is served, and
	 * hashed there: the bytes checked are the bytes the VMs get. Every
	 * disk read hashes the whole payload: nettle's SHA-256 does a 3.5 MB
	 * base image in ~3 ms through sha256_fd (docs/initramfs.md), so the
	 * verified stamps that once let an unchanged entry skip the digest
	 * were not worth their racy-window rules. */
	mfd = memfd_mapped("ktstr-initramfs", (size_t)plen, NULL);
	if (mfd < 0) {
		ret = mfd;
		goto err_close;
	}
	ret = ic_copy(fd, mfd, (size_t)plen, IMGCACHE_HDR_LEN);
	if (ret == -EIO) {
		bad = "payload unreadable or shorter than its header says";
		goto err_bad;
	}
	if (ret)
		goto err_close;
	ret = sha256_fd(mfd, plen, &got, sum);
	if (ret == -EFBIG || (!ret && got != plen)) {
		bad = "payload length changed while being read";
		goto err_bad;
	}
	if (ret)
		goto err_close;
	c->disk_hashed++;
	if (memcmp(sum, h + IC_OFF_SUM, SHA256_LEN)) {
		bad = "payload checksum mismatch";
		goto err_bad;
	}
	/* A write while we copied changes ctime (or size): what was copied
	 * may mix old and new bytes, so it is not served. */
	if (fstat(fd, &after) || !ic_same_file(&st, &after)) {
		bad = "changed while being read";
		goto err_bad;
	}
	ret = memfd_seal(mfd);
	if (ret)
		goto err_close;
	close(fd);
	meta->size = plen;
	meta->uncompressed = get_le64(h + IC_OFF_RAW);
	meta->file_count = get_le32(h + IC_OFF_COUNT);
	meta->compression = compression;
	*out_fd = mfd;
	return 0;
err_bad:
	kwarn("image cache: %s/%s is damaged (%s); removing it and rebuilding", c->dir, name, bad);
	/* A directory squatting on the name needs AT_REMOVEDIR; the builder
	 * leaves that to a human (the warning names it). */
	if (unlinkat(c->dirfd, name, 0) && errno != ENOENT)
		kwarn("image cache: cannot remove %s/%s: %s; remove it by hand", c->dir, name,
		      strerror(errno));
	ret = -EBADMSG;
err_close:
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return ret;
}

int imgcache_disk_write(struct imgcache *c, const char *hexkey, const uint8_t key[SHA256_LEN],
			uint32_t compression, const struct image *img)
{
	uint8_t hdr[IMGCACHE_HDR_LEN], trl[IMGCACHE_TRAILER_LEN];
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1], suffix[32];
	int fd, ret;

	if (c->dirfd < 0)
		return -ENOENT;
	ret = ic_name(hexkey, ".img", name, sizeof(name));
	if (ret)
		return ret;
	snprintf(suffix, sizeof(suffix), ".img.tmp.%d", (int)getpid());
	ret = ic_name(hexkey, suffix, tmp, sizeof(tmp));
	if (ret)
		return ret;
	ic_header(hdr, key, compression, img);
	memcpy(trl, IC_END, 8);
	put_le64(trl + 8, img->len);
	fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	ret = write_full(fd, hdr, sizeof(hdr));
	if (!ret)
		ret = write_full(fd, img->data, img->len);
	if (!ret)
		ret = write_full(fd, trl, sizeof(trl));
	/* Data must be durable before the name appears, or a crash could
	 * leave a complete-looking name over missing blocks. */
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(c->dirfd, tmp, c->dirfd, name))
		ret = -errno;
	if (ret)
		goto err_unlink;
	fsync(c->dirfd);	/* make the rename durable; best effort */
	return 0;
err_unlink:
	unlinkat(c->dirfd, tmp, 0);
	return ret;
}

struct fp_record *imgcache_fp_get(struct imgcache *c, const uint8_t req[SHA256_LEN])
{
	size_t i;

	for (i = 0; i < c->nfp; i++) {
		if (memcmp(c->fp[i]->req, req, SHA256_LEN))
			continue;
		c->fp[i]->last_use = ++c->use_clock;
		return c->fp[i];
	}
	return NULL;
}

void imgcache_fp_put(struct imgcache *c, struct fp_record *r)
{
	size_t i, slot = c->nfp;

	for (i = 0; i < c->nfp; i++)
		if (!memcmp(c->fp[i]->req, r->req, SHA256_LEN))
			slot = i;
	if (slot == c->nfp && c->nfp == IMGCACHE_FP_MAX) {
		slot = 0;
		for (i = 1; i < c->nfp; i++)
			if (c->fp[i]->last_use < c->fp[slot]->last_use)
				slot = i;
	}
	if (slot < c->nfp) {
		fp_record_free(c->fp[slot]);
		free(c->fp[slot]);
	} else {
		c->nfp++;
	}
	r->last_use = ++c->use_clock;
	c->fp[slot] = r;
}

#define IC_FP_MAGIC "KTSTRFPR"
enum { IC_FP_OFF_VER = 8, IC_FP_OFF_LEN = 16, IC_FP_OFF_SUM = 32 };

int imgcache_fp_read(struct imgcache *c, const uint8_t req[SHA256_LEN], struct fp_record *r)
{
	char name[NAME_MAX + 1], hexreq[SHA256_HEX_LEN + 1], *buf = NULL;
	uint8_t sum[SHA256_LEN];
	const uint8_t *h;
	const char *bad = NULL;
	size_t len = 0;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	if (c->dirfd < 0)
		return -ENOENT;
	sha256_hex(req, hexreq);
	ret = ic_name(hexreq, ".fp", name, sizeof(name));
	if (ret)
		return ret;
	fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ret = ic_read_fd(fd, &buf, &len, IMGCACHE_FP_HDR_LEN + FP_MAX_BODY);
	close(fd);
	if (ret == -EFBIG || ret == -EINVAL)
		bad = ret == -EFBIG ? "larger than any record" : "not a regular file";
	else if (ret)
		return ret;
	h = (const uint8_t *)buf;
	if (!bad && len < IMGCACHE_FP_HDR_LEN)
		bad = "shorter than its header";
	else if (!bad && (memcmp(h, IC_FP_MAGIC, 8) || get_le32(h + IC_FP_OFF_VER) != FP_FORMAT_VERSION))
		bad = "bad magic or format version";
	else if (!bad && get_le64(h + IC_FP_OFF_LEN) != len - IMGCACHE_FP_HDR_LEN)
		bad = "length does not match the file size (truncated?)";
	if (!bad) {
		sha256_buf(h + IMGCACHE_FP_HDR_LEN, len - IMGCACHE_FP_HDR_LEN, sum);
		if (memcmp(sum, h + IC_FP_OFF_SUM, SHA256_LEN))
			bad = "checksum mismatch";
	}
	if (!bad) {
		ret = fp_decode(h + IMGCACHE_FP_HDR_LEN, len - IMGCACHE_FP_HDR_LEN, r);
		if (ret == -ENOMEM) {
			free(buf);
			return ret;
		}
		if (ret) {
			bad = "body does not decode";
		} else if (memcmp(r->req, req, SHA256_LEN)) {
			bad = "record names another request";
			fp_record_free(r);
		}
	}
	free(buf);
	if (bad) {
		kwarn("image cache: fingerprint %s/%s is damaged (%s); removing it (the image is "
		      "looked up by content instead)", c->dir, name, bad);
		if (unlinkat(c->dirfd, name, 0) && errno != ENOENT)
			kwarn("image cache: cannot remove %s/%s: %s; remove it by hand", c->dir,
			      name, strerror(errno));
		return -EBADMSG;
	}
	return 0;
}

int imgcache_fp_write(struct imgcache *c, const struct fp_record *r)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1], suffix[32], hexreq[SHA256_HEX_LEN + 1];
	uint8_t hdr[IMGCACHE_FP_HDR_LEN], *body = NULL;
	size_t blen = 0;
	int fd, ret;

	if (c->dirfd < 0)
		return -ENOENT;
	sha256_hex(r->req, hexreq);
	ret = ic_name(hexreq, ".fp", name, sizeof(name));
	if (ret)
		return ret;
	snprintf(suffix, sizeof(suffix), ".fp.tmp.%d", (int)getpid());
	ret = ic_name(hexreq, suffix, tmp, sizeof(tmp));
	if (ret)
		return ret;
	ret = fp_encode(r, &body, &blen);
	if (ret)
		return ret;
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, IC_FP_MAGIC, 8);
	put_le32(hdr + IC_FP_OFF_VER, FP_FORMAT_VERSION);
	put_le64(hdr + IC_FP_OFF_LEN, blen);
	sha256_buf(body, blen, hdr + IC_FP_OFF_SUM);
	fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = write_full(fd, hdr, sizeof(hdr));
	if (!ret)
		ret = write_full(fd, body, blen);
	/* As for entries: complete before the name appears. A torn record
	 * would be rejected by its checksum anyway, but never served. */
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(c->dirfd, tmp, c->dirfd, name))
		ret = -errno;
	if (ret)
		goto err_unlink;
	free(body);
	return 0;
err_unlink:
	unlinkat(c->dirfd, tmp, 0);
err_free:
	free(body);
	return ret;
}
