#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/log.h>

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !*s)
		return -ENOENT;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out == 0 ? -EINVAL : 0;
}

int orch_drop_privileges(void)
{
	unsigned long uid, gid;

	if (geteuid() == 0 && !parse_id(getenv("SUDO_UID"), &uid) &&
	    !parse_id(getenv("SUDO_GID"), &gid)) {
		gid_t g = (gid_t)gid;

		/* Order matters: groups and gid while still root, uid last. */
		if (setgroups(1, &g) || setresgid(g, g, g) || setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid)) {
			int e = -errno;

			kerr("cannot drop root to the sudo user %lu:%lu: %s; refusing to run as root "
			     "half-dropped", uid, gid, strerror(-e));
			return e;
		}
		if (setuid(0) == 0) {
			kerr("privilege drop did not stick (setuid(0) succeeded after dropping)");
			return -EPERM;
		}
		kdbg("dropped root to sudo user %lu:%lu", uid, gid);
	} else if (geteuid() == 0) {
		kdbg("running as root without SUDO_UID: keeping ids (ktstr-orch needs no privilege)");
	}
	/* no_new_privs is deliberately not set here: a worker binary may carry
	 * file capabilities (issue 7 decides), which no_new_privs would void. */
	return 0;
}
