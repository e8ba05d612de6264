#include "pathjoin.h"

#include <errno.h>
#include <string.h>

int path_join(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;

	if (!len || la + 1 + lb + lc + 1 > len) {
		if (len)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	memmove(buf, a, la);
	buf[la] = '/';
	memcpy(buf + la + 1, b, lb);
	if (c)
		memcpy(buf + la + 1 + lb, c, lc);
	buf[la + 1 + lb + lc] = '\0';
	return 0;
}
