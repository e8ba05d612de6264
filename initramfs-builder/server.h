/* The builder's request handling: BuildRequest -> (BuildOk + sealed memfd)
 * or Error, and the frame loop on the control socket. */
#ifndef KTSTR_BUILDER_SERVER_H
#define KTSTR_BUILDER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <ktstr/error.h>
#include "builder.pb-c.h"
#include "imgcache.h"

struct builder_stats {
	uint64_t fp_hits;	/* served through a fingerprint, no input read */
	uint64_t fp_stale;	/* a fingerprint existed but an input changed */
	uint64_t hashed;	/* inputs read and hashed (plan_from_request) */
	uint64_t fp_stored;	/* fingerprint records written */
};

struct builder {
	struct imgcache cache;
	/* Set by main once sandbox_confine succeeded; every BuildOk reports
	 * it, so a run with --insecure-no-sandbox is visible in results. */
	bool sandboxed;
	bool landlock;	/* Landlock enforced (builder_confine) */
	/* Inputs changed less than this before a build finished keep it from
	 * storing a fingerprint (FP_RACY_NS; tests lower it). */
	int64_t fp_racy_ns;
	struct builder_stats stats;
};

/* cache_dir NULL = from the environment, "" = memory only. */
int builder_init(struct builder *b, const char *cache_dir);
void builder_free(struct builder *b);

/* Result of one build. ok's strings and libraries are owned by the result
 * (builder_result_free). fd is the image memfd, owned by the builder's
 * memory cache: send or dup it, never close it. */
struct builder_result {
	Ktstr__BuildOk ok;
	int fd;
};

/* Handle one request. Returns 0 (res filled) or -errno with e filled. */
int builder_build(struct builder *b, const Ktstr__BuildRequest *req, struct builder_result *res,
		  struct ktstr_error *e);
void builder_result_free(struct builder_result *res);

/* Serve BuilderRequest frames on sock until the peer closes it. Returns 0
 * on orderly EOF, -errno on a broken connection. */
int builder_serve(struct builder *b, int sock);

#endif
