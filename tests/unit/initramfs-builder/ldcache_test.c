/* The ld.so.cache reader agrees with `ldconfig -p` and survives damage. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "ldcache.h"
#include "th.h"

Test(ldcache, matches_ldconfig)
{
	static const char *const names[] = { "libc.so.6", "libz.so.1", "libelf.so.1" };
	struct ldcache c;
	size_t i;

	cr_assert_eq(ldcache_load(&c, "/etc/ld.so.cache"), 0);
	cr_assert_gt(c.nlibs, 10);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		char *out;
		const char *got = ldcache_lookup(&c, names[i], LDCACHE_REQ_X8664_LIB64);

		cr_assert_eq(th_sh(&out, "ldconfig -p | awk '$1 == \"%s\" && /x86-64/ "
				   "{ print $NF; exit }'", names[i]), 0);
		out[strcspn(out, "\n")] = '\0';
		cr_assert(got, "%s not found", names[i]);
		cr_assert_str_eq(got, out, "%s: we say %s, ldconfig says %s", names[i], got, out);
		free(out);
	}
	cr_assert_null(ldcache_lookup(&c, "libdoes-not-exist.so.9", LDCACHE_REQ_X8664_LIB64));
	/* Another architecture's entries: what ldconfig lists for AArch64
	 * (usually nothing: ldconfig indexes the host's own libraries), never
	 * an x86-64 one. */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		char *out;
		const char *got = ldcache_lookup(&c, names[i], LDCACHE_REQ_AARCH64_LIB64);

		cr_assert_eq(th_sh(&out, "ldconfig -p | awk '$1 == \"%s\" && /AArch64/ "
				   "{ print $NF; exit }'", names[i]), 0);
		out[strcspn(out, "\n")] = '\0';
		cr_assert_str_eq(got ? got : "", out, "%s for AArch64: we say %s, ldconfig says %s",
				 names[i], got ? got : "none", out[0] ? out : "none");
		free(out);
	}
	ldcache_free(&c);
}

Test(ldcache, rejects_damage)
{
	uint8_t *buf;
	size_t len;
	struct ldcache c;
	char *copy;

	cr_assert_eq(ldcache_parse(&c, (uint8_t *)strdup("not a cache at all, no"), 22), -EINVAL);
	/* Header with a huge nlibs. */
	buf = calloc(1, 64);
	memcpy(buf, "glibc-ld.so.cache1.1", 20);
	buf[20] = 0xff; buf[21] = 0xff; buf[22] = 0xff; buf[23] = 0x7f;
	cr_assert_eq(ldcache_parse(&c, buf, 64), -EINVAL);
	/* Truncated real cache: the header is fine, the table is cut. */
	buf = th_slurp("/etc/ld.so.cache", &len);
	cr_assert_eq(ldcache_parse(&c, buf, 48 + 24 * 3), -EINVAL);
	/* One valid entry whose strings point past the end: lookup fails
	 * cleanly instead of reading out of bounds. */
	copy = calloc(1, 48 + 24);
	memcpy(copy, "glibc-ld.so.cache1.1", 20);
	copy[20] = 1;
	copy[48] = 3; copy[49] = 3;	/* libc6, x86-64 */
	copy[52] = (char)0xf0;	/* key offset 240 > len */
	cr_assert_eq(ldcache_parse(&c, (uint8_t *)copy, 48 + 24), 0);
	cr_assert_null(ldcache_lookup(&c, "libc.so.6", LDCACHE_REQ_X8664_LIB64));
	ldcache_free(&c);
}
