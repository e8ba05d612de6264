#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktstr/util.h"
#include "th.h"

char *th_tmpdir(void)
{
	char *d = strdup("/tmp/ktstr-ib-test-XXXXXX");

	cr_assert(d && mkdtemp(d), "mkdtemp failed");
	return d;
}

void th_rmtree(const char *dir)
{
	if (dir && !strncmp(dir, "/tmp/ktstr-ib-test-", 19))
		th_sh(NULL, "rm -rf '%s'", dir);
}

int th_sh(char **out, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	char cmd[8192], chunk[4096];
	va_list ap;
	FILE *f;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	cr_assert(f, "popen %s", cmd);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_append(&sb, chunk, n);
	sb_append(&sb, "", 1);
	st = pclose(f);
	if (out)
		*out = sb.buf;
	else
		sb_free(&sb);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

uint8_t *th_slurp(const char *path, size_t *len)
{
	char *buf;
	int ret = read_file(path, &buf, len, 1u << 30);

	cr_assert_eq(ret, 0, "read %s: %d", path, ret);
	return (uint8_t *)buf;
}

void th_write(const char *path, const void *data, size_t len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	cr_assert(fd >= 0, "create %s", path);
	cr_assert_eq(write_full(fd, data, len), 0);
	close(fd);
}

size_t th_lines(char *text, char **v, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(text, "\n", &save); tok && n < max; tok = strtok_r(NULL, "\n", &save))
		v[n++] = tok;
	return n;
}

int th_has(char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}
