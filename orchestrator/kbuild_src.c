/* The identity of a kernel source tree, and the commands `kernel build`
 * runs (kbuild_src.h). */
#include "kbuild_src.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/sha256.h>
#include <ktstr/spawn.h>
#include <ktstr/strv.h>
#include <ktstr/util.h>

#include "pathjoin.h"
#include "proc_run.h"
#include "stop.h"

#define LINE_MAX_BYTES 4096u
#define RUN_OUT_MAX (16u << 20)

/* The invoking user's variables a compiler, make or git may need; nothing
 * else of the caller's environment reaches them (CC, CFLAGS and the like
 * would change the kernel without changing its cache key: such settings
 * go through --make-arg, which is part of the key). */
static const char *const pass_env[] = {
	"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "SSH_AUTH_SOCK",
	"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
};

static int find_in_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char *dup, *save = NULL;
	int ret = -ENOENT;

	if (strchr(name, '/')) {
		snprintf(buf, len, "%s", name);
		return access(buf, X_OK) ? -errno : 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	if (!(dup = strdup(path)))
		return -ENOMEM;
	for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (*d != '/')
			continue; /* a relative PATH entry would depend on our cwd */
		if (snprintf(buf, len, "%s/%s", d, name) < (int)len && !access(buf, X_OK)) {
			ret = 0;
			break;
		}
	}
	free(dup);
	return ret;
}

static void flush_line(struct strbuf *line, kbuild_line_fn on_line, void *ctx)
{
	if (on_line)
		on_line(ctx, line->buf ? line->buf : "", line->len);
	line->len = 0;
}

/* Split what a command printed into lines for on_line. */
static int feed(const char *buf, size_t n, struct strbuf *line, kbuild_line_fn on_line,
		void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (sb_append(line, "", 1))
				return -ENOMEM;
			line->len--;
			flush_line(line, on_line, ctx);
		} else if (line->len < LINE_MAX_BYTES && sb_append(line, &buf[i], 1)) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* Where kbuild_run's output goes: whole into out, or line by line. */
struct run_sink {
	struct strbuf *out;
	struct strbuf *line;
	kbuild_line_fn on_line;
	void *ctx;
};

static int run_sink(void *ctx, const char *buf, size_t n)
{
	struct run_sink *rs = ctx;

	if (rs->out)
		return rs->out->len + n > RUN_OUT_MAX ? -EFBIG : sb_append(rs->out, buf, n);
	return feed(buf, n, rs->line, rs->on_line, rs->ctx);
}

int kbuild_run(char *const argv[], int timeout_ms, kbuild_line_fn on_line, void *ctx,
	       struct strbuf *out)
{
	struct strv env = { 0 };
	struct strbuf line = { 0 };
	char path[PATH_MAX];
	int pfd[2] = { -1, -1 }, status = 0, ret;
	uint64_t deadline = ktstr_now_ms() + (uint64_t)timeout_ms;
	pid_t pid = -1;

	if ((ret = find_in_path(argv[0], path, sizeof(path))))
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(pass_env); i++) {
		const char *v = getenv(pass_env[i]);

		if (v && (ret = strv_pushf(&env, "%s=%s", pass_env[i], v)))
			goto out;
	}
	if ((ret = strv_push(&env, "LC_ALL=C")) || (ret = strv_push(&env, "GIT_TERMINAL_PROMPT=0")))
		goto out;
	if (pipe2(pfd, O_CLOEXEC)) {
		ret = -errno;
		goto out;
	}
	{
		struct spawn_opts so = { .env = env.v, .stdin_fd = -1, .stdout_fd = pfd[1],
					 .stderr_fd = pfd[1], .new_pgrp = 1,
					 .pdeathsig = SIGKILL };

		ret = ktstr_spawn(path, argv, &so, &pid);
	}
	close(pfd[1]);
	pfd[1] = -1;
	if (ret)
		goto out;
	stop_watch_child(pid, true); /* a stop ends the whole build at once */
	{
		struct run_sink rs = { .out = on_line ? NULL : out, .line = &line,
				       .on_line = on_line, .ctx = ctx };

		ret = proc_drain(pfd[0], deadline, true, run_sink, &rs);
	}
	if (line.len)
		flush_line(&line, on_line, ctx);
	if (!ret) {
		/* The pipe closed: the tool is done, or has only daemons left. */
		int64_t left = (int64_t)(deadline - ktstr_now_ms());

		ret = ktstr_wait_timeout(pid, &status, left > 0 ? (int)left : 1);
	}
	if (ret) {
		kill(-pid, SIGKILL);
		ktstr_wait_timeout(pid, &status, 5000);
	} else {
		kill(-pid, SIGKILL); /* nothing of the group outlives it */
	}
	stop_watch_child(0, false);
	if (!ret)
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (out && out->buf && !sb_append(out, "", 1))
		out->len--;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	sb_free(&line);
	strv_free(&env);
	return ret;
}

/* ---- the content hash of a tree ------------------------------------------------------ */

struct walk {
	struct sha256 h;
	uint64_t files, bytes;
	char *err;
	size_t errlen;
	int rootfd;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One record per entry: a type byte, the path (NUL-terminated), then what
 * the type says: a file's executable bit, size and content; a link's
 * target. Lengths are explicit, so two trees cannot hash alike by moving
 * bytes between a name and a content. */
static int hash_file(struct walk *w, int fd, const char *rel, const struct stat *st)
{
	static uint8_t buf[1 << 16];
	uint64_t size = (uint64_t)st->st_size, got = 0;
	uint8_t hdr[9];

	w->bytes += size;
	if (w->bytes > KBUILD_TREE_BYTES_MAX) {
		snprintf(w->err, w->errlen, "the tree holds more than %llu GiB",
			 (unsigned long long)(KBUILD_TREE_BYTES_MAX >> 30));
		return -E2BIG;
	}
	sha256_update(&w->h, "f", 1);
	sha256_update(&w->h, rel, strlen(rel) + 1);
	hdr[0] = (st->st_mode & 0111) ? 1 : 0;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(size >> (8 * i));
	sha256_update(&w->h, hdr, sizeof(hdr));
	while (got < size) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(w->err, w->errlen, "%s changed while it was read", rel);
			return n < 0 ? -errno : -EAGAIN;
		}
		if ((uint64_t)n > size - got)
			n = (ssize_t)(size - got);
		sha256_update(&w->h, buf, (size_t)n);
		got += (uint64_t)n;
	}
	return 0;
}

static int walk_dir(struct walk *w, int dfd, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (depth > KBUILD_TREE_DEPTH_MAX) {
		snprintf(w->err, w->errlen, "%s: directories nest deeper than %d", rel,
			 KBUILD_TREE_DEPTH_MAX);
		close(dfd);
		return -E2BIG;
	}
	if (!(d = fdopendir(dfd))) {
		ret = -errno;
		close(dfd);
		return ret;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((ret = ktstr_grow((void **)&names, &cap, n + 1, sizeof(*names), 64)))
			goto out;
		if (!(names[n] = strdup(de->d_name))) {
			ret = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !ret; i++) {
		char sub[PATH_MAX];
		struct stat st;

		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]) >=
		    (int)sizeof(sub)) {
			ret = -ENAMETOOLONG;
			break;
		}
		if (++w->files > KBUILD_TREE_FILES_MAX) {
			snprintf(w->err, w->errlen, "the tree holds more than %u entries",
				 KBUILD_TREE_FILES_MAX);
			ret = -E2BIG;
			break;
		}
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW)) {
			ret = -errno;
			snprintf(w->err, w->errlen, "%s: %s", sub, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
								    O_CLOEXEC);

			if (fd < 0) {
				ret = -errno;
				snprintf(w->err, w->errlen, "%s: %s", sub, strerror(errno));
				break;
			}
			sha256_update(&w->h, "d", 1);
			sha256_update(&w->h, sub, strlen(sub) + 1);
			ret = walk_dir(w, fd, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			int fd = openat(dirfd(d), names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0) {
				ret = -errno;
				snprintf(w->err, w->errlen, "%s: %s", sub, strerror(errno));
				break;
			}
			ret = hash_file(w, fd, sub, &st);
			close(fd);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t tl = readlinkat(dirfd(d), names[i], target, sizeof(target));

			if (tl < 0 || (size_t)tl >= sizeof(target)) {
				ret = tl < 0 ? -errno : -ENAMETOOLONG;
				snprintf(w->err, w->errlen, "%s: unreadable link", sub);
				break;
			}
			sha256_update(&w->h, "l", 1);
			sha256_update(&w->h, sub, strlen(sub) + 1);
			sha256_update(&w->h, target, (size_t)tl);
			sha256_update(&w->h, "", 1);
		} else {
			snprintf(w->err, w->errlen, "%s is neither a file, a directory nor a link "
						    "(a socket or device in a source tree?)", sub);
			ret = -EINVAL;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

int kbuild_tree_hash(const char *dir, char hex[65], char *err, size_t errlen)
{
	struct walk w = { .err = err, .errlen = errlen };
	uint8_t dg[SHA256_LEN];
	int fd, ret;

	err[0] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return ret;
	}
	sha256_init(&w.h);
	sha256_update(&w.h, "ktstr-tree-1", 13);
	ret = walk_dir(&w, fd, "", 0);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	sha256_final(&w.h, dg);
	sha256_hex(dg, hex);
	return 0;
}

/* ---- git ------------------------------------------------------------------------------ */

/* git's one-line answer into buf (trailing newline cut). */
static int git_line(char *const argv[], char *buf, size_t len)
{
	struct strbuf out = { 0 };
	int ret = kbuild_run(argv, 60 * 1000, NULL, NULL, &out);

	if (ret > 0)
		ret = -EINVAL;
	if (!ret) {
		size_t l = out.len;

		while (l && (out.buf[l - 1] == '\n' || out.buf[l - 1] == '\r'))
			l--;
		if (l >= len || memchr(out.buf, '\n', l))
			ret = -EINVAL;
		else
			snprintf(buf, len, "%.*s", (int)l, out.buf);
	}
	sb_free(&out);
	return ret;
}

static bool is_hex40(const char *s)
{
	size_t n = strlen(s);

	if (n != 40 && n != 64) /* SHA-1 or SHA-256 object names */
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Whether dir is the top of a git work tree, and its identity if so. */
static int git_ident(const char *dir, struct kbuild_src *s, bool *is_git)
{
	char top[PATH_MAX], commit[80];
	char *a_top[] = { "git", "-C", (char *)dir, "rev-parse", "--show-toplevel", NULL };
	char *a_head[] = { "git", "-C", (char *)dir, "rev-parse", "--verify", "HEAD", NULL };
	char *a_st[] = { "git", "-C", (char *)dir, "status", "--porcelain=v1",
			 "--untracked-files=normal", NULL };
	struct strbuf st = { 0 };
	int ret;

	*is_git = false;
	if (git_line(a_top, top, sizeof(top)) || strcmp(top, dir))
		return 0; /* no git, not a work tree, or dir is inside a larger one */
	if ((ret = git_line(a_head, commit, sizeof(commit))) || !is_hex40(commit))
		return 0; /* a repository without a commit is a plain tree */
	ret = kbuild_run(a_st, 10 * 60 * 1000, NULL, NULL, &st);
	if (ret) {
		sb_free(&st);
		return ret > 0 ? -EIO : ret;
	}
	*is_git = true;
	snprintf(s->ident, sizeof(s->ident), "git:%s", commit);
	s->dirty_count = 0;
	for (size_t i = 0; i < st.len; i++)
		if (st.buf[i] == '\n')
			s->dirty_count++;
	s->dirty = s->dirty_count > 0;
	sb_free(&st);
	return 0;
}

int kbuild_src_dir(const char *dir, struct kbuild_src *s, char *err, size_t errlen)
{
	char hex[65];
	struct stat st;
	bool is_git;
	int ret;

	if (!realpath(dir, s->dir)) {
		ret = -errno;
		snprintf(err, errlen, "--source %s: %s", dir, strerror(errno));
		return ret;
	}
	if (stat(s->dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--source %s is not a directory (a kernel source tree)", dir);
		return -ENOTDIR;
	}
	if ((ret = git_ident(s->dir, s, &is_git))) {
		snprintf(err, errlen, "--source %s: git status failed: %s", dir, strerror(-ret));
		return ret;
	}
	if (is_git)
		return 0;
	if ((ret = kbuild_tree_hash(s->dir, hex, err, errlen)))
		return ret;
	snprintf(s->ident, sizeof(s->ident), "tree:%s", hex);
	s->dirty = false;
	return 0;
}

bool kbuild_url_ok(const char *url)
{
	static const char *const schemes[] = { "https://", "http://", "git://", "ssh://",
					       "file://" };
	size_t n = strlen(url);
	bool ok = url[0] == '/';

	if (!n || n > KBUILD_URL_MAX || url[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(schemes) && !ok; i++)
		ok = !strncmp(url, schemes[i], strlen(schemes[i])) && n > strlen(schemes[i]);
	return ok;
}

bool kbuild_ref_ok(const char *ref)
{
	size_t n = strlen(ref);

	if (!n || n > KBUILD_REF_MAX || ref[0] == '-' || ref[0] == '/' || strstr(ref, "..") ||
	    ref[n - 1] == '/' || ref[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = ref[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return false;
	}
	return true;
}

int kbuild_src_git(const char *url, const char *ref, const char *clonedir,
		   struct kbuild_src *s, char *err, size_t errlen)
{
	char commit[80];
	/* Only the transports kbuild_url_ok admits: no remote helper (ext::
	 * runs a command) even through a redirect or a submodule. */
	char *a_init[] = { "git", "init", "-q", (char *)clonedir, NULL };
	char *a_fetch[] = { "git", "-C", (char *)clonedir, "-c", "protocol.allow=never",
			    "-c", "protocol.https.allow=always", "-c", "protocol.http.allow=always",
			    "-c", "protocol.git.allow=always", "-c", "protocol.ssh.allow=always",
			    "-c", "protocol.file.allow=always", "fetch", "-q", "--depth", "1",
			    "--no-tags", (char *)url, (char *)ref, NULL };
	char *a_co[] = { "git", "-C", (char *)clonedir, "checkout", "-q", "--force", "--detach",
			 "FETCH_HEAD", NULL };
	char *a_clean[] = { "git", "-C", (char *)clonedir, "clean", "-q", "-f", "-d", "-x", NULL };
	char *a_rev[] = { "git", "-C", (char *)clonedir, "rev-parse", "--verify", "HEAD", NULL };
	char gitdir[PATH_MAX];
	struct strbuf out = { 0 };
	int ret;

	if (!kbuild_url_ok(url)) {
		snprintf(err, errlen, "--git '%.200s': not a URL ktstr fetches (https://, http://, "
				      "git://, ssh://, file:// or an absolute path; no spaces)", url);
		return -EINVAL;
	}
	if (!kbuild_ref_ok(ref)) {
		snprintf(err, errlen, "--ref '%.200s': not a branch, tag or commit name (letters, "
				      "digits, '.', '_', '-', '/')", ref);
		return -EINVAL;
	}
	if (path_join(gitdir, sizeof(gitdir), clonedir, ".git", NULL))
		return -ENAMETOOLONG;
	if (access(gitdir, F_OK)) {
		ret = kbuild_run(a_init, 60 * 1000, NULL, NULL, &out);
		if (ret) {
			snprintf(err, errlen, "git init %s failed (%d): %.300s", clonedir, ret,
				 out.buf ? out.buf : "");
			goto out;
		}
	}
	out.len = 0;
	ret = kbuild_run(a_fetch, KBUILD_FETCH_TIMEOUT_MS, NULL, NULL, &out);
	if (ret) {
		snprintf(err, errlen, "git fetch %s %s %s: %.400s", url, ref,
			 ret == -ETIMEDOUT ? "timed out after 30 min" : "failed",
			 out.buf ? out.buf : "");
		ret = ret > 0 ? -EIO : ret;
		goto out;
	}
	out.len = 0;
	if ((ret = kbuild_run(a_co, 10 * 60 * 1000, NULL, NULL, &out)) ||
	    (ret = kbuild_run(a_clean, 10 * 60 * 1000, NULL, NULL, &out)) ||
	    (ret = git_line(a_rev, commit, sizeof(commit)))) {
		snprintf(err, errlen, "checking out %s of %s in %s failed: %.300s", ref, url,
			 clonedir, out.buf ? out.buf : "");
		ret = ret > 0 ? -EIO : ret;
		goto out;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", clonedir);
	snprintf(s->ident, sizeof(s->ident), "git:%s", commit);
	snprintf(s->git_url, sizeof(s->git_url), "%s", url);
	snprintf(s->git_ref, sizeof(s->git_ref), "%s", ref);
	s->dirty = false;
	s->dirty_count = 0;
out:
	sb_free(&out);
	return ret;
}
