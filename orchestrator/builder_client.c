#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktstr/error.h"
#include "ktstr/frame.h"
#include "ktstr/log.h"
#include "ktstr/spawn.h"
#include "builder_client.h"
#include "ktstr/imgcache_fd.h"
#include "ktstr/util.h"
#include "helper_path.h"
#include "stop.h"

#define BUILDER_BIN "ktstr-initramfs-builder"
/* Replies are small (key, sizes, library list); the image rides as an fd. */
#define BUILDER_REPLY_CAP (1u << 20)

static const char *const builder_env_pass[] = {
	"KTSTR_CACHE_DIR", "XDG_CACHE_HOME", "HOME", "KTSTR_LOG",
};

int builder_client_start(struct builder_client *bc, const struct builder_client_opts *opts,
			 char *err, size_t errlen)
{
	static const struct builder_client_opts defaults = {
		.builder_path = NULL, .stderr_fd = -2, .cache_dir = NULL,
		.insecure_no_sandbox = false, .owner = NULL,
	};
	char path[PATH_MAX], envbuf[8][PATH_MAX + 32], *envp[9];
	int keep[2];
	struct spawn_opts so = { 0 };
	char *argv[] = { BUILDER_BIN, NULL, NULL };
	int sv[2], ret, nenv = 0;
	size_t i;

	bc->pid = -1;
	bc->sock = -1;
	if (!opts)
		opts = &defaults;
	if (opts->insecure_no_sandbox)
		argv[1] = "--insecure-no-sandbox";
	if (opts->builder_path) {
		snprintf(path, sizeof(path), "%s", opts->builder_path);
	} else {
		char why[PATH_MAX + 512];

		/* The one helper lookup (helper_path.h), safety check included. */
		ret = helper_path(HELPER_BUILDER, path, sizeof(path), why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "initramfs builder: %s", why);
			return ret;
		}
	}
	/* The builder gets a clean environment: only what selects its cache
	 * and log level. */
	if (opts->cache_dir) {
		snprintf(envbuf[nenv], sizeof(envbuf[0]), "KTSTR_CACHE_DIR=%s", opts->cache_dir);
		envp[nenv] = envbuf[nenv];
		nenv++;
	}
	for (i = 0; i < ARRAY_SIZE(builder_env_pass); i++) {
		const char *v = getenv(builder_env_pass[i]);

		if (!v || (opts->cache_dir && !strcmp(builder_env_pass[i], "KTSTR_CACHE_DIR")))
			continue;
		if (snprintf(envbuf[nenv], sizeof(envbuf[0]), "%s=%s", builder_env_pass[i], v) >=
		    (int)sizeof(envbuf[0]))
			continue;	/* absurdly long value: leave it out */
		envp[nenv] = envbuf[nenv];
		nenv++;
	}
	if (opts->owner && opts->owner->set) {
		if (opts->cache_dirfd >= 0) {
			/* fd 3 is the socket, fd 4 the cache directory
			 * (ktstr_spawn numbers the kept fds from 3). */
			snprintf(envbuf[nenv], sizeof(envbuf[0]), "%s=4", KTSTR_CACHE_FD_ENV);
			envp[nenv] = envbuf[nenv];
			nenv++;
		}
		so.set_ids = 1;
		so.uid = opts->owner->uid;
		so.gid = opts->owner->gid;
	}
	envp[nenv] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		snprintf(err, errlen, "initramfs builder: socketpair: %s", strerror(errno));
		return ret;
	}
	keep[0] = sv[1];
	keep[1] = opts->owner && opts->owner->set ? opts->cache_dirfd : -1;
	/* One more entry than builder_env_pass plus KTSTR_CACHE_DIR. */
	_Static_assert(ARRAY_SIZE(envbuf) >=
			       ARRAY_SIZE(builder_env_pass) + 2,
		       "room for every builder variable");
	so.keep = keep;
	so.nkeep = keep[1] >= 0 ? 2 : 1;
	so.env = envp;
	so.stdin_fd = -1;
	so.stdout_fd = -1;
	so.stderr_fd = opts->stderr_fd == 0 ? -2 : opts->stderr_fd;
	so.pdeathsig = SIGKILL;	/* never outlive the orchestrator */
	ret = ktstr_spawn(path, argv, &so, &bc->pid);
	close(sv[1]);
	if (ret) {
		close(sv[0]);
		bc->pid = -1;
		snprintf(err, errlen, "initramfs builder: cannot run %s: %s (build it with "
			 "`make`, or set KTSTR_INITRAMFS_BUILDER)", path, strerror(-ret));
		return ret;
	}
	bc->sock = sv[0];
	/* A stop signal kills the builder, so a build in progress ends now.
	 * One started as the cache owner cannot be signalled once this
	 * process has dropped root (nor by its parent-death signal, which the
	 * kernel checks against our ids): the socket is shut down too, so the
	 * wait for its reply ends at once, and the builder exits at its next
	 * read of the socket, after the build in progress (docs/security.md,
	 * "Known limits"). */
	stop_watch_child(bc->pid, false);
	stop_watch_sock(bc->sock);
	return 0;
}

int builder_client_stop(struct builder_client *bc)
{
	int status = 0, ret;

	stop_watch_sock(-1);
	if (bc->sock >= 0)
		close(bc->sock);
	bc->sock = -1;
	stop_watch_child(0, false);
	if (bc->pid <= 0)
		return 0;
	ret = ktstr_wait_timeout(bc->pid, &status, BUILDER_CLIENT_STOP_MS);
	if (ret == -ETIMEDOUT) {
		if (kill(bc->pid, SIGKILL) && errno == EPERM)
			kwarn("initramfs builder %d (the cache owner's) did not exit within %d ms and "
			      "cannot be signalled from here; it exits when its build ends",
			      (int)bc->pid, BUILDER_CLIENT_STOP_MS);
		ret = ktstr_wait_timeout(bc->pid, &status, BUILDER_CLIENT_STOP_MS);
		if (!ret)
			ret = -ETIMEDOUT;
	}
	bc->pid = -1;
	if (ret)
		return ret;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

void builder_image_free(struct builder_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	if (img->reply_)
		protobuf_c_message_free_unpacked(&img->reply_->base, NULL);
	memset(img, 0, sizeof(*img));
	img->fd = -1;
}

/* Transport failure: the stream can no longer be trusted, so stop the
 * builder and describe what happened. */
static int builder_broken(struct builder_client *bc, int ret, const char *what, char *err,
			  size_t errlen)
{
	const char *hint = ret == -ETIMEDOUT ?
		"the build took too long; look for a stuck file system or raise the timeout" :
		"see the builder's log above; start it again to retry";

	snprintf(err, errlen, "initramfs builder: %s: %s (%s)", what, strerror(-ret), hint);
	if (bc->pid > 0)
		kill(bc->pid, SIGKILL);
	builder_client_stop(bc);
	return ret;
}

int builder_client_build(struct builder_client *bc, const Ktstr__BuildRequest *req,
			 int timeout_ms, struct builder_image *img, char *err, size_t errlen)
{
	Ktstr__BuilderRequest msg = KTSTR__BUILDER_REQUEST__INIT;
	Ktstr__BuildRequest copy = *req;
	Ktstr__BuilderReply *rep = NULL;
	int fds[KTSTR_FRAME_MAX_FDS];
	size_t nfds = 0, i;
	struct stat st;
	int ret, seals;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	if (bc->sock < 0) {
		snprintf(err, errlen, "initramfs builder: not running (start it first)");
		return -ENOTCONN;
	}
	if (timeout_ms <= 0)
		timeout_ms = BUILDER_CLIENT_TIMEOUT_MS;
	if (!copy.ld_library_path && getenv("LD_LIBRARY_PATH"))
		copy.ld_library_path = getenv("LD_LIBRARY_PATH");
	msg.req_case = KTSTR__BUILDER_REQUEST__REQ_BUILD;
	msg.build = &copy;
	ret = frame_send(bc->sock, &msg.base, NULL, 0);
	if (ret)
		return builder_broken(bc, ret, "send BuildRequest", err, errlen);
	ret = frame_recv_msg(bc->sock, &ktstr__builder_reply__descriptor, BUILDER_REPLY_CAP,
			     (ProtobufCMessage **)&rep, fds, KTSTR_FRAME_MAX_FDS, &nfds,
			     timeout_ms);
	if (ret == -EPIPE)
		return builder_broken(bc, ret, "builder exited before replying", err, errlen);
	if (ret)
		return builder_broken(bc, ret, "receive BuilderReply", err, errlen);

	if (rep->rep_case == KTSTR__BUILDER_REPLY__REP_ERROR) {
		struct ktstr_error e;
		char text[sizeof(e.what) + sizeof(e.where) + sizeof(e.why) + sizeof(e.hint) + 16];

		ktstr_error_from_pb(rep->error, "build failed", &e);
		ktstr_error_format(&e, text, sizeof(text));
		snprintf(err, errlen, "initramfs builder: %s", text);
		ret = -e.errnum;
		goto err_free;
	}
	if (rep->rep_case != KTSTR__BUILDER_REPLY__REP_OK || nfds != 1) {
		ret = builder_broken(bc, -EPROTO, nfds != 1 ?
				     "reply does not carry exactly one image fd" :
				     "reply is neither ok nor error", err, errlen);
		goto err_free;
	}
	/* Trust but verify: the image must be immutable and as long as
	 * announced, or a VM could boot from bytes that change under it. */
	seals = fcntl(fds[0], F_GET_SEALS);
	if (seals < 0 || (seals & BUILDER_SEALS) != BUILDER_SEALS || fstat(fds[0], &st) ||
	    (uint64_t)st.st_size != rep->ok->image_size) {
		ret = builder_broken(bc, -EPROTO, "image fd is not a sealed memfd of the announced "
				     "size", err, errlen);
		goto err_free;
	}
	img->fd = fds[0];
	img->ok = rep->ok;
	img->reply_ = rep;
	return 0;
err_free:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return ret;
}
