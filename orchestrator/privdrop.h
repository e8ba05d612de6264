/* The one place ktstr-orch changes its privileges (docs/security.md,
 * "ktstr-orch"). */
#ifndef KTSTR_ORCH_PRIVDROP_H
#define KTSTR_ORCH_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

struct privdrop_opts {
	const char *user;	/* --user; NULL = orch_default_user() */
	bool keep_root;		/* --no-drop-privileges */
	const char *cache_user;	/* --cache-user; NULL = cache_owner.h's default */
};

/* Whom a root ktstr-orch becomes by default: $SUDO_USER when it names an
 * account other than root (sudo's invoking user keeps their own files),
 * else "nobody". */
const char *orch_default_user(void);

/* The account a root ktstr-orch becomes with these options (--user, else
 * orch_default_user()), or NULL when its ids will not change (not root, or
 * --no-drop-privileges). */
const char *privdrop_target(const struct privdrop_opts *o);

struct global_opts;
/* The privilege options of a command line (cli.h). */
struct privdrop_opts global_privdrop_opts(const struct global_opts *g);

/* ktstr-orch needs no privilege: it never opens /dev/kvm and never runs
 * tenant code. Called once root-only preparation is done (kernel opened,
 * report files created): as root, sandbox_drop_to_user(user), then (root or
 * not) sandbox_no_new_privs() and sandbox_drop_caps(NULL, 0), so neither
 * the builder nor any worker can gain privilege. With keep_root nothing
 * changes and a warning says so. *dropped_to (may be NULL) receives the
 * user name when ids changed, else NULL. Returns 0 or -errno with err set
 * (the caller must exit: a half-done drop is worse than none). */
int orch_drop_privileges(const struct privdrop_opts *o, const char **dropped_to, char *err,
			 size_t errlen);

#endif
