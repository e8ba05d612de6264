#include "cache_owner.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "builder_client.h"
#include "kernel_cache.h"

/* "UID" or "UID:GID", decimal, each below 2^32 - 1 ((uid_t)-1 means "no
 * change" to setresuid). Returns true when spec is numeric. */
static bool parse_ids(const char *spec, uid_t *uid, gid_t *gid, bool *ok)
{
	char *end;
	unsigned long u, g;

	*ok = false;
	if (*spec < '0' || *spec > '9')
		return false;
	errno = 0;
	u = strtoul(spec, &end, 10);
	g = u;
	if (*end == ':') {
		const char *gs = end + 1;

		if (*gs < '0' || *gs > '9')
			return true;
		g = strtoul(gs, &end, 10);
	}
	if (errno || *end || u >= 0xffffffffUL || g >= 0xffffffffUL)
		return true;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	*ok = true;
	return true;
}

static int lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) || !res)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int cache_owner_resolve(const struct privdrop_opts *o, struct cache_owner *out, char *err,
			size_t errlen)
{
	const char *spec = o->cache_user ? o->cache_user : CACHE_OWNER_ACCOUNT;
	const char *run = privdrop_target(o);
	uid_t run_uid;
	gid_t run_gid;
	bool numeric, ok;

	memset(out, 0, sizeof(*out));
	if (!run) {
		if (!o->cache_user)
			return 0;
		snprintf(err, errlen, "--cache-user %s: only a root ktstr-orch that drops its "
			 "privileges can start the builder as another account (run as root without "
			 "--no-drop-privileges, or leave --cache-user out)", o->cache_user);
		return -EINVAL;
	}
	numeric = parse_ids(spec, &out->uid, &out->gid, &ok);
	if (numeric && !ok) {
		snprintf(err, errlen, "--cache-user %s: expected an account name or UID[:GID] "
			 "(decimal, below 4294967295)", spec);
		return -EINVAL;
	}
	if (!numeric && lookup(spec, &out->uid, &out->gid)) {
		if (!o->cache_user)
			return 0; /* no such account: the caller warns that ids are shared */
		snprintf(err, errlen, "--cache-user %s: no such account (create one, e.g. "
			 "`useradd --system --no-create-home --shell /usr/sbin/nologin %s`, or "
			 "give a numeric UID[:GID])", spec, spec);
		return -ENOENT;
	}
	if (out->uid == 0 || out->gid == 0) {
		snprintf(err, errlen, "--cache-user %s: the image cache's owner must not be root "
			 "(uid/gid 0): the builder parses untrusted scheduler binaries", spec);
		return -EINVAL;
	}
	if (!lookup(run, &run_uid, &run_gid) && run_uid == out->uid) {
		snprintf(err, errlen, "--cache-user %s is uid %u, the uid VM workers run as "
			 "(--user %s): they must differ, or a VM's code could rewrite the cached "
			 "images other VMs boot", spec, (unsigned)run_uid, run);
		return -EINVAL;
	}
	snprintf(out->name, sizeof(out->name), "%s", spec);
	out->set = true;
	return 0;
}

int cache_owner_open_images(const struct cache_owner *co, int *dirfd, char *path, size_t pathlen,
			    char *err, size_t errlen)
{
	char base[PATH_MAX];
	struct stat st;
	bool made = false;
	int bfd = -1, fd = -1, ret;

	*dirfd = -1;
	ret = ktstr_cache_base(base, sizeof(base));
	if (ret) {
		snprintf(err, errlen, "image cache: no KTSTR_CACHE_DIR, XDG_CACHE_HOME or HOME "
			 "(set KTSTR_CACHE_DIR)");
		return ret;
	}
	if (snprintf(path, pathlen, "%s/images", base) >= (int)pathlen) {
		snprintf(err, errlen, "image cache: %s/images is too long a path (set KTSTR_CACHE_DIR)",
			 base);
		return -ENAMETOOLONG;
	}
	ret = mkdir_p(base, 0755);
	if (ret) {
		snprintf(err, errlen, "image cache: cannot create %s: %s (set KTSTR_CACHE_DIR)",
			 base, strerror(-ret));
		return ret;
	}
	bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		goto err_errno;
	if (!mkdirat(bfd, "images", 0700))
		made = true;
	else if (errno != EEXIST)
		goto err_errno;
	/* O_NOFOLLOW: a link planted as images/ is refused, not followed. */
	fd = openat(bfd, "images", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		goto err_errno;
	/* What we made must be what we opened: root's and private. Anyone
	 * who can write the parent could swap in a directory of their own
	 * between the mkdir and the open (not a link: O_NOFOLLOW); root must
	 * not hand that, and what was planted in it, to the owner. */
	if (made && (st.st_uid != 0 || (st.st_mode & 0077))) {
		snprintf(err, errlen, "image cache %s changed between its creation and its opening "
			 "(now uid %u, mode %03o): someone else can write %s; make it root's "
			 "(chmod go-w) or set KTSTR_CACHE_DIR elsewhere",
			 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777), base);
		ret = -EPERM;
		goto err;
	}
	if (made && (fchown(fd, co->uid, co->gid) || fchmod(fd, 0700)))
		goto err_errno;
	/* The owner's, and nobody else may write it (a legacy cache chown'd
	 * by hand may still be group- or world-writable). */
	if (!made && st.st_uid == co->uid && (st.st_mode & 0022)) {
		snprintf(err, errlen, "image cache %s is writable by others (mode %03o): anyone "
			 "who could write it may have planted images; remove it (ktstr rebuilds it) "
			 "or chmod go-w it after checking its contents",
			 path, (unsigned)(st.st_mode & 0777));
		ret = -EPERM;
		goto err;
	}
	if (!made && st.st_uid != co->uid) {
		snprintf(err, errlen,
			 "image cache %s belongs to uid %u, not to the cache owner %s (uid %u): "
			 "images in it may have been written by a VM's uid, so ktstr will not boot "
			 "them. Remove the directory (ktstr rebuilds it, owned by %s) or pass "
			 "--cache-user with its owner",
			 path, (unsigned)st.st_uid, co->name, (unsigned)co->uid, co->name);
		ret = -EPERM;
		goto err;
	}
	close(bfd);
	*dirfd = fd;
	return 0;
err_errno:
	ret = -errno;
	snprintf(err, errlen, "image cache %s: %s", path, strerror(errno));
err:
	if (fd >= 0)
		close(fd);
	if (bfd >= 0)
		close(bfd);
	return ret;
}

int cache_owner_as(const struct cache_owner *co, int (*check)(void *arg), void *arg)
{
	int ret, back;

	/* Root's supplementary groups (gid 0 among them) would answer for
	 * the owner; they go for good: ktstr-orch drops root right after. */
	if (setgroups(0, NULL) || setegid(co->gid) || seteuid(co->uid))
		ret = -errno;
	else
		ret = check(arg);
	back = seteuid(0) || setegid(0) ? -errno : 0;
	return back ? back : ret;
}

int cache_owner_start_builder(const struct cache_owner *co, bool insecure,
			      int (*check)(void *arg), void *arg, struct builder_client *bc,
			      char *err, size_t errlen)
{
	struct builder_client_opts bo = { .stderr_fd = -2, .insecure_no_sandbox = insecure,
					  .owner = co, .cache_dirfd = -1 };
	char dir[PATH_MAX];
	int ret;

	if (check) {
		err[0] = '\0';
		ret = cache_owner_as(co, check, arg);
		if (ret && !err[0])
			snprintf(err, errlen, "cannot take %s's ids to check what the builder reads: %s",
				 co->name, strerror(-ret));
		if (ret)
			return ret;
	}
	ret = cache_owner_open_images(co, &bo.cache_dirfd, dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	ret = builder_client_start(bc, &bo, err, errlen);
	close(bo.cache_dirfd);
	if (!ret)
		kinfo("image cache %s belongs to %s (uid %u); the builder runs as that account, "
		      "VM workers never do", dir, co->name, (unsigned)co->uid);
	return ret;
}
