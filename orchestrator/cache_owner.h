/* Who owns the image cache (docs/security.md, "Who owns what"). Tenant code
 * runs as the user ktstr-orch drops to (its VM workers and QEMU); the cached
 * initramfs images every tenant's VMs boot must not be writable by that
 * uid. A root ktstr-orch therefore starts the initramfs builder as a second
 * account, the cache owner, and hands it the cache directory as an fd. */
#ifndef KTSTR_ORCH_CACHE_OWNER_H
#define KTSTR_ORCH_CACHE_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "privdrop.h"

/* The account a root ktstr-orch gives the image cache to when --cache-user
 * is not given and the account exists (scripts/install-deps creates it). */
#define CACHE_OWNER_ACCOUNT "ktstr"

struct cache_owner {
	bool set;	/* false: the builder runs as the VM workers' user */
	uid_t uid;
	gid_t gid;
	char name[64];	/* account name, or the number as given */
};

/* Resolve o->cache_user (NAME or UID[:GID]; NULL = CACHE_OWNER_ACCOUNT
 * when that account exists). Sets out->set only for a root ktstr-orch that
 * drops privileges. Errors (-EINVAL/-ENOENT, err set): --cache-user without
 * root or with --no-drop-privileges, an unknown account, uid 0, or the same
 * uid the VM workers will run as. */
int cache_owner_resolve(const struct privdrop_opts *o, struct cache_owner *out, char *err,
			size_t errlen);

/* As root: open <base>/images for the owner, creating it (mode 0700, owned
 * by the owner) when missing. An existing directory owned by anyone else is
 * refused (-EPERM): images in it may have been written by a VM's uid.
 * *dirfd (O_DIRECTORY, close-on-exec) is owned by the caller. path receives
 * the directory's name for messages. */
int cache_owner_open_images(const struct cache_owner *co, int *dirfd, char *path, size_t pathlen,
			    char *err, size_t errlen);

/* Run check(arg) with the owner's effective ids and no supplementary group
 * (root only), then return to root's effective ids. Lets a root ktstr-orch
 * ask "can the builder read this?" before it starts the builder. Returns
 * check's result, or -errno when the ids cannot be switched. */
int cache_owner_as(const struct cache_owner *co, int (*check)(void *arg), void *arg);

struct builder_client;
/* As root, before the drop: check(arg) as the owner (the files the builder
 * will read; check may be NULL), open <cache>/images for it, and start the
 * builder as the owner with that directory (builder_client_opts.owner). The
 * builder then waits on its socket for the dropped orchestrator's requests;
 * the caller stops it. Returns 0 or -errno with err set. */
int cache_owner_start_builder(const struct cache_owner *co, bool insecure,
			      int (*check)(void *arg), void *arg, struct builder_client *bc,
			      char *err, size_t errlen);

#endif
