/* A growable NULL-terminated vector of owned strings (argv-style): the one
 * string vector of every host process (suite lists, command lines). */
#ifndef KTSTR_STRV_H
#define KTSTR_STRV_H

#include <stddef.h>

struct strv {
	char **v; /* v[n] == NULL whenever v != NULL */
	size_t n;
};

/* Copies s. Returns 0 or -ENOMEM. */
int strv_push(struct strv *sv, const char *s);
/* Takes ownership of s (freed on failure too). */
int strv_push_owned(struct strv *sv, char *s);
int strv_extend(struct strv *sv, const struct strv *from);
int strv_pushf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *sv);
/* Index of s in sv, or -1. */
long strv_find(const struct strv *sv, const char *s);
/* Join with sep into a malloc'd string (NULL on ENOMEM). */
char *strv_join(const struct strv *sv, const char *sep);

#endif
