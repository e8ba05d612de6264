/* The one monotonic confinement sequence (see sandbox.h). Each step only
 * removes authority; the order matters:
 *   fd inventory first, while /proc is still reachable;
 *   namespaces before capabilities, because a new user namespace hands the
 *     process a full capability set inside it that must then be dropped;
 *   no_new_privs before seccomp, so loading a filter needs no privilege and
 *     no later exec could raise privilege;
 *   Landlock (when given) after no_new_privs, which it needs, and before
 *     seccomp, whose tables do not allow its syscalls;
 *   seccomp last: from here on the role's table is all the process can do. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

void sandbox_opts_init(struct sandbox_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cache_dirfd = -1;
	o->landlock_fd = -1;
}

int sandbox_confine(enum sandbox_role role, const struct sandbox_opts *o, char *err, size_t len)
{
	struct sandbox_opts defaults;
	unsigned entered = 0;
	int ret;

	if (!o) {
		sandbox_opts_init(&defaults);
		o = &defaults;
	}
	if (o->ns_entered)
		*o->ns_entered = 0;
	if ((unsigned)role >= SANDBOX_ROLE_COUNT) {
		snprintf(err, len, "sandbox: unknown role %d", (int)role);
		return -EINVAL;
	}
	if (o->allowed_fds) {
		ret = sandbox_fd_inventory_check(o->allowed_fds, o->n_allowed_fds, err, len);
		if (ret < 0)
			return ret;
	}
	if (o->ns_flags) {
		ret = sandbox_enter_namespaces(o->ns_flags, o->ns_best_effort, &entered, err, len);
		if (ret < 0)
			return ret;
		if (o->ns_entered)
			*o->ns_entered = entered;
	}
	ret = sandbox_drop_caps(o->keep_caps, o->n_keep_caps);
	if (ret < 0) {
		snprintf(err, len,
			 "sandbox: dropping capabilities for role %s failed: %s; a kept capability "
			 "must be in the permitted set, and a root caller needs CAP_SETPCAP",
			 sandbox_role_name(role), strerror(-ret));
		return ret;
	}
	ret = sandbox_no_new_privs();
	if (ret < 0) {
		snprintf(err, len, "sandbox: PR_SET_NO_NEW_PRIVS failed for role %s: %s (need Linux >= 3.5)",
			 sandbox_role_name(role), strerror(-ret));
		return ret;
	}
	if (o->landlock_fd >= 0) {
		ret = sandbox_landlock_restrict(o->landlock_fd);
		if (ret < 0) {
			snprintf(err, len, "sandbox: enforcing the Landlock ruleset for role %s "
				 "failed: %s", sandbox_role_name(role), strerror(-ret));
			return ret;
		}
	}
	return sandbox_load_policy(role, o->policy_flags, o, err, len);
}
