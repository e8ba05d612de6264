/* Disk-cache reads (initramfs-builder/imgcache.c): every read hashes the
 * payload and serves exactly the bytes it checked; a same-size one-byte
 * change, even with the old mtime put back, is refused and the entry
 * removed; no read leaves anything but the entry behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgcache.h"
#include <ktstr/memfd.h>
#include "th.h"

#define PAYLOAD_LEN (300u * 1024 + 17)

struct dfx {
	char *dir;
	struct image img;
	uint8_t key[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
};

static void dfx_init(struct dfx *f, uint8_t seed)
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

static void dfx_free(struct dfx *f)
{
	th_rmtree(f->dir);
	free(f->dir);
	free(f->img.data);
}

/* Read f's entry through a fresh cache (a new builder); returns the read's
 * result and how many payload digests it computed. A hit is checked byte
 * for byte. */
static int read_entry(const struct dfx *f, uint64_t *hashed)
{
	struct imgcache_meta meta;
	struct imgcache c;
	int fd = -1, ret;

	cr_assert_eq(imgcache_init(&c, f->dir), 0);
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

static void write_entry(const struct dfx *f)
{
	struct imgcache c;

	cr_assert_eq(imgcache_init(&c, f->dir), 0);
	cr_assert_eq(imgcache_disk_write(&c, f->hex, f->key, 0, &f->img), 0);
	imgcache_free(&c);
}

/* Names in f's directory other than the entry and its lock. */
static unsigned others(const struct dfx *f)
{
	char cmd[PATH_MAX + 128];
	unsigned n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -v -e '\\.img$' -e '\\.lock$' | wc -l",
		 f->dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

Test(imgdisk, every_read_hashes_and_leaves_nothing_behind)
{
	uint64_t hashed;
	struct dfx f;

	dfx_init(&f, 1);
	write_entry(&f);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(read_entry(&f, &hashed), 0);
		cr_assert_eq(hashed, 1, "read %d: the payload digest is checked every time", i);
	}
	cr_assert_eq(others(&f), 0, "a read writes nothing next to the entry");
	dfx_free(&f);
}

Test(imgdisk, a_same_size_change_with_the_old_mtime_is_refused)
{
	char img[PATH_MAX];
	struct timespec keep[2];
	struct stat st;
	uint64_t hashed;
	struct dfx f;
	uint8_t b;
	int fd;

	dfx_init(&f, 2);
	write_entry(&f);
	cr_assert_eq(read_entry(&f, &hashed), 0);
	snprintf(img, sizeof(img), "%s/%s.img", f.dir, f.hex);
	cr_assert_eq(stat(img, &st), 0);
	keep[0] = st.st_atim;
	keep[1] = st.st_mtim;
	fd = open(img, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, IMGCACHE_HDR_LEN + 1000), 1);
	b ^= 0x20;
	cr_assert_eq(pwrite(fd, &b, 1, IMGCACHE_HDR_LEN + 1000), 1);
	cr_assert_eq(futimens(fd, keep), 0, "put the old mtime back");
	close(fd);
	cr_assert_eq(read_entry(&f, &hashed), -EBADMSG, "a changed entry must not be served");
	cr_assert_eq(hashed, 1);
	cr_assert_neq(access(img, F_OK), 0, "the damaged entry is removed");
	dfx_free(&f);
}
