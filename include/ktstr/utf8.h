/* Strict UTF-8 (RFC 3629): the one validator every report writer uses, so
 * whatever bytes a guest prints, JUnit and JSON stay valid. Rejected:
 * overlong forms (C0/C1, E0 80..9F, F0 80..8F), UTF-16 surrogates
 * (ED A0..BF), code points past U+10FFFF (F4 90.., F5..FF), stray
 * continuation bytes and truncated sequences. */
#ifndef KTSTR_UTF8_H
#define KTSTR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* U+FFFD, what the writers put in place of an invalid byte. */
#define KTSTR_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Length (1..4) of the valid sequence at p[0..left), its code point in
 * *cp; 0 when p[0] does not start one (left == 0 included). */
size_t utf8_decode(const uint8_t *p, size_t left, uint32_t *cp);

#endif
