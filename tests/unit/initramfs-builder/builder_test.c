/* Whole builds through builder_build: cache tiers, content keying, damaged
 * entries, compression, the image contents and precise errors. */
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

#include "ktstr/compress.h"
#include "imgcache.h"
#include "ktstr/le.h"
#include <ktstr/memfd.h>
#include "ktstr/util.h"
#include "key.h"
#include "plan.h"
#include "server.h"
#include "th.h"

struct fixture {
	char *dir;		/* temp dir: inputs + cache */
	char cache[PATH_MAX];
	char data[PATH_MAX];	/* a data file packed at /etc/ktstr.conf */
	Ktstr__BuildRequest req;
	Ktstr__FileSpec fs;
	Ktstr__FileSpec *files[1];
};

static void fx_init(struct fixture *f, uint32_t compression)
{
	memset(f, 0, sizeof(*f));
	f->dir = th_tmpdir();
	snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
	snprintf(f->data, sizeof(f->data), "%s/conf", f->dir);
	th_write(f->data, "answer=42\n", 10, 0600);
	ktstr__build_request__init(&f->req);
	ktstr__file_spec__init(&f->fs);
	f->fs.host_path = f->data;
	f->fs.guest_path = "/etc/ktstr.conf";
	f->files[0] = &f->fs;
	f->req.init_path = "/bin/busybox";
	f->req.scheduler_path = "/bin/true";
	f->req.n_files = 1;
	f->req.files = f->files;
	f->req.has_compression = 1;
	f->req.compression = compression;
}

static void fx_free(struct fixture *f)
{
	th_rmtree(f->dir);
	free(f->dir);
}

static int build(struct builder *b, const Ktstr__BuildRequest *req, struct builder_result *r,
		 struct ktstr_error *e)
{
	char msg[1024];
	int ret;

	memset(e, 0, sizeof(*e));
	ret = builder_build(b, req, r, e);
	if (ret) {
		ktstr_error_format(e, msg, sizeof(msg));
		cr_log_info("build: %s", msg);
	}
	return ret;
}

/* Build once in a fresh builder over cache dir; returns tier, key in key. */
static int build_tier(const char *cache, const Ktstr__BuildRequest *req, char *key)
{
	struct builder b;
	struct builder_result r;
	struct ktstr_error e;
	int tier;

	cr_assert_eq(builder_init(&b, cache), 0);
	cr_assert_eq(build(&b, req, &r, &e), 0);
	tier = r.ok.tier;
	strcpy(key, r.ok.key);
	builder_result_free(&r);
	builder_free(&b);
	return tier;
}

Test(builder, identical_inputs_hit_memory_then_disk)
{
	struct fixture f;
	struct builder b;
	struct builder_result r1, r2;
	struct ktstr_error e;
	char key[80];

	fx_init(&f, 0);
	cr_assert_eq(builder_init(&b, f.cache), 0);
	cr_assert_eq(build(&b, &f.req, &r1, &e), 0);
	cr_assert_eq(r1.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_eq(build(&b, &f.req, &r2, &e), 0);
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_MEMORY);
	cr_assert_str_eq(r1.ok.key, r2.ok.key);
	cr_assert_eq(r1.fd, r2.fd, "a memory hit hands out the same sealed memfd");
	cr_assert_eq(build_tier(f.cache, &f.req, key), KTSTR__CACHE_TIER__CACHE_DISK,
		     "a new builder process must find the entry on disk");
	cr_assert_str_eq(key, r1.ok.key);
	/* A disk hit reports the same metadata as the build that wrote it. */
	{
		struct builder b2;
		struct builder_result r3;

		cr_assert_eq(builder_init(&b2, f.cache), 0);
		cr_assert_eq(build(&b2, &f.req, &r3, &e), 0);
		cr_assert_eq(r3.ok.tier, KTSTR__CACHE_TIER__CACHE_DISK);
		cr_assert_eq(r3.ok.file_count, r1.ok.file_count);
		cr_assert_eq(r3.ok.uncompressed_size, r1.ok.uncompressed_size);
		cr_assert_eq(r3.ok.image_size, r1.ok.image_size);
		builder_result_free(&r3);
		builder_free(&b2);
	}
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_free(&b);
	fx_free(&f);
}

Test(builder, any_byte_change_misses)
{
	struct fixture f;
	char k1[80], k2[80], k3[80];

	fx_init(&f, 0);
	cr_assert_eq(build_tier(f.cache, &f.req, k1), KTSTR__CACHE_TIER__CACHE_BUILT);
	th_write(f.data, "answer=43\n", 10, 0600);	/* same size, one byte */
	cr_assert_eq(build_tier(f.cache, &f.req, k2), KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_neq(k1, k2);
	f.fs.has_mode = 1;	/* same bytes, other mode */
	f.fs.mode = 0644;
	cr_assert_eq(build_tier(f.cache, &f.req, k3), KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_neq(k2, k3);
	f.req.compression = KTSTR__COMPRESSION__COMPRESSION_GZIP;
	cr_assert_eq(build_tier(f.cache, &f.req, k1), KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_neq(k1, k3, "compression is part of the key");
	fx_free(&f);
}

static void damage_and_rebuild(const char *how)
{
	struct fixture f;
	struct imgcache c;
	char key[80], key2[80], path[PATH_MAX];
	size_t len;
	uint8_t *buf;

	fx_init(&f, 0);
	cr_assert_eq(build_tier(f.cache, &f.req, key), KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_eq(imgcache_init(&c, f.cache), 0);
	cr_assert_eq(imgcache_entry_path(&c, key, path, sizeof(path)), 0);
	imgcache_free(&c);
	buf = th_slurp(path, &len);
	if (!strcmp(how, "flip"))
		buf[len / 2] ^= 0x40;	/* a payload byte */
	else
		len -= 700;		/* truncated mid-payload */
	th_write(path, buf, len, 0644);
	free(buf);
	cr_assert_eq(build_tier(f.cache, &f.req, key2), KTSTR__CACHE_TIER__CACHE_BUILT,
		     "a %s entry must be rebuilt, not served", how);
	cr_assert_str_eq(key, key2);
	cr_assert_eq(build_tier(f.cache, &f.req, key2), KTSTR__CACHE_TIER__CACHE_DISK,
		     "the rebuilt entry must be valid");
	fx_free(&f);
}

Test(builder, corrupted_entry_is_rebuilt)
{
	damage_and_rebuild("flip");
}

Test(builder, truncated_entry_is_rebuilt)
{
	damage_and_rebuild("truncate");
}

/* Extract an image's cpio (after optional decompression) into dir/x. */
static void extract(const char *dir, const uint8_t *img, size_t len, uint32_t comp)
{
	char path[PATH_MAX];
	uint8_t *raw = (uint8_t *)img;
	size_t rawlen = len;

	if (comp == KTSTR__COMPRESSION__COMPRESSION_GZIP)
		cr_assert_eq(decompress_gzip(img, len, 1u << 30, &raw, &rawlen), 0);
	if (comp == KTSTR__COMPRESSION__COMPRESSION_LZ4) {
		/* Debian's lz4 reads the legacy frame the kernel reads; it
		 * does not skip the zero padding, so hand it the frame only
		 * and check that the rest is zeros. */
		size_t end = 4, k;

		cr_assert_eq(get_le32(img), LZ4_LEGACY_MAGIC);
		while (end + 4 <= len) {
			uint32_t c = get_le32(img + end);

			if (!c)
				break;
			end += 4 + c;
		}
		cr_assert_leq(end, len);
		for (k = end; k < len; k++)
			cr_assert_eq(img[k], 0, "padding byte %zu is not zero", k);
		snprintf(path, sizeof(path), "%s/img.lz4", dir);
		th_write(path, img, end, 0644);
		cr_assert_eq(th_sh(NULL, "lz4 -dc -q %s > %s/img.raw", path, dir), 0,
			     "lz4 -d rejected our legacy frame");
		snprintf(path, sizeof(path), "%s/img.raw", dir);
		raw = th_slurp(path, &rawlen);
		{
			uint8_t *mine;
			size_t minelen;

			cr_assert_eq(decompress_lz4_legacy(img, len, 1u << 30, &mine, &minelen), 0);
			cr_assert_eq(minelen, rawlen);
			cr_assert(!memcmp(mine, raw, rawlen));
			free(mine);
		}
	}
	snprintf(path, sizeof(path), "%s/img.cpio", dir);
	th_write(path, raw, rawlen, 0644);
	if (raw != img)
		free(raw);
	cr_assert_eq(th_sh(NULL, "rm -rf %s/x && mkdir %s/x && cd %s/x && "
			   "cpio -idm --quiet < ../img.cpio", dir, dir, dir), 0);
}

static void check_image(uint32_t comp)
{
	struct fixture f;
	struct builder b;
	struct builder_result r;
	struct ktstr_error e;
	char path[PATH_MAX], *list, *lines[512];
	uint8_t *img, *got, *want;
	size_t n, glen, wlen;
	struct stat st;

	fx_init(&f, comp);
	f.req.init_path = "/bin/ls";
	cr_assert_eq(builder_init(&b, ""), 0);
	cr_assert_eq(build(&b, &f.req, &r, &e), 0);
	cr_assert_eq(memfd_check_sealed(r.fd), 0);
	cr_assert_eq(r.ok.image_size % 512, 0, "images are padded to 512 bytes");
	img = mmap(NULL, r.ok.image_size, PROT_READ, MAP_SHARED, r.fd, 0);
	cr_assert_neq(img, MAP_FAILED);
	cr_assert_eq(write(r.fd, "x", 1), -1, "a sealed image must not be writable");
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(ftruncate(r.fd, 0), -1);
	extract(f.dir, img, r.ok.image_size, comp);
	munmap(img, r.ok.image_size);

	snprintf(path, sizeof(path), "%s/x/init", f.dir);
	got = th_slurp(path, &glen);
	want = th_slurp("/bin/ls", &wlen);
	cr_assert(glen == wlen && !memcmp(got, want, wlen), "/init differs from /bin/ls");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(st.st_mode & 0100, "/init must be executable");
	free(got);
	free(want);
	snprintf(path, sizeof(path), "%s/x/etc/ktstr.conf", f.dir);
	got = th_slurp(path, &glen);
	cr_assert(glen == 10 && !memcmp(got, "answer=42\n", 10));
	free(got);
	for (n = 0; n < r.ok.n_libraries; n++) {
		snprintf(path, sizeof(path), "%s/x%s", f.dir, r.ok.libraries[n]);
		cr_assert_eq(access(path, R_OK), 0, "library %s missing from the image",
			     r.ok.libraries[n]);
	}
	cr_assert_gt(r.ok.n_libraries, 1);
	snprintf(path, sizeof(path), "%s/x/lib64/ld-linux-x86-64.so.2", f.dir);
	cr_assert_eq(access(path, R_OK), 0);
	/* The loader and libraries really work from the extracted tree. */
	cr_assert_eq(th_sh(NULL, "%s/x/lib64/ld-linux-x86-64.so.2 --library-path "
			   "%s/x/lib/x86_64-linux-gnu %s/x/init / > /dev/null", f.dir, f.dir,
			   f.dir), 0);
	static const char *const dirs[] = { "dev", "proc", "sys", "tmp", "bin" };
	for (n = 0; n < 5; n++) {
		snprintf(path, sizeof(path), "%s/x/%s", f.dir, dirs[n]);
		cr_assert_eq(stat(path, &st), 0, "/%s missing", dirs[n]);
		cr_assert(S_ISDIR(st.st_mode));
	}
	cr_assert_eq(th_sh(&list, "cpio -t --quiet < %s/img.cpio", f.dir), 0);
	n = th_lines(list, lines, 512);
	cr_assert_eq(n, r.ok.file_count);
	cr_assert_str_eq(lines[n - 1], ".ktstr_init_ok", "the sentinel must be written last");
	free(list);
	builder_result_free(&r);
	builder_free(&b);
	fx_free(&f);
}

Test(builder, image_none_extracts)
{
	check_image(KTSTR__COMPRESSION__COMPRESSION_NONE);
}

Test(builder, image_gzip_extracts)
{
	check_image(KTSTR__COMPRESSION__COMPRESSION_GZIP);
}

Test(builder, image_lz4_extracts)
{
	check_image(KTSTR__COMPRESSION__COMPRESSION_LZ4);
}

static void expect_error(Ktstr__BuildRequest *req, const char *where, const char *why_part)
{
	struct builder b;
	struct builder_result r;
	struct ktstr_error e;

	cr_assert_eq(builder_init(&b, ""), 0);
	cr_assert_lt(build(&b, req, &r, &e), 0);
	cr_assert_str_eq(e.where, where, "error should name %s, names '%s'", where, e.where);
	cr_assert(strstr(e.why, why_part), "why '%s' should mention '%s'", e.why, why_part);
	cr_assert_neq(e.errnum, 0);
	builder_free(&b);
}

Test(builder, errors_name_the_file)
{
	struct fixture f;

	fx_init(&f, 0);
	f.req.init_path = "/nonexistent/init";
	expect_error(&f.req, "/nonexistent/init", "No such file");
	f.req.init_path = f.data;
	expect_error(&f.req, f.data, "not an ELF");
	f.req.init_path = "/tmp";
	expect_error(&f.req, "/tmp", "not a regular file");
	f.req.init_path = "/bin/busybox";
	f.fs.guest_path = "etc/relative";
	expect_error(&f.req, "etc/relative", "guest path");
	f.fs.guest_path = "/etc/../../escape";
	expect_error(&f.req, "/etc/../../escape", "guest path");
	f.fs.guest_path = "/.ktstr_init_ok";
	expect_error(&f.req, "/.ktstr_init_ok", "reserved");
	f.fs.guest_path = "/init";
	expect_error(&f.req, "/init", "same guest path");
	f.fs.guest_path = "/etc/ktstr.conf";
	f.fs.has_resolve_libs = 1;	/* explicit: this file must be ELF */
	f.fs.resolve_libs = 1;
	expect_error(&f.req, f.data, "not an ELF");
	f.fs.has_resolve_libs = 0;
	f.fs.host_path = "/bin/busybox";
	f.fs.guest_path = "/bin/busybox/sub";	/* below a file: parent must be a dir */
	{
		struct builder b;
		struct builder_result r;
		struct ktstr_error e;

		cr_assert_eq(builder_init(&b, ""), 0);
		f.fs.guest_path = "/init/x";
		cr_assert_lt(build(&b, &f.req, &r, &e), 0);
		cr_assert(strstr(e.where, "/init"), "names the conflicting path: %s", e.where);
		builder_free(&b);
	}
	f.req.has_compression = 1;
	f.req.compression = (Ktstr__Compression)7;
	f.fs.guest_path = "/etc/ktstr.conf";
	{
		struct builder b;
		struct builder_result r;
		struct ktstr_error e;

		cr_assert_eq(builder_init(&b, ""), 0);
		cr_assert_lt(build(&b, &f.req, &r, &e), 0);
		cr_assert(strstr(e.why, "compression"));
		builder_free(&b);
	}
	fx_free(&f);
}

/* The cache works through the directory fd opened by imgcache_init (the
 * confined builder cannot reach anything by path): moving the directory
 * after init must not matter, and the old path must not reappear. */
Test(builder, cache_writes_follow_the_dir_fd)
{
	char moved[PATH_MAX + 16], entry[PATH_MAX + 96];
	struct builder_result r;
	struct fixture f;
	struct builder b;
	struct ktstr_error e;
	struct stat st;

	fx_init(&f, 0);
	snprintf(moved, sizeof(moved), "%s.moved", f.cache);
	cr_assert_eq(builder_init(&b, f.cache), 0);
	cr_assert_geq(b.cache.dirfd, 0, "a usable cache dir is held open");
	cr_assert_eq(rename(f.cache, moved), 0);
	cr_assert_eq(build(&b, &f.req, &r, &e), 0);
	cr_assert_eq(r.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert(r.ok.has_sandboxed && !r.ok.sandboxed, "an unconfined builder says so");
	snprintf(entry, sizeof(entry), "%s/%s.img", moved, r.ok.key);
	cr_assert_eq(stat(entry, &st), 0, "entry must land in the directory the fd names");
	cr_assert_neq(stat(f.cache, &st), 0, "the old path must not be recreated");
	builder_result_free(&r);
	builder_free(&b);
	fx_free(&f);
}

Test(builder, cache_names_cannot_leave_the_dir)
{
	static const char *const bad[] = {
		"", "..", "../x", "a/b", "/etc/passwd", "x..y", "ok/..",
	};
	static const char *const badkeys[] = {
		"../../../../tmp/escape", "0123",
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde/",
	};
	const char *good = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	uint8_t key[SHA256_LEN] = { 0 };
	char path[PATH_MAX];
	struct image img = { 0 };
	struct imgcache_meta meta;
	struct imgcache c;
	struct fixture f;
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(imgcache_name_check(bad[i]), -EINVAL, "'%s' must be refused", bad[i]);
	cr_assert_eq(imgcache_name_check("0123abcd.img.tmp.42"), 0);

	fx_init(&f, 0);
	cr_assert_eq(imgcache_init(&c, f.cache), 0);
	for (i = 0; i < ARRAY_SIZE(badkeys); i++) {
		cr_assert_eq(imgcache_lock(&c, badkeys[i]), -EINVAL, "lock '%s'", badkeys[i]);
		cr_assert_eq(imgcache_disk_write(&c, badkeys[i], key, 0, &img), -EINVAL,
			     "write '%s'", badkeys[i]);
		cr_assert_eq(imgcache_disk_read(&c, badkeys[i], key, 0, &fd, &meta), -EINVAL,
			     "read '%s'", badkeys[i]);
		cr_assert_eq(imgcache_entry_path(&c, badkeys[i], path, sizeof(path)), -EINVAL);
	}
	cr_assert_neq(stat("/tmp/escape.lock", &st), 0, "nothing may be created outside");
	fd = imgcache_lock(&c, good);
	cr_assert_geq(fd, 0, "a real key locks: %s", strerror(-fd));
	imgcache_unlock(fd);
	imgcache_free(&c);
	cr_assert_eq(c.dirfd, -1);
	cr_assert_eq(imgcache_init(&c, ""), 0);
	cr_assert_eq(c.dirfd, -1, "memory-only cache holds no dir fd");
	cr_assert_eq(imgcache_lock(&c, good), -ENOENT);
	imgcache_free(&c);
	fx_free(&f);
}

/* A header-only static ELF64 executable for machine (no program headers:
 * nothing to resolve). */
static void write_elf(const char *path, uint16_t machine)
{
	uint8_t eh[64] = { 0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */ };

	put_le16(eh + 16, 2);	     /* ET_EXEC */
	put_le16(eh + 18, machine);
	put_le32(eh + 20, 1);	     /* EV_CURRENT */
	put_le16(eh + 52, 64);	     /* e_ehsize */
	th_write(path, eh, sizeof(eh), 0755);
}

/* The guest architecture (BuildRequest.arch, docs/aarch64.md): an arm64
 * image packs aarch64 ELF files and refuses x86 ones, naming both
 * machines; the same bytes for another arch never share a key. */
Test(builder, the_guest_arch_picks_the_elf_machine_and_is_in_the_key)
{
	struct fixture f;
	struct builder b;
	struct builder_result r;
	struct ktstr_error e;
	struct plan p0, p1;
	uint8_t k0[SHA256_LEN], k1[SHA256_LEN];
	char init[PATH_MAX + 16], msg[1024];

	plan_init(&p0);
	plan_init(&p1);
	p1.arch = KTSTR__ARCH__ARCH_ARM64;
	image_key(&p0, 0, k0);
	image_key(&p1, 0, k1);
	cr_assert_neq(memcmp(k0, k1, SHA256_LEN), 0, "an arm64 image never shares an x86 key");
	plan_free(&p0);
	plan_free(&p1);

	fx_init(&f, 0);
	snprintf(init, sizeof(init), "%s/init-a64", f.dir);
	write_elf(init, 183 /* EM_AARCH64 */);
	f.req.init_path = init;
	f.req.scheduler_path = NULL;
	f.req.has_arch = 1;
	f.req.arch = KTSTR__ARCH__ARCH_ARM64;
	cr_assert_eq(builder_init(&b, f.cache), 0);
	cr_assert_eq(build(&b, &f.req, &r, &e), 0, "an aarch64 /init for an arm64 guest");
	builder_result_free(&r);
	/* The same file for an x86_64 guest: refused, both machines named. */
	f.req.has_arch = 0;
	cr_assert_neq(build(&b, &f.req, &r, &e), 0);
	ktstr_error_format(&e, msg, sizeof(msg));
	cr_assert(strstr(msg, "aarch64") && strstr(msg, "the guest is x86_64") &&
			  strstr(msg, "init-a64"),
		  "%s", msg);
	/* An x86 scheduler in an arm64 image: refused the same way. */
	f.req.has_arch = 1;
	snprintf(init, sizeof(init), "%s/scx-x86", f.dir);
	write_elf(init, 62 /* EM_X86_64 */);
	f.req.scheduler_path = init;
	cr_assert_neq(build(&b, &f.req, &r, &e), 0);
	ktstr_error_format(&e, msg, sizeof(msg));
	cr_assert(strstr(msg, "x86_64") && strstr(msg, "the guest is aarch64") &&
			  strstr(msg, "scx-x86"),
		  "%s", msg);
	builder_free(&b);
	fx_free(&f);
}
