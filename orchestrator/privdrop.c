#include "privdrop.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/log.h>

#include "cli.h"
#include "sandbox.h"

const char *orch_default_user(void)
{
	const char *su = getenv("SUDO_USER");
	struct passwd pw, *res = NULL;
	char buf[4096];

	/* SUDO_USER=root (sudo from a root shell) would be no drop at all. */
	if (su && *su && !getpwnam_r(su, &pw, buf, sizeof(buf), &res) && res && pw.pw_uid != 0)
		return su;
	return "nobody";
}

const char *privdrop_target(const struct privdrop_opts *o)
{
	if (geteuid() != 0 || o->keep_root)
		return NULL;
	return o->user && *o->user ? o->user : orch_default_user();
}

int orch_drop_privileges(const struct privdrop_opts *o, const char **dropped_to, char *err,
			 size_t errlen)
{
	const char *user = privdrop_target(o); /* non-NULL: root, dropping */
	bool root = geteuid() == 0;
	int ret;

	if (dropped_to)
		*dropped_to = NULL;
	if (o->keep_root) {
		if (root)
			kwarn("running as root (--no-drop-privileges): the builder and every VM "
			      "worker start as root too; drop it unless the host needs it");
		return 0;
	}
	if (root) {
		ret = sandbox_drop_to_user(user, err, errlen);
		if (ret) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l, " (ktstr-orch drops root before starting the "
				 "builder or any VM; pass --user NAME, or --no-drop-privileges to keep root)");
			return ret;
		}
		if (dropped_to)
			*dropped_to = user;
		kinfo("dropped root to user %s (uid %u gid %u)", user, (unsigned)getuid(),
		      (unsigned)getgid());
	}
	/* Root or not: children must never gain privilege (no setuid or file
	 * capability on a worker, QEMU or builder binary is honoured: none is
	 * needed, /dev/kvm access is plain file permission). */
	ret = sandbox_no_new_privs();
	if (ret) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(-ret));
		return ret;
	}
	ret = sandbox_drop_caps(NULL, 0);
	if (ret) {
		snprintf(err, errlen, "cannot drop every capability: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

struct privdrop_opts global_privdrop_opts(const struct global_opts *g)
{
	return (struct privdrop_opts){ .user = g->user, .keep_root = g->no_drop_privileges,
				       .cache_user = g->cache_user };
}

int global_drop_privileges(const struct global_opts *g)
{
	struct privdrop_opts po = global_privdrop_opts(g);
	char err[1024] = "";
	int ret = orch_drop_privileges(&po, NULL, err, sizeof(err));

	if (ret)
		fprintf(stderr, "ktstr-orch: %s\n", err);
	return ret;
}
