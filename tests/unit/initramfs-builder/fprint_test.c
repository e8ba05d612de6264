/* The stat-fingerprint fast path (fprint.h): a hit serves the same image
 * without reading inputs; any stat change (touch, mtime-restoring rewrite,
 * new library earlier in the search path) falls back to hashing and is then
 * keyed by content again; disk records are validated (damaged, stale,
 * pointing at a removed image); racily-new inputs store no record. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fprint.h"
#include "imgcache.h"
#include "server.h"
#include "th.h"

struct fixture {
	char *dir;
	char cache[PATH_MAX];
	char data[PATH_MAX];
	Ktstr__BuildRequest req;
	Ktstr__FileSpec fs;
	Ktstr__FileSpec *files[1];
};

static void fx_init(struct fixture *f)
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
	f->req.scheduler_path = "/bin/ls";
	f->req.n_files = 1;
	f->req.files = f->files;
}

static void fx_free(struct fixture *f)
{
	th_rmtree(f->dir);
	free(f->dir);
}

/* A builder over f's cache that trusts inputs however new they are (the
 * test files were written a moment ago; racy_is_hashed covers the guard). */
static void start(struct builder *b, const struct fixture *f)
{
	cr_assert_eq(builder_init(b, f->cache), 0);
	b->fp_racy_ns = 0;
}

static void build(struct builder *b, const Ktstr__BuildRequest *req, struct builder_result *r)
{
	struct ktstr_error e = { 0 };
	char msg[1024];

	if (builder_build(b, req, r, &e)) {
		ktstr_error_format(&e, msg, sizeof(msg));
		cr_assert_fail("build: %s", msg);
	}
}

static void fp_path(const struct fixture *f, char *out, size_t len)
{
	uint8_t req[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	fp_request_key(&f->req, 0, req);
	sha256_hex(req, hex);
	cr_assert_lt((size_t)snprintf(out, len, "%.3900s/%s.fp", f->cache, hex), len);
}

/* Change the file's mtime without touching its bytes. */
static void touch(const char *path, long sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0, "utimensat %s: %s", path,
		     strerror(errno));
}

Test(fprint, hit_serves_the_same_image_without_reading)
{
	struct fixture f;
	struct builder b;
	struct builder_result r1, r2;
	size_t i;

	fx_init(&f);
	start(&b, &f);
	build(&b, &f.req, &r1);
	cr_assert_eq(r1.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_eq(b.stats.hashed, 1);
	cr_assert_eq(b.stats.fp_stored, 1);
	build(&b, &f.req, &r2);
	cr_assert_eq(b.stats.fp_hits, 1, "second request must be a fingerprint hit");
	cr_assert_eq(b.stats.hashed, 1, "a fingerprint hit reads no input");
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_MEMORY);
	cr_assert_eq(r1.fd, r2.fd, "same sealed memfd");
	cr_assert_str_eq(r1.ok.key, r2.ok.key);
	cr_assert_eq(r1.ok.image_size, r2.ok.image_size);
	cr_assert_eq(r1.ok.file_count, r2.ok.file_count);
	cr_assert_eq(r1.ok.n_libraries, r2.ok.n_libraries);
	for (i = 0; i < r1.ok.n_libraries; i++)
		cr_assert_str_eq(r1.ok.libraries[i], r2.ok.libraries[i]);
	cr_log_info("fingerprint hit: %llu us (hashed build: %llu us)",
		    (unsigned long long)r2.ok.build_us, (unsigned long long)r1.ok.build_us);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_free(&b);
	fx_free(&f);
}

Test(fprint, touch_rehashes_and_still_hits_by_content)
{
	struct fixture f;
	struct builder b;
	struct builder_result r1, r2, r3;

	fx_init(&f);
	start(&b, &f);
	build(&b, &f.req, &r1);
	touch(f.data, 1000000000);
	build(&b, &f.req, &r2);
	cr_assert_eq(b.stats.fp_stale, 1, "the touched file must invalidate the fingerprint");
	cr_assert_eq(b.stats.hashed, 2);
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_MEMORY, "same bytes: content hit");
	cr_assert_str_eq(r1.ok.key, r2.ok.key);
	/* The new stat was recorded: the next request is fast again. */
	build(&b, &f.req, &r3);
	cr_assert_eq(b.stats.fp_hits, 1);
	cr_assert_eq(b.stats.hashed, 2);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_result_free(&r3);
	builder_free(&b);
	fx_free(&f);
}

Test(fprint, content_change_misses_even_with_the_old_mtime)
{
	struct fixture f;
	struct builder b;
	struct builder_result r1, r2, r3;
	struct stat st;

	fx_init(&f);
	touch(f.data, 1000000000);
	start(&b, &f);
	build(&b, &f.req, &r1);
	/* Same size, one byte, mtime put back (touch -r, rsync -t): only
	 * ctime tells, and it must be enough. */
	th_write(f.data, "answer=43\n", 10, 0600);
	touch(f.data, 1000000000);
	cr_assert_eq(stat(f.data, &st), 0);
	cr_assert_eq(st.st_mtim.tv_sec, 1000000000);
	build(&b, &f.req, &r2);
	cr_assert_eq(b.stats.fp_stale, 1);
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_neq(r1.ok.key, r2.ok.key);
	/* A different size misses as well. */
	th_write(f.data, "answer=4242\n", 12, 0600);
	build(&b, &f.req, &r3);
	cr_assert_eq(r3.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_neq(r2.ok.key, r3.ok.key);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_result_free(&r3);
	builder_free(&b);
	fx_free(&f);
}

Test(fprint, disk_record_serves_a_new_builder)
{
	struct fixture f;
	struct builder b1, b2;
	struct builder_result r1, r2;
	char path[PATH_MAX];

	fx_init(&f);
	start(&b1, &f);
	build(&b1, &f.req, &r1);
	fp_path(&f, path, sizeof(path));
	cr_assert_eq(access(path, R_OK), 0, "no fingerprint record at %s", path);
	start(&b2, &f);
	build(&b2, &f.req, &r2);
	cr_assert_eq(b2.stats.fp_hits, 1);
	cr_assert_eq(b2.stats.hashed, 0, "the disk record spares the new builder the hashing");
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_DISK);
	cr_assert_str_eq(r1.ok.key, r2.ok.key);
	cr_assert_eq(r1.ok.n_libraries, r2.ok.n_libraries);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_free(&b1);
	builder_free(&b2);
	fx_free(&f);
}

Test(fprint, stale_disk_record_is_checked_and_replaced)
{
	struct fixture f;
	struct builder b1, b2, b3;
	struct builder_result r1, r2, r3;

	fx_init(&f);
	start(&b1, &f);
	build(&b1, &f.req, &r1);
	builder_free(&b1);
	/* Changed while no builder ran. */
	th_write(f.data, "answer=43\n", 10, 0600);
	start(&b2, &f);
	build(&b2, &f.req, &r2);
	cr_assert_eq(b2.stats.fp_stale, 1, "the disk record must be checked against the file");
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_neq(r1.ok.key, r2.ok.key);
	builder_free(&b2);
	start(&b3, &f);
	build(&b3, &f.req, &r3);
	cr_assert_eq(b3.stats.fp_hits, 1, "the record was replaced with the new stats");
	cr_assert_str_eq(r2.ok.key, r3.ok.key);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_result_free(&r3);
	builder_free(&b3);
	fx_free(&f);
}

static void damaged_record(int truncate)
{
	struct fixture f;
	struct builder b1, b2, b3;
	struct builder_result r1, r2, r3;
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;

	fx_init(&f);
	start(&b1, &f);
	build(&b1, &f.req, &r1);
	builder_free(&b1);
	fp_path(&f, path, sizeof(path));
	buf = th_slurp(path, &len);
	if (truncate)
		len -= 7;
	else
		buf[len - 3] ^= 0x40;	/* inside a library path */
	th_write(path, buf, len, 0644);
	free(buf);
	start(&b2, &f);
	build(&b2, &f.req, &r2);
	cr_assert_eq(b2.stats.fp_hits, 0, "a damaged record must not be used");
	cr_assert_eq(b2.stats.hashed, 1);
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_DISK, "found by content instead");
	cr_assert_str_eq(r1.ok.key, r2.ok.key);
	builder_free(&b2);
	/* ...and it was replaced by a good one. */
	start(&b3, &f);
	build(&b3, &f.req, &r3);
	cr_assert_eq(b3.stats.fp_hits, 1);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_result_free(&r3);
	builder_free(&b3);
	fx_free(&f);
}

Test(fprint, flipped_record_is_rejected)
{
	damaged_record(0);
}

Test(fprint, truncated_record_is_rejected)
{
	damaged_record(1);
}

Test(fprint, record_whose_image_is_gone_rebuilds)
{
	struct fixture f;
	struct builder b1, b2;
	struct builder_result r1, r2;
	char img[PATH_MAX + 80];

	fx_init(&f);
	start(&b1, &f);
	build(&b1, &f.req, &r1);
	builder_free(&b1);
	snprintf(img, sizeof(img), "%.3900s/%s.img", f.cache, r1.ok.key);
	cr_assert_eq(unlink(img), 0, "unlink %s: %s", img, strerror(errno));
	start(&b2, &f);
	build(&b2, &f.req, &r2);
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	cr_assert_str_eq(r1.ok.key, r2.ok.key);
	cr_assert_eq(access(img, R_OK), 0, "the entry is written again");
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_free(&b2);
	fx_free(&f);
}

/* A library that appears earlier in the search path changes what is packed
 * although no recorded file changed: the failed probe was recorded too. */
Test(fprint, library_appearing_earlier_in_the_search_path_misses)
{
	struct fixture f;
	struct builder b;
	struct builder_result r1, r2;
	char llp[PATH_MAX], lib[PATH_MAX + 16];

	fx_init(&f);
	snprintf(llp, sizeof(llp), "%s/llp", f.dir);
	cr_assert_eq(mkdir(llp, 0755), 0);
	f.req.ld_library_path = llp;
	start(&b, &f);
	build(&b, &f.req, &r1);
	cr_assert(th_has(r1.ok.libraries, r1.ok.n_libraries, "/lib/x86_64-linux-gnu/libc.so.6"),
		  "libc from the default directory expected first");
	snprintf(lib, sizeof(lib), "%s/libc.so.6", llp);
	cr_assert_eq(th_sh(NULL, "cp /lib/x86_64-linux-gnu/libc.so.6 '%s'", lib), 0);
	build(&b, &f.req, &r2);
	cr_assert_eq(b.stats.fp_stale, 1, "the new library must invalidate the fingerprint");
	cr_assert(th_has(r2.ok.libraries, r2.ok.n_libraries, lib), "libc from %s expected", llp);
	cr_assert_str_neq(r1.ok.key, r2.ok.key);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_free(&b);
	fx_free(&f);
}

Test(fprint, racily_new_inputs_store_no_record)
{
	struct fixture f;
	struct builder b;
	struct builder_result r1, r2;

	fx_init(&f);	/* the data file was written just now */
	cr_assert_eq(builder_init(&b, f.cache), 0);
	cr_assert_eq(b.fp_racy_ns, FP_RACY_NS);
	build(&b, &f.req, &r1);
	cr_assert_eq(b.stats.fp_stored, 0, "an input changed within the granule: no record");
	build(&b, &f.req, &r2);
	cr_assert_eq(b.stats.hashed, 2);
	cr_assert_eq(r2.ok.tier, KTSTR__CACHE_TIER__CACHE_MEMORY);
	builder_result_free(&r1);
	builder_result_free(&r2);
	builder_free(&b);
	fx_free(&f);
}

Test(fprint, request_key_covers_every_field)
{
	struct fixture f;
	uint8_t k[8][SHA256_LEN];
	int i, j;

	fx_init(&f);
	fp_request_key(&f.req, 0, k[0]);
	fp_request_key(&f.req, 1, k[1]);
	f.fs.has_mode = 1;
	f.fs.mode = 0644;
	fp_request_key(&f.req, 0, k[2]);
	f.fs.has_resolve_libs = 1;
	fp_request_key(&f.req, 0, k[3]);
	f.fs.guest_path = "/etc/other.conf";
	fp_request_key(&f.req, 0, k[4]);
	f.req.ld_library_path = "";
	fp_request_key(&f.req, 0, k[5]);
	f.req.scheduler_path = NULL;
	fp_request_key(&f.req, 0, k[6]);
	f.req.n_files = 0;
	fp_request_key(&f.req, 0, k[7]);
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			cr_assert(memcmp(k[i], k[j], SHA256_LEN), "keys %d and %d collide", i, j);
	fx_free(&f);
}

Test(fprint, record_round_trips_and_rejects_every_truncation)
{
	struct fp_record r = { 0 }, d;
	char real[PATH_MAX];
	struct stat st;
	uint8_t *buf;
	size_t len, cut;
	char *libs[] = { "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6" };

	memset(r.req, 1, SHA256_LEN);
	memset(r.key, 2, SHA256_LEN);
	r.meta.size = 4096;
	r.meta.file_count = 9;
	cr_assert_eq(stat("/bin/sh", &st), 0);
	cr_assert_eq(fp_deps_add_stat(&r.deps, "/bin/sh", &st), 0);
	cr_assert_eq(fp_deps_add_stat(&r.deps, "/no/such/file", NULL), 0);
	cr_assert_not_null(realpath("/bin/sh", real));
	cr_assert_eq(fp_deps_add_realpath(&r.deps, "/bin/sh", real), 0);
	cr_assert_eq(fp_deps_add_stat(&r.deps, "/bin/sh", NULL), 0);	/* first wins */
	cr_assert_eq(r.deps.n, 3);
	cr_assert_eq(r.deps.v[1].st.err, ENOENT);
	r.libs = libs;
	r.nlibs = 2;
	cr_assert_eq(fp_encode(&r, &buf, &len), 0);
	cr_assert_eq(fp_decode(buf, len, &d), 0);
	cr_assert_eq(memcmp(d.key, r.key, SHA256_LEN), 0);
	cr_assert_eq(d.deps.n, 3);
	cr_assert_eq(memcmp(&d.deps.v[0].st, &r.deps.v[0].st, sizeof(struct fp_stat)), 0);
	cr_assert_str_eq(d.deps.v[2].real, real);
	cr_assert_eq(d.nlibs, 2);
	cr_assert_str_eq(d.libs[1], libs[1]);
	cr_assert_eq(fp_deps_check(&d.deps, NULL), 1);
	fp_record_free(&d);
	for (cut = 0; cut < len; cut++)
		cr_assert_eq(fp_decode(buf, cut, &d), -EBADMSG, "truncated at %zu", cut);
	free(buf);
	r.libs = NULL;
	r.nlibs = 0;
	fp_record_free(&r);
}
