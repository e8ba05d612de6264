/* ktstr-initramfs-builder as a process, driven through the orchestrator's
 * builder_client: replies carry sealed memfds, errors arrive as precise
 * messages, racing builders leave one valid cache entry, EOF ends it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/frame.h"
#include "ktstr/spawn.h"

#include "builder_client.h"

static void builder_path(char *out, size_t len)
{
	char dir[PATH_MAX];

	cr_assert_eq(ktstr_self_dir(dir, sizeof(dir)), 0);
	cr_assert_lt((size_t)snprintf(out, len, "%.3900s/../bin/ktstr-initramfs-builder", dir), len);
	cr_assert_eq(access(out, X_OK), 0, "%s not built", out);
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/ktstr-ib-integ-XXXXXX");

	cr_assert(d && mkdtemp(d));
	return d;
}

static void rmtree(const char *d)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
}

static void start(struct builder_client *bc, const char *cache)
{
	struct builder_client_opts o = { 0 };
	char path[PATH_MAX], err[1024];

	builder_path(path, sizeof(path));
	o.builder_path = path;
	o.cache_dir = cache;
	o.stderr_fd = -2;
	cr_assert_eq(builder_client_start(bc, &o, err, sizeof(err)), 0, "%s", err);
}

Test(builder_proc, build_error_and_exit)
{
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	struct builder_client bc;
	struct builder_image img, img2;
	char *d = tmpdir(), cache[PATH_MAX], err[1024];
	struct stat st;
	int seals;

	snprintf(cache, sizeof(cache), "%s/c", d);
	start(&bc, cache);
	req.init_path = "/bin/ls";
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(img.ok->tier, KTSTR__CACHE_TIER__CACHE_BUILT);
	seals = fcntl(img.fd, F_GET_SEALS);
	cr_assert_eq(seals & BUILDER_SEALS, BUILDER_SEALS, "image must arrive sealed");
	cr_assert_eq(fstat(img.fd, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, img.ok->image_size);
	cr_assert_gt(img.ok->n_libraries, 1);

	/* Same request again: served from the builder's memory. */
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(img2.ok->tier, KTSTR__CACHE_TIER__CACHE_MEMORY);
	cr_assert_str_eq(img.ok->key, img2.ok->key);
	builder_image_free(&img2);

	/* A bad request is an error reply; the builder stays usable. */
	req.init_path = "/no/such/init";
	cr_assert_lt(builder_client_build(&bc, &req, 0, &img2, err, sizeof(err)), 0);
	cr_assert(strstr(err, "/no/such/init"), "error must name the file: %s", err);
	cr_assert(strstr(err, "No such file"), "error must say why: %s", err);
	req.init_path = "/bin/ls";
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img2, err, sizeof(err)), 0, "%s", err);
	builder_image_free(&img2);

	/* EOF on the socket ends the builder with status 0. */
	cr_assert_eq(builder_client_stop(&bc), 0);
	/* The image outlives the builder. */
	cr_assert_eq(fstat(img.fd, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, img.ok->image_size);
	builder_image_free(&img);
	rmtree(d);
	free(d);
}

Test(builder_proc, racing_builders_leave_one_valid_entry)
{
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	Ktstr__BuilderRequest msg = KTSTR__BUILDER_REQUEST__INIT;
	struct builder_client a, b;
	struct builder_image ia, ib;
	char *d = tmpdir(), cache[PATH_MAX], err[1024];
	struct dirent *de;
	int imgs = 0, tmps = 0, built, disk;
	DIR *dir;

	snprintf(cache, sizeof(cache), "%s/c", d);
	start(&a, cache);
	start(&b, cache);
	/* A large closure so both builders really overlap. */
	req.init_path = access("/usr/bin/qemu-system-x86_64", R_OK) ?
			"/bin/ls" : "/usr/bin/qemu-system-x86_64";
	msg.req_case = KTSTR__BUILDER_REQUEST__REQ_BUILD;
	msg.build = &req;
	/* Send both requests before reading either reply. */
	cr_assert_eq(frame_send(a.sock, &msg.base, NULL, 0), 0);
	cr_assert_eq(frame_send(b.sock, &msg.base, NULL, 0), 0);
	memset(&ia, 0, sizeof(ia));
	memset(&ib, 0, sizeof(ib));
	{
		Ktstr__BuilderReply *ra = NULL, *rb = NULL;
		int fa[8], fb[8];
		size_t na = 0, nb = 0;

		cr_assert_eq(frame_recv_msg(a.sock, &ktstr__builder_reply__descriptor, 1 << 20,
					    (ProtobufCMessage **)&ra, fa, 8, &na, 300000), 0);
		cr_assert_eq(frame_recv_msg(b.sock, &ktstr__builder_reply__descriptor, 1 << 20,
					    (ProtobufCMessage **)&rb, fb, 8, &nb, 300000), 0);
		cr_assert_eq(ra->rep_case, KTSTR__BUILDER_REPLY__REP_OK);
		cr_assert_eq(rb->rep_case, KTSTR__BUILDER_REPLY__REP_OK);
		cr_assert_str_eq(ra->ok->key, rb->ok->key);
		built = (ra->ok->tier == KTSTR__CACHE_TIER__CACHE_BUILT) +
			(rb->ok->tier == KTSTR__CACHE_TIER__CACHE_BUILT);
		disk = (ra->ok->tier == KTSTR__CACHE_TIER__CACHE_DISK) +
		       (rb->ok->tier == KTSTR__CACHE_TIER__CACHE_DISK);
		cr_assert_eq(built, 1, "exactly one builder builds (got %d)", built);
		cr_assert_eq(disk, 1, "the other waits and reads the entry (got %d)", disk);
		close(fa[0]);
		close(fb[0]);
		protobuf_c_message_free_unpacked(&ra->base, NULL);
		protobuf_c_message_free_unpacked(&rb->base, NULL);
	}
	cr_assert_eq(builder_client_stop(&a), 0);
	cr_assert_eq(builder_client_stop(&b), 0);
	/* KTSTR_CACHE_DIR=<cache> puts images in <cache>/images. */
	strcat(cache, "/images");
	dir = opendir(cache);
	cr_assert_not_null(dir);
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".img"))
			imgs++;
		if (strstr(de->d_name, ".tmp."))
			tmps++;
	}
	closedir(dir);
	cr_assert_eq(imgs, 1, "one entry on disk, found %d", imgs);
	cr_assert_eq(tmps, 0, "no temp files left behind");
	/* And that entry is valid: a third builder serves it from disk. */
	cache[strlen(cache) - strlen("/images")] = '\0';
	start(&a, cache);
	cr_assert_eq(builder_client_build(&a, &req, 0, &ia, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ia.ok->tier, KTSTR__CACHE_TIER__CACHE_DISK);
	builder_image_free(&ia);
	cr_assert_eq(builder_client_stop(&a), 0);
	(void)ib;
	rmtree(d);
	free(d);
}

Test(builder_proc, missing_binary_is_a_clear_error)
{
	struct builder_client_opts o = { 0 };
	struct builder_client bc;
	char err[1024];

	o.builder_path = "/nonexistent/ktstr-initramfs-builder";
	cr_assert_lt(builder_client_start(&bc, &o, err, sizeof(err)), 0);
	cr_assert(strstr(err, "/nonexistent/ktstr-initramfs-builder"), "%s", err);
}
