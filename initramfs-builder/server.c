#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktstr/frame.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "image.h"
#include "key.h"
#include "memfd.h"
#include "plan.h"
#include "server.h"

/* The orchestrator has no reason to stall mid-frame; a peer that does is
 * broken and the builder must not wait on it forever. */
#define SERVER_FRAME_GAP_MS 10000

int builder_init(struct builder *b, const char *cache_dir)
{
	memset(b, 0, sizeof(*b));
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

/* Build, seal and remember in memory. */
static int builder_make(struct builder *b, const struct plan *p, uint32_t compression,
			const uint8_t key[SHA256_LEN], const char *hexkey, int lockfd,
			struct imgcache_meta *meta, int *tier, struct berr *e)
{
	struct image img;
	int fd, ret;

	if (lockfd >= 0) {
		ret = imgcache_disk_read(&b->cache, hexkey, key, compression, &img);
		if (!ret) {
			*tier = KTSTR__CACHE_TIER__CACHE_DISK;
			goto seal;
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
seal:
	fd = memfd_sealed_from("ktstr-initramfs", img.data, img.len);
	if (fd < 0) {
		image_free(&img);
		return berr_set(e, fd, "create image memfd", NULL,
				"check RLIMIT_MEMLOCK/memory limits", "memfd: %s", strerror(-fd));
	}
	meta->size = img.len;
	meta->uncompressed = img.uncompressed;
	meta->file_count = img.file_count;
	meta->compression = compression;
	image_free(&img);
	imgcache_mem_put(&b->cache, key, fd, meta);
	return fd;
}

int builder_build(struct builder *b, const Ktstr__BuildRequest *req, struct builder_result *res,
		  struct berr *e)
{
	uint64_t t0 = ktstr_now_us();
	uint32_t compression = req->has_compression ? (uint32_t)req->compression : 0;
	uint8_t key[SHA256_LEN];
	char hexkey[SHA256_HEX_LEN + 1];
	struct imgcache_meta meta;
	struct plan p;
	int fd, lockfd = -1, tier = KTSTR__CACHE_TIER__CACHE_MEMORY, ret;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->fd = -1;
	ktstr__build_ok__init(&res->ok);
	if (compression > KTSTR__COMPRESSION__COMPRESSION_LZ4)
		return berr_set(e, EINVAL, "check build request", NULL,
				"use NONE, GZIP or LZ4", "unknown compression %u", compression);
	plan_init(&p);
	ret = plan_from_request(&p, req, e);
	if (ret)
		goto out;
	image_key(&p, compression, key);
	sha256_hex(key, hexkey);

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
	res->fd = fd;
	res->ok.key = strdup(hexkey);
	res->ok.libraries = calloc(p.nlibs ? p.nlibs : 1, sizeof(char *));
	if (!res->ok.key || !res->ok.libraries) {
		ret = berr_set(e, ENOMEM, "build reply", NULL, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < p.nlibs; i++) {
		res->ok.libraries[i] = strdup(p.libs[i]);
		if (!res->ok.libraries[i]) {
			ret = berr_set(e, ENOMEM, "build reply", NULL, NULL, "out of memory");
			goto out;
		}
		res->ok.n_libraries++;
	}
	res->ok.image_size = meta.size;
	res->ok.has_uncompressed_size = 1;
	res->ok.uncompressed_size = meta.uncompressed;
	res->ok.has_file_count = 1;
	res->ok.file_count = meta.file_count;
	res->ok.has_tier = 1;
	res->ok.tier = tier;
	res->ok.has_compression = 1;
	res->ok.compression = compression;
	res->ok.has_build_us = 1;
	res->ok.build_us = ktstr_now_us() - t0;
	res->ok.has_sandboxed = 1;
	res->ok.sandboxed = b->sandboxed;
	ret = 0;
out:
	plan_free(&p);
	if (ret)
		builder_result_free(res);
	return ret;
}

static int server_reply_error(int sock, const struct berr *e)
{
	Ktstr__BuilderReply rep = KTSTR__BUILDER_REPLY__INIT;
	Ktstr__Error err = KTSTR__ERROR__INIT;

	err.what = (char *)e->what;
	err.where = e->where[0] ? (char *)e->where : NULL;
	err.why = (char *)e->why;
	err.hint = e->hint[0] ? (char *)e->hint : NULL;
	err.has_errno_value = 1;
	err.errno_value = e->errnum;
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
		struct berr e = { 0 };
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
			berr_set(&e, -ret, "decode BuilderRequest", NULL,
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
			berr_set(&e, EINVAL, "decode BuilderRequest", NULL,
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
			berr_format(&e, msg, sizeof(msg));
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
