/* Disk-cache reads with verified stamps (initramfs-builder/imgstamp.h): a
 * checked, aged entry is served without hashing; any later change to it,
 * a stamp that names another entry, or an entry younger than the racy
 * window makes the read hash again, and a damaged payload is never served. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imgcache.h"
#include "imgstamp.h"
#include <ktstr/memfd.h>
#include "th.h"

#define PAYLOAD_LEN (300u * 1024 + 17)

struct sfx {
	char *dir;
	struct image img;
	uint8_t key[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
};

static void sfx_init(struct sfx *f, uint8_t seed)
{
	f->dir = th_tmpdir();
	f->img.len = PAYLOAD_LEN;
	f->img.data = malloc(PAYLOAD_LEN);
	cr_assert_not_null(f->img.data);
	for (size_t i = 0; i < PAYLOAD_LEN; i++)
		f->img.data[i] = (uint8_t)(i * 131 + seed);
	f->img.uncompressed = 4 * PAYLOAD_LEN;
	f->img.file_count = 9;
	sha256_buf(&seed, 1, f->key);
	sha256_hex(f->key, f->hex);
}

static void sfx_free(struct sfx *f)
{
	th_rmtree(f->dir);
	free(f->dir);
	free(f->img.data);
}

/* A new cache on f's directory (no memory tier), racy window window_ns. */
static void open_cache(struct imgcache *c, const struct sfx *f, int64_t window_ns)
{
	cr_assert_eq(imgcache_init(c, f->dir), 0);
	cr_assert_geq(c->dirfd, 0);
	c->racy_ns = window_ns;
}

/* Read f's entry through a fresh cache; returns the read's result and
 * how many payload digests it computed. A hit is checked byte for byte. */
static int read_entry(const struct sfx *f, int64_t window_ns, uint64_t *hashed)
{
	struct imgcache_meta meta;
	struct imgcache c;
	int fd = -1, ret;

	open_cache(&c, f, window_ns);
	ret = imgcache_disk_read(&c, f->hex, f->key, 0, &fd, &meta);
	*hashed = c.disk_hashed;
	imgcache_free(&c);
	if (ret)
		return ret;
	cr_assert_eq(memfd_check_sealed(fd), 0, "a disk hit must be a sealed memfd");
	cr_assert_eq(meta.size, PAYLOAD_LEN);
	cr_assert_eq(meta.uncompressed, 4 * PAYLOAD_LEN);
	cr_assert_eq(meta.file_count, 9);
	{
		void *m = mmap(NULL, PAYLOAD_LEN, PROT_READ, MAP_PRIVATE, fd, 0);

		cr_assert_neq(m, MAP_FAILED);
		cr_assert_eq(memcmp(m, f->img.data, PAYLOAD_LEN), 0, "served bytes differ");
		munmap(m, PAYLOAD_LEN);
	}
	close(fd);
	return 0;
}

static void write_entry(const struct sfx *f)
{
	struct imgcache c;

	open_cache(&c, f, 0);
	cr_assert_eq(imgcache_disk_write(&c, f->hex, f->key, 0, &f->img), 0);
	imgcache_free(&c);
}

static void entry_file(const struct sfx *f, const char *suffix, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s", f->dir, f->hex, suffix);
}

static int exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Past the filesystem's timestamp granule, so a write after a stamp is
 * taken changes ctime (the production window, FP_RACY_NS, is what makes
 * this unnecessary outside tests). */
static void next_granule(void)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

Test(imgstamp, checked_entry_is_served_without_hashing)
{
	char ok[PATH_MAX];
	uint64_t hashed;
	struct sfx f;

	sfx_init(&f, 1);
	write_entry(&f);
	entry_file(&f, ".ok", ok, sizeof(ok));
	cr_assert(!exists(ok), "a new entry carries no stamp");
	cr_assert_eq(read_entry(&f, 0, &hashed), 0);
	cr_assert_eq(hashed, 1, "the first read checks the payload digest");
	cr_assert(exists(ok), "a checked entry is stamped");
	cr_assert_eq(read_entry(&f, 0, &hashed), 0);
	cr_assert_eq(hashed, 0, "a stamped, unchanged entry is not hashed again");
	sfx_free(&f);
}

Test(imgstamp, write_after_the_stamp_is_caught)
{
	char img[PATH_MAX], ok[PATH_MAX];
	uint64_t hashed;
	struct sfx f;
	uint8_t b;
	int fd;

	sfx_init(&f, 2);
	write_entry(&f);
	cr_assert_eq(read_entry(&f, 0, &hashed), 0);
	entry_file(&f, ".img", img, sizeof(img));
	entry_file(&f, ".ok", ok, sizeof(ok));
	cr_assert(exists(ok));
	next_granule();
	/* Same size, one payload byte: only ctime/mtime tell. */
	fd = open(img, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, IMGCACHE_HDR_LEN + 1000), 1);
	b ^= 0x20;
	cr_assert_eq(pwrite(fd, &b, 1, IMGCACHE_HDR_LEN + 1000), 1);
	close(fd);
	cr_assert_eq(read_entry(&f, 0, &hashed), -EBADMSG, "a changed entry must not be served");
	cr_assert_eq(hashed, 1, "the stamp no longer matches: the read hashed");
	cr_assert(!exists(img) && !exists(ok), "damaged entry and its stamp are removed");
	sfx_free(&f);
}

Test(imgstamp, entry_younger_than_the_window_is_always_hashed)
{
	char ok[PATH_MAX];
	uint64_t hashed;
	struct sfx f;

	sfx_init(&f, 3);
	write_entry(&f);
	entry_file(&f, ".ok", ok, sizeof(ok));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(read_entry(&f, FP_RACY_NS, &hashed), 0);
		cr_assert_eq(hashed, 1, "read %d of a just-written entry must hash", i);
		cr_assert(!exists(ok), "a racily new entry is never stamped");
	}
	sfx_free(&f);
}

Test(imgstamp, stamp_of_another_entry_or_garbage_is_not_trusted)
{
	char ok_a[PATH_MAX], ok_b[PATH_MAX];
	struct sfx a, b;
	uint64_t hashed;
	size_t len;
	uint8_t *buf;

	sfx_init(&a, 4);
	sfx_init(&b, 5);
	th_rmtree(b.dir);
	free(b.dir);
	b.dir = strdup(a.dir);	/* both entries in one directory */
	write_entry(&a);
	write_entry(&b);
	cr_assert_eq(read_entry(&a, 0, &hashed), 0);
	entry_file(&a, ".ok", ok_a, sizeof(ok_a));
	entry_file(&b, ".ok", ok_b, sizeof(ok_b));
	buf = th_slurp(ok_a, &len);
	th_write(ok_b, buf, len, 0644);
	cr_assert_eq(read_entry(&b, 0, &hashed), 0);
	cr_assert_eq(hashed, 1, "A's stamp must not vouch for B");
	memset(buf, 0x5a, len);
	th_write(ok_b, buf, len, 0644);
	cr_assert_eq(read_entry(&b, 0, &hashed), 0);
	cr_assert_eq(hashed, 1, "a garbage stamp is ignored");
	th_write(ok_b, buf, 10, 0644);
	cr_assert_eq(read_entry(&b, 0, &hashed), 0);
	cr_assert_eq(hashed, 1, "a short stamp is ignored");
	cr_assert_eq(read_entry(&b, 0, &hashed), 0);
	cr_assert_eq(hashed, 0, "and replaced by a good one");
	free(buf);
	th_rmtree(a.dir);
	free(b.img.data);
	free(b.dir);
	b.dir = NULL;
	free(a.dir);
	free(a.img.data);
}

Test(imgstamp, replaced_entry_is_hashed_again)
{
	char ok[PATH_MAX];
	uint64_t hashed;
	struct sfx f;

	sfx_init(&f, 6);
	write_entry(&f);
	cr_assert_eq(read_entry(&f, 0, &hashed), 0);
	entry_file(&f, ".ok", ok, sizeof(ok));
	cr_assert(exists(ok));
	write_entry(&f);	/* another builder publishes the key again */
	cr_assert(!exists(ok), "publishing an entry drops the old stamp");
	cr_assert_eq(read_entry(&f, 0, &hashed), 0);
	cr_assert_eq(hashed, 1);
	sfx_free(&f);
}

Test(imgstamp, encoding_round_trips_and_rejects_bad_magic)
{
	uint8_t key[SHA256_LEN] = { 1 }, sum[SHA256_LEN] = { 2 }, buf[IMGSTAMP_LEN];
	struct imgstamp s, t;
	struct stat st = { 0 };

	st.st_dev = 7, st.st_ino = 8, st.st_size = 9;
	st.st_mtim.tv_sec = 10, st.st_ctim.tv_sec = 11;
	imgstamp_make(&s, key, sum, &st, 11ll * 1000000000 + FP_RACY_NS);
	imgstamp_encode(&s, buf);
	cr_assert_eq(imgstamp_decode(buf, &t), 0);
	cr_assert_eq(memcmp(&s, &t, sizeof(s)), 0);
	cr_assert_eq(imgstamp_trusts(&t, key, sum, &st, FP_RACY_NS), 1);
	cr_assert_eq(imgstamp_trusts(&t, key, sum, &st, FP_RACY_NS + 1), 0, "racy");
	st.st_ctim.tv_nsec = 1;
	cr_assert_eq(imgstamp_trusts(&t, key, sum, &st, 0), 0, "ctime differs");
	st.st_ctim.tv_nsec = 0;
	sum[0] ^= 1;
	cr_assert_eq(imgstamp_trusts(&t, key, sum, &st, 0), 0, "digest differs");
	buf[0] ^= 1;
	cr_assert_eq(imgstamp_decode(buf, &t), -EBADMSG);
	buf[0] ^= 1;
	buf[9] = 1;
	cr_assert_eq(imgstamp_decode(buf, &t), -EBADMSG, "version");
}
