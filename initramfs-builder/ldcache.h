/* Reader for glibc's /etc/ld.so.cache ("glibc-ld.so.cache1.1" format, with
 * or without the legacy "ld.so-1.7.0" table in front), so the builder finds
 * libraries exactly where the host's dynamic linker would. */
#ifndef KTSTR_BUILDER_LDCACHE_H
#define KTSTR_BUILDER_LDCACHE_H

#include <stddef.h>
#include <stdint.h>

struct ldcache {
	uint8_t *buf;		/* whole file; owned, freed by ldcache_free */
	size_t len;
	size_t base;		/* offset of the new-format header in buf */
	uint32_t nlibs;
};

/* Parse a cache image already in memory; takes ownership of buf (malloc'd)
 * on success and on failure. Returns 0 or -EINVAL (not a cache / damaged). */
int ldcache_parse(struct ldcache *c, uint8_t *buf, size_t len);
/* Read and parse path. -ENOENT if it does not exist. */
int ldcache_load(struct ldcache *c, const char *path);
/* Find the x86-64 libc6 entry for soname (baseline entries only: the
 * glibc-hwcaps subdirectory variants are skipped so the packed library runs
 * on any guest CPU). Returns a pointer into the cache (valid until
 * ldcache_free) or NULL. */
const char *ldcache_lookup(const struct ldcache *c, const char *soname);
void ldcache_free(struct ldcache *c);

#endif
