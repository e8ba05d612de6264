/* `ktstr-orch kernel fetch`: a Debian cloud kernel into the kernel cache,
 * cache first, else through apt with a private sources file and private
 * state (the system's apt configuration is never touched; no root needed). */
#ifndef KTSTR_ORCH_KERNEL_FETCH_H
#define KTSTR_ORCH_KERNEL_FETCH_H

#include <stdbool.h>
#include <stdio.h>

#include <ktstr/strv.h>
#include <ktstr/util.h>

struct kfetch_opts {
	const char *suite;	    /* "sid" (default) or "bookworm" */
	const char *version;	    /* kernel ABI as in package names, NULL = current */
	const char *const *mirrors; /* --mirror URLs (nmirrors), none: the system's */
	size_t nmirrors;
	bool force;		    /* ask the mirror even when cached; replace the entry */
};

/* Returns 0 (entry key printed to out) or -errno with a message on stderr.
 * Without force a kernel already cached answers at once, offline: the one
 * of --kernel-version (key VERSION-cloud-amd64), else the newest fetched
 * from the suite. */
int kernel_fetch(const struct kfetch_opts *o, FILE *out);

/* That cache lookup alone: 0 with the key, or -ENOENT. */
int kfetch_cached(const struct kfetch_opts *o, char *key, size_t keylen);

/* Whether uri may be a mirror: http://, https:// or file:/ and no byte
 * below '!' or DEL (it is written into a deb822 file, where a newline
 * would add fields of the caller's choosing). */
bool kfetch_mirror_ok(const char *uri);

/* The private deb822 sources of suite on the mirrors uris into sb: per
 * archive mirror the suite (bookworm also -updates), per security mirror
 * (a URI containing "security") SUITE-security (none for sid), signed by
 * Debian's archive keyring. Returns 0, -EINVAL (a URI kfetch_mirror_ok
 * refuses, or no mirror for the suite) or -ENOMEM. */
int kfetch_sources(const struct strv *uris, const char *suite, struct strbuf *sb);

/* Turn an extracted package tree into a cache entry: find the image and
 * config under dir (boot/ or usr/lib/modules/<v>/), extract vmlinux and BTF,
 * write metadata, rename into the cache as key. force replaces an entry
 * of that key unless it is in use (-EBUSY). Exposed for tests. */
int kcache_install(const char *tree, const char *suite, const char *packages, bool force,
		   char *key, size_t keylen);

#endif
