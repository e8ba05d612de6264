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
	const char *arch;	    /* "x86_64" (NULL) or "arm64" ("aarch64"): guest_arch.h */
};

/* Returns 0 (entry key printed to out) or -errno with a message on stderr
 * (-EINVAL: a bad suite, arch or mirror). Without force a kernel already
 * cached answers at once, offline: the one of --kernel-version (key
 * VERSION-cloud-amd64, or -cloud-arm64), else the newest of o->arch
 * fetched from the suite. */
int kernel_fetch(const struct kfetch_opts *o, FILE *out);

/* That cache lookup alone, among o->arch's entries only: 0 with the key,
 * -ENOENT, or -EINVAL (o->arch is no architecture guest_arch_parse takes). */
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
/* The same for an arm64 kernel (kernel_fetch_arm64.c): vmlinuz is the
 * Image (gunzipped when gzip, bookworm's 6.1), checked by the worker's
 * Image header parser; vmlinux.btf is cut out of it (btf_cut.h); metadata
 * says arch=arm64. */
int kcache_install_arm64(const char *tree, const char *suite, const char *packages, bool force,
			 char *key, size_t keylen);

/* Shared by both installers. The kernel's vmlinuz and config under tree
 * and its release (the cache key, from vmlinuz-<v> or the modules
 * directory). 0 or -ENOENT (said on stderr, naming packages). */
int kfetch_tree_files(const char *tree, const char *packages, char *image, size_t ilen,
		      char *config, size_t clen, char *key, size_t keylen);
/* The metadata of a fetched entry into sb: key, version, source, suite,
 * packages, sched_ext, missing_config, fetched, and arch= unless x86_64.
 * 0 or -ENOMEM. */
int kfetch_metadata(struct strbuf *sb, const char *key, const char *suite, const char *packages,
		    const char *config, const char *missing, const char *arch);

#endif
