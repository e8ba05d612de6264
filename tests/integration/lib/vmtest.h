/* Helpers for integration tests: find built binaries, the source tree and a
 * bootable kernel, and run host commands with a bound. */
#ifndef KTSTR_TESTS_VMTEST_H
#define KTSTR_TESTS_VMTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "test_env.h"

/* The build directory this test binary belongs to ($(BUILD)): the parent of
 * the directory holding the running test executable. Returns 0 or -errno. */
int vmtest_build_dir(char *buf, size_t len);
/* $(BUILD)/bin/<name>; -ENOENT if it is not there. */
int vmtest_bin(const char *name, char *buf, size_t len);
/* The source tree (holds tests/integration/data): $KTSTR_SRC_DIR, the
 * current directory, or the build directory's parent. */
int vmtest_src_dir(char *buf, size_t len);
/* A kernel to boot. kind "vmlinux" (ELF, QEMU's fast PVH path) or "bzImage".
 * $KTSTR_TEST_KERNEL wins, then the dev kernels under /var/tmp/kdev/k72.
 * -ENOENT when none exists (tests then skip with a message). */
int vmtest_kernel(const char *kind, char *buf, size_t len);

/* Run argv (argv[0] searched on PATH) with stdin /dev/null and stdout+stderr
 * captured into *out (malloc'd, NUL-terminated, caller frees; may be NULL to
 * discard). Kills the child at timeout_ms. Returns 0 and the wait status in
 * *status, -ETIMEDOUT (child killed and reaped) or -errno. */
int vmtest_run(char *const argv[], int timeout_ms, char **out, int *status);
/* Like vmtest_run, but stdin is fed from in[0..inlen) and then closed (EOF),
 * as `printf ... | cmd` would, and stdout and stderr are captured apart so a
 * test can compare stdout byte for byte. The out and err buffers are
 * malloc'd and NUL-terminated (either pointer may be NULL to discard);
 * outlen, if given, receives stdout's length. Kills the process group at timeout_ms. Returns 0 and
 * the wait status in *status, -ETIMEDOUT (child killed and reaped, output so
 * far still returned) or -errno. */
int vmtest_run_io(char *const argv[], const void *in, size_t inlen, int timeout_ms, char **out,
		  size_t *outlen, char **err, int *status);
/* vmtest_run of "/bin/sh -c cmd"; returns 0 only when it exited 0. */
int vmtest_sh(const char *cmd, int timeout_ms, char **out);

/* A fresh directory under $TMPDIR (or /tmp); caller removes it with
 * vmtest_rm_rf. */
int vmtest_tmpdir(char *buf, size_t len);
void vmtest_rm_rf(const char *dir);


/* Read a (small) file into buf, NUL-terminated; "" when it cannot be read. */
void vmtest_slurp(const char *path, char *buf, size_t len);
/* The value of "Key:" in a /proc status text, or "" (whitespace trimmed). */
void vmtest_status_field(const char *status, const char *key, char *val, size_t len);
/* Path of the probe init's cpio (built on first use per build dir). */
void vmtest_probe_cpio(char *cpio, size_t len);

#endif
