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
/* An entry's required-ABI flag (glibc elf/ldconfig.h FLAG_*_LIB64): which
 * architecture's ld.so may use it. ldconfig indexes only the host's own
 * (and its compat) libraries, so another architecture's lookup usually
 * finds nothing and the caller goes on to its default directories, as that
 * architecture's ld.so would without a cache of its own. */
#define LDCACHE_REQ_X8664_LIB64 0x0300u
#define LDCACHE_REQ_AARCH64_LIB64 0x0a00u
/* Find the libc6 entry for soname with required-ABI flag req (baseline
 * entries only: the glibc-hwcaps subdirectory variants are skipped so the
 * packed library runs on any guest CPU). Returns a pointer into the cache
 * (valid until ldcache_free) or NULL. */
const char *ldcache_lookup(const struct ldcache *c, const char *soname, uint32_t req);
void ldcache_free(struct ldcache *c);

#endif
