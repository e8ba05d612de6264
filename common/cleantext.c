#include <string.h>

#include <ktstr/cleantext.h>

void fput_clean_n(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		fputc(((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f ? ' ' : s[i], f);
}

void fput_clean_max(FILE *f, const char *s, size_t max)
{
	if (s)
		fput_clean_n(f, s, strnlen(s, max));
}
