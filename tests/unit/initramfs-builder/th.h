/* Helpers for the initramfs-builder unit tests: temp dirs, shell commands
 * with captured output, file bytes. */
#ifndef KTSTR_TEST_IB_TH_H
#define KTSTR_TEST_IB_TH_H

#include <stddef.h>
#include <stdint.h>

/* mkdtemp under /tmp; returns a malloc'd path (cr_assert on failure). */
char *th_tmpdir(void);
void th_rmtree(const char *dir);
/* Run `sh -c cmd`, capture stdout (malloc'd, NUL-terminated) and return the
 * exit status (-1 if it did not exit normally). out may be NULL. */
int th_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whole file into memory (malloc'd); cr_assert on failure. */
uint8_t *th_slurp(const char *path, size_t *len);
void th_write(const char *path, const void *data, size_t len, int mode);
/* Split text into lines (modifies it); returns the count, lines in v. */
size_t th_lines(char *text, char **v, size_t max);
/* 1 if list (n strings) contains s. */
int th_has(char *const *list, size_t n, const char *s);

#endif
