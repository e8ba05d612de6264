#include "fakesys.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

void fakesys_put(const char *root, const char *rel, const char *text)
{
	char path[512], dir[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	cr_assert_eq(mkdir_p(dir, 0755), 0, "mkdir %s", dir);
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "create %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0, "write %s", path);
}

void fakesys_cache(const char *root, unsigned c, int idx, int level, const char *shared)
{
	char rel[256], lv[8];

	snprintf(lv, sizeof(lv), "%d\n", level);
	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/cache/index%d/level", c, idx);
	fakesys_put(root, rel, lv);
	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%u/cache/index%d/shared_cpu_list", c,
		 idx);
	fakesys_put(root, rel, shared);
}

void fakesys_mkroot(char *root, size_t len, const char *name)
{
	snprintf(root, len, "/tmp/ktstr-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(root), "mkdtemp %s", root);
}

void fakesys_rm(const char *root)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}
