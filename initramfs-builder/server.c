#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/frame.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "image.h"
#include "key.h"
#include <ktstr/memfd.h>
#include "plan.h"
#include "server.h"

/* The orchestrator has no reason to stall mid-frame; a peer that does is
 * broken and the builder must not wait on it forever. */
#define SERVER_FRAME_GAP_MS 10000

int builder_init(struct builder *b, const char *cache_dir)
{
	memset(b, 0, sizeof(*b));
	b->fp_racy_ns = FP_RACY_NS;
	return imgcache_init(&b->cache, cache_dir);
}

void builder_free(struct builder *b)
{
	imgcache_free(&b->cache);
}

void builder_result_free(struct builder_result *res)
{
	size_t i;

	free(res->ok.key);
	for (i = 0; i < res->ok.n_libraries; i++)
		free(res->ok.libraries[i]);
	free(res->ok.libraries);
	memset(res, 0, sizeof(*res));
	res->fd = -1;
}

/* Seal img into a memfd and remember it in memory; frees img. Returns the
 * fd (owned by the cache) or -errno with e filled. */
static int builder_seal(struct builder *b, struct image *img, uint32_t compression,
			const uint8_t key[SHA256_LEN], struct imgcache_meta *meta, struct ktstr_error *e)
{
	int fd = memfd_sealed_from("ktstr-initramfs", img->data, img->len);

	if (fd < 0) {
		image_free(img);
		return ktstr_error_set(e, fd, "create image memfd", NULL,
				"check RLIMIT_MEMLOCK/memory limits", "memfd: %s", strerror(-fd));
	}
	meta->size = img->len;
	meta->uncompressed = img->uncompressed;
	meta->file_count = img->file_count;
	meta->compression = compression;
	image_free(img);
	imgcache_mem_put(&b->cache, key, fd, meta);
	return fd;
}

/* Build, seal and remember in memory. */
static int builder_make(struct builder *b, const struct plan *p, uint32_t compression,
			const uint8_t key[SHA256_LEN], const char *hexkey, int lockfd,
			struct imgcache_meta *meta, int *tier, struct ktstr_error *e)
{
	struct image img;
	int fd, ret;

	if (lockfd >= 0) {
		ret = imgcache_disk_read(&b->cache, hexkey, key, compression, &fd, meta);
		if (!ret) {
			*tier = KTSTR__CACHE_TIER__CACHE_DISK;
			imgcache_mem_put(&b->cache, key, fd, meta);
			return fd;
		}
		if (ret != -ENOENT && ret != -EBADMSG)
			kwarn("image cache: reading entry %s failed: %s; rebuilding", hexkey,
			      strerror(-ret));
	}
	ret = image_build(p, compression, &img, e);
	if (ret)
		return ret;
	*tier = KTSTR__CACHE_TIER__CACHE_BUILT;
	if (lockfd >= 0) {
		ret = imgcache_disk_write(&b->cache, hexkey, key, compression, &img);
		if (ret)
			kwarn("image cache: writing entry %s under %s failed: %s; serving it "
			      "from memory only", hexkey, b->cache.dir, strerror(-ret));
	}
	return builder_seal(b, &img, compression, key, meta, e);
}

/* The memory record for req, else the disk one (moved into memory). NULL if
 * there is none or it cannot be read (logged; the caller hashes instead). */
static struct fp_record *builder_fp_find(struct builder *b, const uint8_t req[SHA256_LEN])
{
	struct fp_record *r = imgcache_fp_get(&b->cache, req);
	int ret;

	if (r || b->cache.dirfd < 0)
		return r;
	r = malloc(sizeof(*r));
	if (!r)
		return NULL;
	ret = imgcache_fp_read(&b->cache, req, r);
	if (ret) {
		if (ret != -ENOENT && ret != -EBADMSG)
			kwarn("image cache: reading a fingerprint under %s failed: %s; hashing the "
			      "inputs instead", b->cache.dir, strerror(-ret));
		free(r);
		return NULL;
	}
	imgcache_fp_put(&b->cache, r);
	return r;
}

/* Fast path: rec's inputs are unchanged, so its content key names the image.
 * Returns the memfd (memory or disk tier, *tier set) or -1 when the image is
 * in neither (the caller then builds as usual). */
static int builder_fp_serve(struct builder *b, const struct fp_record *rec, uint32_t compression,
			    struct imgcache_meta *meta, int *tier, struct ktstr_error *e)
{
	char hexkey[SHA256_HEX_LEN + 1];
	int fd, lockfd, ret;

	fd = imgcache_mem_get(&b->cache, rec->key, meta);
	if (fd >= 0) {
		*tier = KTSTR__CACHE_TIER__CACHE_MEMORY;
		return fd;
	}
	if (b->cache.dirfd < 0)
		return -1;
	sha256_hex(rec->key, hexkey);
	lockfd = imgcache_lock(&b->cache, hexkey);
	if (lockfd < 0)
		return -1;	/* the slow path reports it */
	ret = imgcache_disk_read(&b->cache, hexkey, rec->key, compression, &fd, meta);
	imgcache_unlock(lockfd);
	if (ret)
		return -1;
	*tier = KTSTR__CACHE_TIER__CACHE_DISK;
	imgcache_mem_put(&b->cache, rec->key, fd, meta);
	return fd;
}

/* After a full build: remember req -> key with what the inputs looked like,
 * unless one of them changed too recently to be trusted (fprint.h). Takes
 * deps (cleared). Failures only cost the fast path: logged, not returned. */
static void builder_fp_store(struct builder *b, const uint8_t req[SHA256_LEN],
			     const uint8_t key[SHA256_LEN], const struct imgcache_meta *meta,
			     const struct plan *p, struct fp_deps *deps)
{
	struct fp_record *r;
	struct timespec now;
	size_t i;
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	if (deps->uncacheable ||
	    fp_deps_racy(deps, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, b->fp_racy_ns)) {
		kdbg("image cache: inputs changed within %lld ms; not storing a fingerprint",
		     (long long)(b->fp_racy_ns / 1000000));
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->libs = calloc(p->nlibs ? p->nlibs : 1, sizeof(char *))))
		goto err_free;
	for (i = 0; i < p->nlibs; i++) {
		if (!(r->libs[i] = strdup(p->libs[i])))
			goto err_free;
		r->nlibs++;
	}
	memcpy(r->req, req, SHA256_LEN);
	memcpy(r->key, key, SHA256_LEN);
	r->meta.size = meta->size;
	r->meta.uncompressed = meta->uncompressed;
	r->meta.file_count = meta->file_count;
	r->meta.compression = meta->compression;
	r->deps = *deps;
	memset(deps, 0, sizeof(*deps));
	if (b->cache.dirfd >= 0 && (ret = imgcache_fp_write(&b->cache, r)))
		kwarn("image cache: writing a fingerprint under %s failed: %s; the next builder "
		      "hashes the inputs", b->cache.dir, strerror(-ret));
	imgcache_fp_put(&b->cache, r);
	b->stats.fp_stored++;
	return;
err_free:
	if (r) {
		fp_record_free(r);
		free(r);
	}
	kwarn("image cache: out of memory storing a fingerprint; the next request hashes");
}

static int builder_reply(struct builder_result *res, int fd, const char *hexkey, char *const *libs,
			 size_t nlibs, const struct imgcache_meta *meta, int tier,
			 uint32_t compression, const struct builder *b, uint64_t t0,
			 struct ktstr_error *e)
{
	size_t i;

	res->fd = fd;
	res->ok.key = strdup(hexkey);
	res->ok.libraries = calloc(nlibs ? nlibs : 1, sizeof(char *));
	if (!res->ok.key || !res->ok.libraries)
		return ktstr_error_set(e, ENOMEM, "build reply", NULL, NULL, "out of memory");
	for (i = 0; i < nlibs; i++) {
		res->ok.libraries[i] = strdup(libs[i]);
		if (!res->ok.libraries[i])
			return ktstr_error_set(e, ENOMEM, "build reply", NULL, NULL, "out of memory");
		res->ok.n_libraries++;
	}
	res->ok.image_size = meta->size;
	res->ok.has_uncompressed_size = 1;
	res->ok.uncompressed_size = meta->uncompressed;
	res->ok.has_file_count = 1;
	res->ok.file_count = meta->file_count;
	res->ok.has_tier = 1;
	res->ok.tier = tier;
	res->ok.has_compression = 1;
	res->ok.compression = compression;
	res->ok.has_build_us = 1;
	res->ok.build_us = ktstr_now_us() - t0;
	res->ok.has_sandboxed = 1;
	res->ok.sandboxed = b->sandboxed;
	res->ok.has_landlock = 1;
	res->ok.landlock = b->landlock;
	return 0;
}

int builder_build(struct builder *b, const Ktstr__BuildRequest *req, struct builder_result *res,
		  struct ktstr_error *e)
{
	uint64_t t0 = ktstr_now_us();
	uint32_t compression = req->has_compression ? (uint32_t)req->compression : 0;
	uint8_t key[SHA256_LEN], reqkey[SHA256_LEN];
	char hexkey[SHA256_HEX_LEN + 1];
	struct imgcache_meta meta;
	struct fp_deps deps = { 0 };
	struct fp_record *rec;
	const char *changed = NULL;
	struct plan p;
	int fd, lockfd = -1, tier = KTSTR__CACHE_TIER__CACHE_MEMORY, ret;

	memset(res, 0, sizeof(*res));
	res->fd = -1;
	ktstr__build_ok__init(&res->ok);
	plan_init(&p);
	if (compression > KTSTR__COMPRESSION__COMPRESSION_LZ4)
		return ktstr_error_set(e, EINVAL, "check build request", NULL,
				"use NONE, GZIP or LZ4", "unknown compression %u", compression);

	/* Fast path: same request, every input stats as before. */
	fp_request_key(req, compression, reqkey);
	rec = builder_fp_find(b, reqkey);
	if (rec && fp_deps_check(&rec->deps, &changed)) {
		fd = builder_fp_serve(b, rec, compression, &meta, &tier, e);
		if (fd >= 0) {
			b->stats.fp_hits++;
			sha256_hex(rec->key, hexkey);
			ret = builder_reply(res, fd, hexkey, rec->libs, rec->nlibs, &meta, tier,
					    compression, b, t0, e);
			goto out;
		}
	} else if (rec) {
		b->stats.fp_stale++;
		kdbg("image cache: %s changed since the fingerprint; hashing the inputs", changed);
	}

	/* Slow path: read and hash every input; the key is over the bytes. */
	b->stats.hashed++;
	p.deps = &deps;
	ret = plan_from_request(&p, req, e);
	if (ret)
		goto out;
	image_key(&p, compression, key);
	sha256_hex(key, hexkey);

	tier = KTSTR__CACHE_TIER__CACHE_MEMORY;
	fd = imgcache_mem_get(&b->cache, key, &meta);
	if (fd < 0) {
		if (b->cache.dirfd >= 0) {
			lockfd = imgcache_lock(&b->cache, hexkey);
			if (lockfd < 0)
				kwarn("image cache: lock for %s in %s: %s; building without the "
				      "disk cache", hexkey, b->cache.dir, strerror(-lockfd));
		}
		fd = builder_make(b, &p, compression, key, hexkey, lockfd, &meta, &tier, e);
		imgcache_unlock(lockfd);
		if (fd < 0) {
			ret = fd;
			goto out;
		}
	}
	builder_fp_store(b, reqkey, key, &meta, &p, &deps);
	ret = builder_reply(res, fd, hexkey, p.libs, p.nlibs, &meta, tier, compression,
			    b, t0, e);
out:
	fp_deps_free(&deps);
	plan_free(&p);
	if (ret)
		builder_result_free(res);
	return ret;
}

static int server_reply_error(int sock, const struct ktstr_error *e)
{
	Ktstr__BuilderReply rep = KTSTR__BUILDER_REPLY__INIT;
	Ktstr__Error err;

	ktstr_error_to_pb(e, &err);
	rep.rep_case = KTSTR__BUILDER_REPLY__REP_ERROR;
	rep.error = &err;
	return frame_send(sock, &rep.base, NULL, 0);
}

int builder_serve(struct builder *b, int sock)
{
	for (;;) {
		Ktstr__BuilderRequest *req = NULL;
		Ktstr__BuilderReply rep = KTSTR__BUILDER_REPLY__INIT;
		struct builder_result res;
		struct ktstr_error e = { 0 };
		char msg[1024];
		size_t nfds = 0;
		int ret;

		/* No bound while idle: the builder lives as long as the
		 * orchestrator keeps the socket open, and EOF ends it. */
		ret = frame_recv_msg(sock, &ktstr__builder_request__descriptor,
				     KTSTR_FRAME_CAP_REQUEST, (ProtobufCMessage **)&req, NULL, 0,
				     &nfds, -1);
		if (ret == -EPIPE)
			return 0;
		if (ret == -EBADMSG || ret == -EPROTO) {
			ktstr_error_set(&e, -ret, "decode BuilderRequest", NULL,
				 "orchestrator and builder must come from one build",
				 "malformed request frame");
			kerr("%s", e.why);
			if (ret == -EPROTO || server_reply_error(sock, &e))
				return ret;
			continue;
		}
		if (ret)
			return ret;
		if (req->req_case != KTSTR__BUILDER_REQUEST__REQ_BUILD) {
			ktstr_error_set(&e, EINVAL, "decode BuilderRequest", NULL,
				 "orchestrator and builder must come from one build",
				 "request kind %d not supported", (int)req->req_case);
			protobuf_c_message_free_unpacked(&req->base, NULL);
			ret = server_reply_error(sock, &e);
			if (ret)
				return ret;
			continue;
		}
		ret = builder_build(b, req->build, &res, &e);
		protobuf_c_message_free_unpacked(&req->base, NULL);
		if (ret) {
			ktstr_error_format(&e, msg, sizeof(msg));
			kinfo("build failed: %s", msg);
			ret = server_reply_error(sock, &e);
		} else {
			kdbg("image %s: %llu bytes, tier %d, %llu us", res.ok.key,
			     (unsigned long long)res.ok.image_size, (int)res.ok.tier,
			     (unsigned long long)res.ok.build_us);
			rep.rep_case = KTSTR__BUILDER_REPLY__REP_OK;
			rep.ok = &res.ok;
			ret = frame_send(sock, &rep.base, &res.fd, 1);
			builder_result_free(&res);
		}
		if (ret)
			return ret;
	}
}
