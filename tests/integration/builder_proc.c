/* ktstr-initramfs-builder as a process, driven through the orchestrator's
 * builder_client: replies carry sealed memfds, errors arrive as precise
 * messages, racing builders leave one valid cache entry, EOF ends it; the
 * builder serves confined (seccomp, no capabilities, own namespaces, only its
 * socket, cache dir and image memfds open) and its policy keeps writes below
 * the cache dir fd. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktstr/frame.h"
#include "ktstr/spawn.h"
#include "ktstr/util.h"

#include "builder_client.h"
#include "sandbox.h"

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

/* ---- confinement ------------------------------------------------------------
 * The builder confines itself (SANDBOX_ROLE_BUILDER) before its first
 * request. These tests look at the real process from outside while it
 * serves, and run the same policy in test children to show what a confined
 * builder can and cannot do with its cache dir fd. */

/* Value of "key:\t..." in /proc/<pid>/status, trimmed, into out. */
static void proc_status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *v;

		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		for (v = line + klen + 1; *v == ' ' || *v == '\t'; v++)
			;
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, len, "%s", v);
		break;
	}
	fclose(f);
	cr_assert(out[0], "%s has no %s: line", path, key);
}

static void assert_ns_differs(pid_t pid, const char *ns)
{
	char a[64], b[64], la[128] = "", lb[128] = "";

	snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, ns);
	snprintf(b, sizeof(b), "/proc/self/ns/%s", ns);
	cr_assert_gt(readlink(a, la, sizeof(la) - 1), 0, "readlink %s: %s", a, strerror(errno));
	cr_assert_gt(readlink(b, lb, sizeof(lb) - 1), 0, "readlink %s: %s", b, strerror(errno));
	cr_assert_str_neq(la, lb, "builder must be in its own %s namespace (%s)", ns, la);
}

Test(builder_proc, confined_while_serving)
{
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	Ktstr__FileSpec fs = KTSTR__FILE_SPEC__INIT, *fsp = &fs;
	char *d = tmpdir(), cache[PATH_MAX], images[PATH_MAX + 16], input[PATH_MAX], err[1024];
	char v[128], path[64], link[PATH_MAX];
	struct builder_client bc;
	struct builder_image img;
	int memfds = 0, cachefd = 0;
	struct dirent *de;
	DIR *dir;

	snprintf(cache, sizeof(cache), "%s/c", d);
	/* An input file of the test's own, outside any system directory: the
	 * confined builder still reads files it is named by path. */
	snprintf(input, sizeof(input), "%s/ktstr.conf", d);
	{
		FILE *f = fopen(input, "we");

		cr_assert_not_null(f);
		fputs("readable input\n", f);
		fclose(f);
	}
	start(&bc, cache);
	req.init_path = "/bin/ls";
	fs.host_path = input;
	fs.guest_path = "/etc/ktstr.conf";
	req.files = &fsp;
	req.n_files = 1;
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img, err, sizeof(err)), 0, "%s", err);
	cr_assert(img.ok->has_sandboxed && img.ok->sandboxed, "BuildOk must say sandboxed=true");

	/* The builder is now idle in recvmsg on fd 3, serving. */
	proc_status_field(bc.pid, "Seccomp", v, sizeof(v));
	cr_assert_str_eq(v, "2", "Seccomp must be 2 (filter mode), is %s", v);
	proc_status_field(bc.pid, "NoNewPrivs", v, sizeof(v));
	cr_assert_str_eq(v, "1", "NoNewPrivs must be 1, is %s", v);
	proc_status_field(bc.pid, "CapEff", v, sizeof(v));
	cr_assert_str_eq(v, "0000000000000000", "CapEff must be empty, is %s", v);
	proc_status_field(bc.pid, "CapPrm", v, sizeof(v));
	cr_assert_str_eq(v, "0000000000000000", "CapPrm must be empty, is %s", v);
	proc_status_field(bc.pid, "CapBnd", v, sizeof(v));
	cr_assert_str_eq(v, "0000000000000000", "CapBnd must be empty, is %s", v);
	assert_ns_differs(bc.pid, "user");
	assert_ns_differs(bc.pid, "net");
	assert_ns_differs(bc.pid, "ipc");
	assert_ns_differs(bc.pid, "uts");

	/* fds: 0-2, the control socket, the cache dir, and image memfds (the
	 * memory tier keeps each built image open). Nothing else. */
	snprintf(images, sizeof(images), "%s/images", cache);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)bc.pid);
	dir = opendir(path);
	cr_assert_not_null(dir, "opendir %s: %s", path, strerror(errno));
	while ((de = readdir(dir))) {
		char fdpath[64 + 256];
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		cr_assert_gt(n, 0, "readlink %s: %s", fdpath, strerror(errno));
		link[n] = '\0';
		if (fd <= 2)
			continue;
		if (fd == 3) {
			cr_assert(!strncmp(link, "socket:", 7), "fd 3 must be the control socket: %s",
				  link);
		} else if (!strcmp(link, images)) {
			cachefd++;
		} else if (!strncmp(link, "/memfd:ktstr-initramfs", 22)) {
			memfds++;
		} else {
			cr_assert_fail("builder holds an unexpected fd %d -> %s", fd, link);
		}
	}
	closedir(dir);
	cr_assert_eq(cachefd, 1, "exactly one cache dir fd (%s)", images);
	cr_assert_eq(memfds, 1, "one cached image memfd, found %d", memfds);

	/* Still serving after the look from outside. */
	builder_image_free(&img);
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(img.ok->tier, KTSTR__CACHE_TIER__CACHE_MEMORY);
	builder_image_free(&img);
	cr_assert_eq(builder_client_stop(&bc), 0, "confined builder must exit 0 on EOF");
	rmtree(d);
	free(d);
}

Test(builder_proc, insecure_no_sandbox_is_reported)
{
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	struct builder_client_opts o = { 0 };
	char *d = tmpdir(), cache[PATH_MAX], path[PATH_MAX], err[1024], v[128];
	struct builder_client bc;
	struct builder_image img;

	snprintf(cache, sizeof(cache), "%s/c", d);
	builder_path(path, sizeof(path));
	o.builder_path = path;
	o.cache_dir = cache;
	o.stderr_fd = -1;	/* the loud warning is expected here */
	o.insecure_no_sandbox = true;
	cr_assert_eq(builder_client_start(&bc, &o, err, sizeof(err)), 0, "%s", err);
	req.init_path = "/bin/ls";
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img, err, sizeof(err)), 0, "%s", err);
	cr_assert(img.ok->has_sandboxed, "BuildOk must carry sandboxed");
	cr_assert(!img.ok->sandboxed, "an unconfined builder must say sandboxed=false");
	proc_status_field(bc.pid, "Seccomp", v, sizeof(v));
	cr_assert_str_eq(v, "0", "--insecure-no-sandbox runs without a filter, Seccomp is %s", v);
	builder_image_free(&img);
	cr_assert_eq(builder_client_stop(&bc), 0);
	rmtree(d);
	free(d);
}

/* What a confined builder may do to the file system, tried in a test child
 * confined exactly as main.c confines the builder (same role, namespaces,
 * TSYNC, cache dir fd). Each attempt runs in its own child; a forbidden one
 * must be killed by SIGSYS and leave nothing behind. */
enum fs_try {
	TRY_READ_INPUT,		/* open + read a host file by path, read-only */
	TRY_CACHE_PUBLISH,	/* openat/write/fsync/renameat/unlinkat below the dirfd */
	TRY_OPEN_CREAT_PATH,	/* open("/outside", O_CREAT|O_WRONLY) */
	TRY_OPENAT_CWD_WRONLY,	/* openat(AT_FDCWD, existing outside file, O_WRONLY) */
	TRY_OPENAT_OTHER_DIRFD,	/* openat(another dir fd, "x", O_CREAT) */
	TRY_RENAMEAT_OUT,	/* renameat(dirfd, entry, AT_FDCWD, "/outside") */
	TRY_RENAME_PATH,	/* rename("/a", "/b") */
	TRY_UNLINKAT_CWD,	/* unlinkat(AT_FDCWD, "/outside/file") */
	TRY_UNLINK_PATH,	/* unlink("/outside/file") */
	TRY_MKDIRAT_CWD,	/* mkdirat(AT_FDCWD, "/outside/dir") */
	TRY_TRUNCATE_PATH,	/* truncate("/outside/file", 0) */
	TRY_SYMLINK,		/* symlinkat into the cache dir pointing out */
	TRY_EXECVE,		/* execve("/bin/true") */
	TRY_SOCKET,		/* socket(AF_INET, SOCK_STREAM) */
	TRY_CONNECT,		/* connect() on an inherited socket */
};

struct fs_env {
	int cachefd, otherfd, sockfd;
	char victim[PATH_MAX];	/* an existing file outside the cache */
	char outside[PATH_MAX];	/* a name outside the cache that must stay absent */
};

static void fs_try_run(const struct fs_env *env, enum fs_try t)
{
	static char *const argv[] = { "/bin/true", NULL };
	char buf[16];
	int fd;

	switch (t) {
	case TRY_READ_INPUT:
		fd = open("/bin/ls", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || read(fd, buf, 4) != 4 || memcmp(buf, "\177ELF", 4))
			_exit(3);
		close(fd);
		fd = open(env->victim, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, buf, 1) != 1)
			_exit(4);
		close(fd);
		_exit(0);
	case TRY_CACHE_PUBLISH:
		fd = openat(env->cachefd, "entry.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
			    O_NOFOLLOW, 0644);
		if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) || close(fd))
			_exit(3);
		if (renameat(env->cachefd, "entry.tmp", env->cachefd, "entry"))
			_exit(4);
		fd = openat(env->cachefd, "gone", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || close(fd) || unlinkat(env->cachefd, "gone", 0))
			_exit(5);
		_exit(0);
	case TRY_OPEN_CREAT_PATH:
		open(env->outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		break;
	case TRY_OPENAT_CWD_WRONLY:
		openat(AT_FDCWD, env->victim, O_WRONLY | O_TRUNC | O_CLOEXEC);
		break;
	case TRY_OPENAT_OTHER_DIRFD:
		openat(env->otherfd, "x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		break;
	case TRY_RENAMEAT_OUT:
		renameat(env->cachefd, "entry", AT_FDCWD, env->outside);
		break;
	case TRY_RENAME_PATH:
		rename(env->victim, env->outside);
		break;
	case TRY_UNLINKAT_CWD:
		unlinkat(AT_FDCWD, env->victim, 0);
		break;
	case TRY_UNLINK_PATH:
		unlink(env->victim);
		break;
	case TRY_MKDIRAT_CWD:
		mkdirat(AT_FDCWD, env->outside, 0755);
		break;
	case TRY_TRUNCATE_PATH:
		if (truncate(env->victim, 0)) {}
		break;
	case TRY_SYMLINK:
		symlinkat(env->outside, env->cachefd, "link");
		break;
	case TRY_EXECVE:
		execve(argv[0], argv, NULL);
		break;
	case TRY_SOCKET:
		socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	case TRY_CONNECT: {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/ktstr-no-such.sock");
		connect(env->sockfd, (struct sockaddr *)&sa, sizeof(sa));
		break;
	}
	}
	_exit(2);	/* the call returned: the policy let it through */
}

/* Fork, confine as the builder does, try t; the child's wait status. */
static int fs_try_status(const struct fs_env *env, enum fs_try t)
{
	struct sandbox_opts o;
	char err[1024];
	int status = 0;
	pid_t pid;

	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		sandbox_opts_init(&o);
		o.cache_dirfd = env->cachefd;
		o.ns_flags = SANDBOX_NS_USER | SANDBOX_NS_NET | SANDBOX_NS_IPC | SANDBOX_NS_UTS;
		o.policy_flags = SANDBOX_POLICY_TSYNC;
		if (sandbox_confine(SANDBOX_ROLE_BUILDER, &o, err, sizeof(err))) {
			fprintf(stderr, "test child: %s\n", err);
			_exit(1);
		}
		fs_try_run(env, t);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

Test(builder_proc, policy_confines_writes_to_the_cache_dir)
{
	static const struct { enum fs_try t; const char *name; } killed[] = {
		{ TRY_OPEN_CREAT_PATH, "open(O_CREAT) by path" },
		{ TRY_OPENAT_CWD_WRONLY, "openat(AT_FDCWD, O_WRONLY)" },
		{ TRY_OPENAT_OTHER_DIRFD, "openat(other dir fd, O_CREAT)" },
		{ TRY_RENAMEAT_OUT, "renameat out of the cache dir" },
		{ TRY_RENAME_PATH, "rename by path" },
		{ TRY_UNLINKAT_CWD, "unlinkat(AT_FDCWD)" },
		{ TRY_UNLINK_PATH, "unlink by path" },
		{ TRY_MKDIRAT_CWD, "mkdirat(AT_FDCWD)" },
		{ TRY_TRUNCATE_PATH, "truncate by path" },
		{ TRY_SYMLINK, "symlinkat into the cache dir" },
		{ TRY_EXECVE, "execve" },
		{ TRY_SOCKET, "socket" },
		{ TRY_CONNECT, "connect" },
	};
	char *d = tmpdir(), cache[PATH_MAX], other[PATH_MAX], entry[PATH_MAX + 16];
	struct fs_env env;
	struct stat st;
	int sv[2], status;
	size_t i;

	snprintf(cache, sizeof(cache), "%s/cache", d);
	snprintf(other, sizeof(other), "%s/other", d);
	cr_assert_eq(mkdir(cache, 0755), 0);
	cr_assert_eq(mkdir(other, 0755), 0);
	snprintf(env.victim, sizeof(env.victim), "%s/victim", d);
	snprintf(env.outside, sizeof(env.outside), "%s/outside", d);
	{
		FILE *f = fopen(env.victim, "we");

		cr_assert_not_null(f);
		fputs("must survive\n", f);
		fclose(f);
	}
	env.cachefd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	env.otherfd = open(other, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(env.cachefd, 0);
	cr_assert_geq(env.otherfd, 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	env.sockfd = sv[0];

	/* What the builder needs still works under the policy. */
	status = fs_try_status(&env, TRY_READ_INPUT);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "confined child must read host files by path (status 0x%x)", status);
	status = fs_try_status(&env, TRY_CACHE_PUBLISH);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "confined child must publish an entry below the cache dir fd (status 0x%x)",
		  status);
	snprintf(entry, sizeof(entry), "%s/entry", cache);
	cr_assert_eq(stat(entry, &st), 0, "the published entry must exist: %s", entry);

	/* Everything that would write elsewhere is killed, and did nothing. */
	for (i = 0; i < ARRAY_SIZE(killed); i++) {
		status = fs_try_status(&env, killed[i].t);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
			  "%s must be killed by the builder policy (status 0x%x)", killed[i].name,
			  status);
	}
	cr_assert_eq(stat(env.victim, &st), 0, "victim must survive");
	cr_assert_gt(st.st_size, 0, "victim must not be truncated");
	cr_assert_neq(stat(env.outside, &st), 0, "nothing may appear at %s", env.outside);
	snprintf(entry, sizeof(entry), "%s/x", other);
	cr_assert_neq(stat(entry, &st), 0, "nothing may appear in another directory");
	snprintf(entry, sizeof(entry), "%s/link", cache);
	cr_assert_neq(lstat(entry, &st), 0, "no symlink may appear in the cache dir");
	snprintf(entry, sizeof(entry), "%s/entry", cache);
	cr_assert_eq(stat(entry, &st), 0, "the entry stays in the cache dir");

	close(sv[0]);
	close(sv[1]);
	close(env.cachefd);
	close(env.otherfd);
	rmtree(d);
	free(d);
}

/* Fail closed: a builder handed an fd it did not expect refuses to start
 * (before reading any request) and names the fd; with --insecure-no-sandbox
 * the same start is only a warning. */
static int spawn_with_extra_fd(const char *flag, char *log, size_t loglen)
{
	char path[PATH_MAX], full[PATH_MAX + 32], *d = tmpdir();
	char *argv[] = { "ktstr-initramfs-builder", (char *)flag, NULL };
	char *envp[] = { full, NULL };
	struct spawn_opts so = { 0 };
	int sv[2], errp[2], keep[2], status = -1;
	ssize_t n;
	size_t used = 0;
	pid_t pid;

	builder_path(path, sizeof(path));
	snprintf(full, sizeof(full), "KTSTR_CACHE_DIR=%s/c", d);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pipe2(errp, O_CLOEXEC), 0);
	keep[0] = sv[1];
	keep[1] = open("/etc/hostname", O_RDONLY | O_CLOEXEC);	/* becomes fd 4 */
	cr_assert_geq(keep[1], 0);
	so.keep = keep;
	so.nkeep = 2;
	so.env = envp;
	so.stdin_fd = -1;
	so.stdout_fd = -1;
	so.stderr_fd = errp[1];
	cr_assert_eq(ktstr_spawn(path, argv, &so, &pid), 0);
	close(sv[1]);
	close(keep[1]);
	close(errp[1]);
	close(sv[0]);	/* EOF: an insecure builder that got going exits 0 */
	while (used + 1 < loglen && (n = read(errp[0], log + used, loglen - used - 1)) > 0)
		used += (size_t)n;
	log[used] = '\0';
	close(errp[0]);
	cr_assert_eq(ktstr_wait_timeout(pid, &status, 10000), 0);
	rmtree(d);
	free(d);
	return status;
}

Test(builder_proc, unexpected_fd_fails_closed)
{
	char log[4096];
	int status;

	status = spawn_with_extra_fd(NULL, log, sizeof(log));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		  "a builder with a stray fd must refuse to start (status 0x%x): %s", status, log);
	cr_assert(strstr(log, "fd 4"), "the message must name the fd: %s", log);
	cr_assert(strstr(log, "/etc/hostname"), "and what it points to: %s", log);
	status = spawn_with_extra_fd("--insecure-no-sandbox", log, sizeof(log));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "--insecure-no-sandbox only warns (status 0x%x): %s", status, log);
	cr_assert(strstr(log, "UNCONFINED"), "and says it runs unconfined: %s", log);
}
