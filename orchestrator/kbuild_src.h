/* The identity of a kernel source tree for `kernel build`'s cache key
 * (docs/kernels.md, "kernel build"), and the commands it runs (make, git)
 * as the invoking user with a bounded wait.
 *
 *  - a git work tree (DIR is its top level): "git:<commit>", dirty when
 *    `git status --porcelain` lists anything (tracked changes or untracked
 *    files that .gitignore does not hide): such a tree is built but its
 *    kernel is not cached, since the commit does not name its content;
 *  - any other directory: "tree:<sha256>" over every file's path, mode
 *    (executable or not), size and content, and every link's target, in
 *    sorted order; never dirty, since the content is the key;
 *  - --git URL --ref REF: fetched (depth 1) into a private clone in the
 *    cache, "git:<commit>" of what REF named, never dirty. */
#ifndef KTSTR_ORCH_KBUILD_SRC_H
#define KTSTR_ORCH_KBUILD_SRC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/util.h>

/* Bounds of a tree walked for its content hash (a kernel tree: ~90k
 * files, 1.8 GB). */
#define KBUILD_TREE_FILES_MAX 1000000u
#define KBUILD_TREE_BYTES_MAX (32ull << 30)
#define KBUILD_TREE_DEPTH_MAX 64
#define KBUILD_URL_MAX 1024u
#define KBUILD_REF_MAX 255u
/* A git fetch of one commit at depth 1 (~250 MB for a kernel). */
#define KBUILD_FETCH_TIMEOUT_MS (30 * 60 * 1000)

struct kbuild_src {
	char dir[PATH_MAX];	/* the tree make reads (absolute) */
	char ident[96];		/* "git:<40 or 64 hex>" or "tree:<64 hex>" */
	bool dirty;
	unsigned dirty_count;	/* lines of git status */
	char git_url[KBUILD_URL_MAX + 1]; /* --git only */
	char git_ref[KBUILD_REF_MAX + 1];
};

/* What a command prints, line by line (without the newline; long lines
 * are cut at 4 KiB). */
typedef void (*kbuild_line_fn)(void *ctx, const char *line, size_t len);

/* Run argv[0] (looked up in the invoking user's PATH) with the caller's
 * PATH, HOME, USER, LOGNAME, TMPDIR, SSH_AUTH_SOCK and proxy variables,
 * LC_ALL=C and GIT_TERMINAL_PROMPT=0, in its own process group, stdin
 * /dev/null, stdout and stderr merged into on_line (NULL: into out, when
 * not NULL, else discarded). The group is killed at timeout_ms or on a
 * stop signal. Returns the exit status (0..255, 128+signal), -ETIMEDOUT,
 * -EINTR (stopped), -ENOENT (no such tool) or -errno. */
int kbuild_run(char *const argv[], int timeout_ms, kbuild_line_fn on_line, void *ctx,
	       struct strbuf *out);

/* Identity of the tree at dir (see above). Returns 0, -ENOENT/-ENOTDIR
 * (err says), -E2BIG (a bound of the tree walk) or -errno. */
int kbuild_src_dir(const char *dir, struct kbuild_src *s, char *err, size_t errlen);

/* Whether url may be fetched: https://, http://, git://, ssh:// or
 * file:// (never a remote helper such as ext::, which runs commands), or
 * an absolute path; no whitespace, control byte or leading '-'. */
bool kbuild_url_ok(const char *url);
/* Whether ref may name a branch, tag or commit: letters, digits, '.', '_',
 * '-', '/', not starting with '-' or '/', no "..". */
bool kbuild_ref_ok(const char *ref);

/* Fetch ref of url into the clone at clonedir (created when missing) and
 * check it out: s->dir = clonedir. Returns 0 or -errno with err. */
int kbuild_src_git(const char *url, const char *ref, const char *clonedir,
		   struct kbuild_src *s, char *err, size_t errlen);

/* Content hash of the tree at dir ("tree:" identity), exposed for tests.
 * Returns 0 with hex (65 bytes) or -errno with err. */
int kbuild_tree_hash(const char *dir, char hex[65], char *err, size_t errlen);

#endif
