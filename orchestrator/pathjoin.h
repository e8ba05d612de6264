/* Bounded path building without silent truncation. */
#ifndef KTSTR_ORCH_PATHJOIN_H
#define KTSTR_ORCH_PATHJOIN_H

#include <stddef.h>

/* buf = a + "/" + b (+ c when not NULL, appended verbatim). Returns 0 or
 * -ENAMETOOLONG (buf then holds ""). */
int path_join(char *buf, size_t len, const char *a, const char *b, const char *c);

#endif
