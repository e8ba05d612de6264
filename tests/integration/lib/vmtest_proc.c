/* Reading a live process's /proc files from integration tests (sandbox
 * checks of running workers). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/vmtest.h"

void vmtest_slurp(const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

void vmtest_status_field(const char *status, const char *key, char *val, size_t len)
{
	char pat[64];
	val[0] = '\0';
	snprintf(pat, sizeof(pat), "\n%s:", key);
	const char *p = strstr(status, pat);
	if (!p)
		return;
	p += strlen(pat);
	p += strspn(p, " \t");
	size_t n = strcspn(p, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(val, p, n);
	val[n] = '\0';
}
