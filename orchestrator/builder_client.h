/* The orchestrator's side of ktstr-initramfs-builder: spawn it once per run,
 * send BuildRequests, get back a sealed memfd per image. Every wait is
 * bounded; a builder that dies, hangs or answers garbage is stopped and the
 * call fails with a message that says which and what to do. */
#ifndef KTSTR_ORCH_BUILDER_CLIENT_H
#define KTSTR_ORCH_BUILDER_CLIENT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "builder.pb-c.h"
#include "cache_owner.h"

/* Long enough for a cold LZ4 build of a large closure plus waiting for
 * another builder that holds the same cache key (the builder gives up that
 * wait after 120 s and builds itself). */
#define BUILDER_CLIENT_TIMEOUT_MS 300000
#define BUILDER_CLIENT_STOP_MS 5000
/* Seals every image memfd must carry before it is handed to a VM. */
#define BUILDER_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

struct builder_client {
	pid_t pid;	/* -1 = not running */
	int sock;	/* our end of the control socket; owned, -1 = none */
};

struct builder_client_opts {
	/* NULL = $KTSTR_INITRAMFS_BUILDER, else ktstr-initramfs-builder
	 * beside the running executable. */
	const char *builder_path;
	/* Builder's stderr (its log): 0 or -2 = inherit, -1 = /dev/null, else fd. */
	int stderr_fd;
	/* Image cache directory; NULL = the builder picks it from
	 * KTSTR_CACHE_DIR / XDG_CACHE_HOME / HOME (passed through). */
	const char *cache_dir;
	/* Explicit insecure opt-out: start the builder with
	 * --insecure-no-sandbox, so it runs unconfined on a host that cannot
	 * confine it (it refuses to start otherwise). Default false; every
	 * BuildOk then carries sandboxed=false, and callers must report it. */
	bool insecure_no_sandbox;
	/* Root only (cache_owner.h): start the builder as this account and
	 * give it cache_dirfd (borrowed; the caller closes it) as its image
	 * cache. NULL = same ids as this process, cache found by path. */
	const struct cache_owner *owner;
	int cache_dirfd;
};

struct builder_image {
	int fd;			/* sealed memfd; owned, closed by builder_image_free.
				 * Read it with mmap or pread: its offset is shared
				 * with every other holder of the image. */
	const Ktstr__BuildOk *ok; /* reply details; owned via reply_ */
	Ktstr__BuilderReply *reply_;
};

/* Spawn the builder. err (errlen bytes) receives a message on failure.
 * Returns 0 or -errno. */
int builder_client_start(struct builder_client *bc, const struct builder_client_opts *opts,
			 char *err, size_t errlen);

/* Build one image. timeout_ms <= 0 = BUILDER_CLIENT_TIMEOUT_MS. When
 * req->ld_library_path is NULL, this process's LD_LIBRARY_PATH is sent.
 * Returns 0 (img filled; free with builder_image_free) or -errno with err
 * set: a BuilderReply.error arrives as "initramfs builder: what: where:
 * why (hint)" and the builder stays usable; a timeout, a dead builder or a
 * bad reply stops the builder (start it again to retry). */
int builder_client_build(struct builder_client *bc, const Ktstr__BuildRequest *req,
			 int timeout_ms, struct builder_image *img, char *err, size_t errlen);

/* Close the socket (the builder exits on EOF), reap it within
 * BUILDER_CLIENT_STOP_MS, SIGKILL otherwise. Returns 0 if it exited 0. */
int builder_client_stop(struct builder_client *bc);

void builder_image_free(struct builder_image *img);

#endif
