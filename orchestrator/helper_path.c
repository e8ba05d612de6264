/* The helpers' lookup and its safety check (helper_path.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/spawn.h>

#include "helper_path.h"

static const char *const helper_names[] = {
	"ktstr-vmm-worker", "ktstr-initramfs-builder", "ktstr-guest", "arm64/ktstr-guest",
};
/* Each helper's override (docs/environment.md), in enum order. */
static const char *const helper_env[] = {
	"KTSTR_VMM_WORKER", "KTSTR_INITRAMFS_BUILDER", "KTSTR_GUEST", "KTSTR_GUEST_ARM64",
};
_Static_assert(sizeof(helper_names) / sizeof(helper_names[0]) == HELPER_COUNT &&
		       sizeof(helper_env) / sizeof(helper_env[0]) == HELPER_COUNT,
	       "one name and one variable per helper");

const char *helper_name(enum helper h)
{
	return helper_names[h];
}

/* gid is uid's own group: same id as its primary group, same name, no
 * other member (Debian gives each user one; group-writable is then as
 * private as owner-writable). */
static bool private_group(uid_t uid, gid_t gid)
{
	char pbuf[4096], gbuf[8192];
	struct passwd pw, *pr = NULL;
	struct group gr, *gres = NULL;

	if (getpwuid_r(uid, &pw, pbuf, sizeof(pbuf), &pr) || !pr || pw.pw_gid != gid)
		return false;
	if (getgrgid_r(gid, &gr, gbuf, sizeof(gbuf), &gres) || !gres)
		return false;
	return !strcmp(gr.gr_name, pw.pw_name) && (!gr.gr_mem || !gr.gr_mem[0]);
}

/* One file or directory; 0 or -EPERM with err set. */
static int check_one(const char *path, const struct stat *st, char *err, size_t errlen)
{
	bool dir = S_ISDIR(st->st_mode);

	if (st->st_mode & S_IWOTH && !(dir && st->st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s is writable by every user (mode %04o)", path,
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if (st->st_mode & S_IWGRP && !(dir && st->st_mode & S_ISVTX) &&
	    !private_group(st->st_uid, st->st_gid)) {
		snprintf(err, errlen, "%s is writable by group %u, not only its owner (mode %04o)",
			 path, (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int helper_check_safe(const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX], *slash;
	struct stat st;
	int ret;

	/* The link itself first: whoever may swap it chooses the target. */
	if (lstat(path, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (!realpath(path, real)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (stat(real, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", real, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", real);
		return -EPERM;
	}
	ret = check_one(real, &st, err, errlen);
	/* Every directory above the target: a writable one lets its file be
	 * replaced, whatever the file's own mode. */
	while (!ret && (slash = strrchr(real, '/'))) {
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st)) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", real, strerror(errno));
			break;
		}
		ret = check_one(real, &st, err, errlen);
		if (!strcmp(real, "/"))
			break;
	}
	return ret;
}

int helper_path(enum helper h, char *buf, size_t len, char *err, size_t errlen)
{
	const char *name = helper_names[h], *env = helper_env[h];
	const char *e = getenv(helper_env[h]);
	char self[PATH_MAX], why[PATH_MAX + 128];
	int ret;

	if (e && *e) {
		if ((size_t)snprintf(buf, len, "%s", e) >= len) {
			snprintf(err, errlen, "$%s is too long", env);
			return -ENAMETOOLONG;
		}
	} else {
		ret = ktstr_self_dir(self, sizeof(self));
		if (ret) {
			snprintf(err, errlen, "cannot find ktstr-orch's directory (/proc/self/exe): %s",
				 strerror(-ret));
			return ret;
		}
		if ((size_t)snprintf(buf, len, "%s/%s", self, name) >= len)
			return -ENAMETOOLONG;
		if (access(buf, F_OK) &&
		    (size_t)snprintf(buf, len, "%s/" HELPER_LIBEXEC_REL "/%s", self, name) >= len)
			return -ENAMETOOLONG;
		if (access(buf, F_OK)) {
			snprintf(err, errlen,
				 "%s is neither beside ktstr-orch (%s) nor in %s/" HELPER_LIBEXEC_REL
				 ": build it (make), install it (make install) or set %s",
				 name, self, self, env);
			return -ENOENT;
		}
	}
	ret = helper_check_safe(buf, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "refusing helper %s%s%s: %s; make it writable by its owner only%s",
			 buf, e && *e ? " from $" : "", e && *e ? env : "", why,
			 ret == -EPERM ? " (chmod go-w), or a directory above it sticky" : "");
		return ret;
	}
	kdbg("helper %s: %s", name, buf);
	return 0;
}
