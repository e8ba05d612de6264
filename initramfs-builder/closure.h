/* Shared-library closure of the ELF files packed into an image, resolved the
 * way glibc's ld.so does (elf/dl-load.c, ld.so(8)):
 *   DT_RPATH (only when the object has no DT_RUNPATH; the executable's
 *   DT_RPATH is also searched for its libraries), LD_LIBRARY_PATH,
 *   DT_RUNPATH, /etc/ld.so.cache (the guest architecture's entries), then
 *   the guest architecture's default directories: /lib/x86_64-linux-gnu,
 *   /usr/lib/x86_64-linux-gnu, /lib64, /lib, /usr/lib for x86_64;
 *   /lib/aarch64-linux-gnu, /usr/lib/aarch64-linux-gnu, /lib, /usr/lib for
 *   arm64 (Debian's multiarch libc6:arm64 and friends).
 * $ORIGIN, $LIB and $PLATFORM are expanded (per architecture). Candidates
 * of another ELF class or machine are skipped like ld.so skips them. Libraries go into the image at
 * the path where they were found; a second path to the same host file
 * becomes a symlink; PT_INTERP is packed at its own path. */
#ifndef KTSTR_BUILDER_CLOSURE_H
#define KTSTR_BUILDER_CLOSURE_H

#include <stddef.h>

#include <ktstr/error.h>
#include "elfinfo.h"
#include "ldcache.h"
#include "plan.h"

#define CLOSURE_LDSO_CACHE "/etc/ld.so.cache"

struct closure_obj {
	char *host;		/* host path it was read from; owned */
	char *origin;		/* $ORIGIN: directory of host; owned */
	struct elf_info ei;	/* owned */
	size_t root;		/* index of the root object that pulled it in */
};

struct closure {
	struct ldcache cache;	/* empty if the host has no ld.so.cache */
	char **llp;		/* LD_LIBRARY_PATH entries; owned */
	size_t nllp;
	struct closure_obj *objs; /* roots first, then libraries, BFS order */
	size_t nobjs, cap;
	size_t nroots;
	char **seen;		/* "<root>\n<name>" already resolved; owned */
	size_t nseen;
	/* The guest's ELF machine (BuildRequest.arch): roots of another are
	 * refused, libraries of another skipped as ld.so would. closure_init
	 * sets x86_64; plan_from_request the request's. */
	unsigned machine;
};

/* ld_library_path may be NULL. Loads /etc/ld.so.cache if present. */
int closure_init(struct closure *c, const char *ld_library_path, struct ktstr_error *e);
/* Register an ELF already in the plan (pe->data) as a root whose libraries
 * must be packed. host is its host path (for $ORIGIN and messages). */
int closure_add_root(struct closure *c, struct plan *p, const struct plan_entry *pe,
		     const char *host, struct ktstr_error *e);
/* Resolve every root's closure into p (files, symlinks, p->libs). */
int closure_resolve(struct closure *c, struct plan *p, struct ktstr_error *e);
void closure_free(struct closure *c);

/* Lexically clean an absolute path ("//", ".", ".." removed). -EINVAL if not
 * absolute or cleaning leaves "/"; -ENAMETOOLONG. Exposed for tests. */
int closure_clean_path(const char *in, char *out, size_t outlen);

#endif
