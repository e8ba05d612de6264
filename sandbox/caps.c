/* Capabilities, no_new_privs and the root -> user drop. Each function leaves
 * the process strictly less privileged or fails; none can raise anything. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "sandbox.h"

static int cap_kept(cap_value_t c, const cap_value_t *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == c)
			return 1;
	return 0;
}

static int have_effective(cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t cur = cap_get_proc();

	if (!cur)
		return 0;
	if (cap_get_flag(cur, c, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(cur);
	return v == CAP_SET;
}

/* The bounding set limits what any later exec could gain (root's implicit
 * full set included). Dropping needs CAP_SETPCAP. Without it (an unprivileged
 * caller) nothing can be gained from the bounding set anyway once
 * no_new_privs is set, which sandbox_confine does next; a root caller
 * without CAP_SETPCAP is an inconsistent state and fails. */
static int drop_bounding(const cap_value_t *keep, size_t n)
{
	bool setpcap = have_effective(CAP_SETPCAP);

	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		if (cap_kept(c, keep, n) || cap_get_bound(c) != 1)
			continue;
		if (!setpcap) {
			if (geteuid() == 0)
				return -EPERM;
			continue;
		}
		if (cap_drop_bound(c) < 0)
			return -errno;
	}
	return 0;
}

int sandbox_drop_caps(const cap_value_t *keep, size_t n)
{
	cap_t caps;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (keep[i] < 0 || keep[i] >= (cap_value_t)cap_max_bits())
			return -EINVAL;
	ret = drop_bounding(keep, n);
	if (ret < 0)
		return ret;
	/* Ambient caps survive exec of unprivileged binaries: clear them all
	 * (a kept capability is never meant to outlive this image). */
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;

	caps = cap_init(); /* all clear */
	if (!caps)
		return -ENOMEM;
	if (n && (cap_set_flag(caps, CAP_PERMITTED, (int)n, keep, CAP_SET) < 0 ||
		  cap_set_flag(caps, CAP_EFFECTIVE, (int)n, keep, CAP_SET) < 0)) {
		ret = -errno;
		goto err_free;
	}
	if (cap_set_proc(caps) < 0) {
		ret = -errno; /* EPERM: a kept cap was not permitted */
		goto err_free;
	}
	cap_free(caps);

	/* Verify: what the kernel now reports is exactly what we asked. */
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++)
		if (have_effective(c) != cap_kept(c, keep, n))
			return -EPERM;
	return 0;

err_free:
	cap_free(caps);
	return ret;
}

int sandbox_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	return 0;
}

int sandbox_drop_to_user(const char *user, char *err, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t r, e, s;
	int ret;

	if (geteuid() != 0)
		return 0;
	ret = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (ret || !res) {
		snprintf(err, len, "sandbox: cannot drop root: user '%s' %s; create it or pass "
			 "--user with an existing unprivileged account",
			 user, ret ? strerror(ret) : "does not exist");
		return ret ? -ret : -ENOENT;
	}
	if (pw.pw_uid == 0) {
		snprintf(err, len, "sandbox: refusing to 'drop' root to '%s': it is uid 0", user);
		return -EINVAL;
	}
	/* Groups first: after setresuid we could no longer change them. The
	 * user's own supplementary groups (/etc/group), as a login or `sudo -u`
	 * gives them: membership of `kvm` is how /dev/kvm is usually granted.
	 * Root's groups are never kept. */
	if (initgroups(pw.pw_name, pw.pw_gid) < 0 ||
	    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0 ||
	    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0) {
		ret = -errno;
		snprintf(err, len, "sandbox: switching to user '%s' (uid %u gid %u) failed: %s", user,
			 (unsigned)pw.pw_uid, (unsigned)pw.pw_gid, strerror(-ret));
		return ret;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
		ret = -errno;
		snprintf(err, len, "sandbox: clearing PR_SET_KEEPCAPS failed: %s", strerror(-ret));
		return ret;
	}
	/* Prove the drop is irreversible. */
	if (getresuid(&r, &e, &s) < 0 || r != pw.pw_uid || e != pw.pw_uid || s != pw.pw_uid ||
	    setuid(0) == 0) {
		snprintf(err, len, "sandbox: dropping root to '%s' did not stick (uid could be regained)",
			 user);
		return -EPERM;
	}
	return 0;
}
