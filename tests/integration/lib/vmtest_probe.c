/* The probe init (tests/integration/data/worker_probe_init.c) and its cpio,
 * shared by the worker tests: built once per build dir and replaced by an
 * atomic rename, so concurrent test binaries never use a half-built file. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/vmtest.h"

void vmtest_probe_cpio(char *cpio, size_t len)
{
	char src[PATH_MAX], bd[PATH_MAX];
	cr_assert_eq(vmtest_src_dir(src, sizeof(src)), 0, "cannot find the source tree");
	cr_assert_eq(vmtest_build_dir(bd, sizeof(bd)), 0);
	cr_assert((size_t)snprintf(cpio, len, "%.3000s/tests/worker_probe_init.cpio", bd) < len);
	char init_src[PATH_MAX + 64];
	snprintf(init_src, sizeof(init_src), "%s/tests/integration/data/worker_probe_init.c", src);
	struct stat a, b;
	if (stat(cpio, &b) == 0 && stat(init_src, &a) == 0 && b.st_mtime >= a.st_mtime)
		return;
	char tmp[PATH_MAX];
	cr_assert_eq(vmtest_tmpdir(tmp, sizeof(tmp)), 0);
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd,
			   "set -e; cd '%s'; gcc -static -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude "
			   "-o '%s/init' tests/integration/data/worker_probe_init.c common/ring.c "
			   "common/util.c -lz; cd '%s'; echo init | cpio -o -H newc --quiet > "
			   "probe.cpio; mv probe.cpio '%s'",
			   src, tmp, tmp, cpio) > 0);
	int rc = vmtest_sh(cmd, 120000, &out);
	cr_assert_eq(rc, 0, "building the probe init failed:\n%s", out ? out : "");
	free(cmd);
	free(out);
	vmtest_rm_rf(tmp);
}
