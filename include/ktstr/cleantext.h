/* Printing text someone else chose (a guest, a worker, a scheduler) to a
 * terminal or a CI log: control bytes are blanked so it cannot move the
 * cursor, clear the screen or forge lines. Tabs stay. The one home of that
 * rule for the report and the shell's status lines. */
#ifndef KTSTR_CLEANTEXT_H
#define KTSTR_CLEANTEXT_H

#include <stddef.h>
#include <stdio.h>

/* Exactly n bytes of s (NULs included, as spaces); nothing for NULL. */
void fput_clean_n(FILE *f, const char *s, size_t n);
/* s up to its NUL, or at most max bytes. */
void fput_clean_max(FILE *f, const char *s, size_t max);
static inline void fput_clean(FILE *f, const char *s)
{
	fput_clean_max(f, s, (size_t)-1);
}

#endif
