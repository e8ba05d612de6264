/* Fake sysfs/proc trees for the host probes (hostcaps.c, hostres_topo.c):
 * files written under a test's own root directory. */
#ifndef KTSTR_TEST_ORCH_FAKESYS_H
#define KTSTR_TEST_ORCH_FAKESYS_H

#include <stddef.h>

/* root/rel with text, directories made as needed; asserts success. */
void fakesys_put(const char *root, const char *rel, const char *text);
/* cpu<c>/cache/index<idx>/{level,shared_cpu_list} under root. */
void fakesys_cache(const char *root, unsigned c, int idx, int level, const char *shared);

/* A fresh directory /tmp/ktstr-NAME-XXXXXX into root (len >= 64);
 * asserts success. fakesys_rm removes it and all below. */
void fakesys_mkroot(char *root, size_t len, const char *name);
void fakesys_rm(const char *root);

#endif
