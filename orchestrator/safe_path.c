#include "safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/* A link is trusted when nobody but root or the caller could have made it. */
static bool link_trusted(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/* The walk: a work buffer of components still to resolve, consumed from
 * the front; a trusted link's target is put in front of what remains. */
struct walk {
	char todo[PATH_MAX * 2];
	int dirfd;
	int links;
};

static int walk_start(struct walk *w, const char *path, char *err, size_t errlen)
{
	if (!*path) {
		snprintf(err, errlen, "empty path");
		return -ENOENT;
	}
	if (strlen(path) >= PATH_MAX) {
		snprintf(err, errlen, "path longer than %d bytes", PATH_MAX);
		return -ENAMETOOLONG;
	}
	snprintf(w->todo, sizeof(w->todo), "%s", path);
	w->links = 0;
	w->dirfd = open(path[0] == '/' ? "/" : ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (w->dirfd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path[0] == '/' ? "/" : "the working directory",
			 strerror(e));
		return -e;
	}
	return 0;
}

/* Take the next component off w->todo into comp ("" at the end). */
static void next_comp(struct walk *w, char *comp, size_t len)
{
	char *p = w->todo;
	size_t n;

	while (*p == '/')
		p++;
	n = strcspn(p, "/");
	snprintf(comp, len, "%.*s", (int)n, p);
	memmove(w->todo, p + n, strlen(p + n) + 1);
}

static bool more_comps(const struct walk *w)
{
	for (const char *p = w->todo; *p; p++)
		if (*p != '/')
			return true;
	return false;
}

/* comp is a link in w->dirfd: if trusted, splice its target in front of
 * what remains (an absolute target restarts from "/"). */
static int follow_link(struct walk *w, const char *comp, const struct stat *st, const char *path,
		       char *err, size_t errlen)
{
	char target[PATH_MAX], rest[sizeof(w->todo)];
	ssize_t n;

	if (!link_trusted(st)) {
		snprintf(err, errlen,
			 "%s: component '%s' is a symbolic link owned by uid %u, not by root or "
			 "this user (uid %u); ktstr-orch does not follow links another user could "
			 "have planted: give the path without it",
			 path, comp, (unsigned)st->st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (++w->links > SAFE_PATH_MAX_LINKS) {
		snprintf(err, errlen, "%s: more than %d symbolic links", path, SAFE_PATH_MAX_LINKS);
		return -ELOOP;
	}
	n = readlinkat(w->dirfd, comp, target, sizeof(target) - 1);
	if (n < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot read link '%s': %s", path, comp, strerror(e));
		return -e;
	}
	target[n] = '\0';
	snprintf(rest, sizeof(rest), "%s", w->todo);
	if ((size_t)snprintf(w->todo, sizeof(w->todo), "%s/%s", target, rest) >= sizeof(w->todo)) {
		snprintf(err, errlen, "%s: path too long after following '%s'", path, comp);
		return -ENAMETOOLONG;
	}
	if (target[0] == '/') {
		int fd = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		close(w->dirfd);
		w->dirfd = fd;
	}
	return 0;
}

/* Descend into comp, following trusted links. */
static int descend(struct walk *w, const char *comp, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = openat(w->dirfd, comp, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		close(w->dirfd);
		w->dirfd = fd;
		return 0;
	}
	if (errno != ELOOP && errno != ENOTDIR) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot open directory '%s': %s", path, comp, strerror(e));
		return -e;
	}
	if (fstatat(w->dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return follow_link(w, comp, &st, path, err, errlen);
	snprintf(err, errlen, "%s: '%s' is not a directory", path, comp);
	return -ENOTDIR;
}

/* Walk w to the directory holding the path's last component, which is
 * left in comp (never "", "." or ".."). 0 or -errno with err set; w->dirfd
 * stays owned by w either way. */
static int walk_to_last(struct walk *w, char *comp, size_t complen, const char *path, char *err,
			size_t errlen)
{
	for (;;) {
		int ret;

		next_comp(w, comp, complen);
		if (!comp[0] || (!more_comps(w) && (!strcmp(comp, ".") || !strcmp(comp, "..")))) {
			snprintf(err, errlen, "%s: names a directory, not a file", path);
			return -EISDIR;
		}
		if (!more_comps(w))
			return 0;
		ret = descend(w, comp, path, err, errlen);
		if (ret)
			return ret;
	}
}

int safe_open_parent(const char *path, char *name, size_t namelen, char *err, size_t errlen)
{
	struct walk w;
	char comp[NAME_MAX + 1];
	int ret;

	ret = walk_start(&w, path, err, errlen);
	if (ret)
		return ret;
	ret = walk_to_last(&w, comp, sizeof(comp), path, err, errlen);
	if (!ret && strlen(comp) >= namelen) {
		snprintf(err, errlen, "%s: file name too long", path);
		ret = -ENAMETOOLONG;
	}
	if (ret) {
		close(w.dirfd);
		return ret;
	}
	snprintf(name, namelen, "%s", comp);
	return w.dirfd;
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory"
	       : S_ISCHR(m) || S_ISBLK(m)	  ? "a device"
						  : "not a file";
}

int safe_open_regular(const char *path, char *err, size_t errlen)
{
	char comp[NAME_MAX + 1];
	struct walk w;
	struct stat st;
	int fd, ret, fl;

	ret = walk_start(&w, path, err, errlen);
	if (ret)
		return ret;
	for (;;) {
		ret = walk_to_last(&w, comp, sizeof(comp), path, err, errlen);
		if (ret)
			goto out;
		/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
		fd = openat(w.dirfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 || errno != ELOOP || fstatat(w.dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISLNK(st.st_mode))
			break;
		/* The last component is a link: followed by the same rules as
		 * the others (its target walked from its own directory). */
		ret = follow_link(&w, comp, &st, path, err, errlen);
		if (ret)
			goto out;
	}
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file (%s): give a file", path,
			 kind_of(st.st_mode));
		close(fd);
		ret = -EINVAL;
		goto out;
	}
	/* Back to blocking reads: a regular file never blocks anyway. */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	ret = fd;
out:
	close(w.dirfd);
	return ret;
}
