/* See vmtest.h. Ownership: every fd opened here is closed before return;
 * output buffers are handed to the caller. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "lib/vmtest.h"

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

int vmtest_build_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	/* $(BUILD)/tests/integ-NAME -> $(BUILD) */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			return -ENOENT;
		*slash = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s", exe) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int vmtest_bin(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int rc = vmtest_build_dir(dir, sizeof(dir));
	if (rc < 0)
		return rc;
	if ((size_t)snprintf(buf, len, "%s/bin/%s", dir, name) >= len)
		return -ENAMETOOLONG;
	return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

int vmtest_src_dir(char *buf, size_t len)
{
	char cand[3][PATH_MAX];
	int n = 0;
	const char *env = getenv("KTSTR_SRC_DIR");
	if (env && *env)
		snprintf(cand[n++], PATH_MAX, "%s", env);
	if (getcwd(cand[n], PATH_MAX))
		n++;
	char bd[PATH_MAX];
	if (vmtest_build_dir(bd, sizeof(bd)) == 0) {
		char *slash = strrchr(bd, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand[n++], PATH_MAX, "%s", bd);
		}
	}
	for (int i = 0; i < n; i++) {
		char probe[PATH_MAX + 32];
		snprintf(probe, sizeof(probe), "%s/tests/integration/data", cand[i]);
		if (exists(probe)) {
			if ((size_t)snprintf(buf, len, "%s", cand[i]) >= len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	return -ENOENT;
}

/* Kernels for VM tests: test_env_kernel (tests/test_env.h). With
 * KTSTR_REQUIRE_VM=1 (CI) a missing kernel is a test failure rather than a
 * skip, so a broken fetch can never pass silently. */
int vmtest_kernel(const char *kind, char *buf, size_t len)
{
	if (!test_env_kernel(kind, buf, len)) {
		if (test_env_required())
			cr_assert_fail("%s kernel missing (%s) and KTSTR_REQUIRE_VM=1: scripts/run-tests "
				       "fetches it (ktstr-orch kernel fetch)", kind, buf);
		return -ENOENT;
	}
	return 0;
}

int vmtest_run(char *const argv[], int timeout_ms, char **out, int *status)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int rc = -errno;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	struct strbuf sb = { 0 };
	uint64_t deadline = ktstr_now_ms() + (uint64_t)timeout_ms;
	int rc = 0;
	for (;;) {
		uint64_t now = ktstr_now_ms();
		if (now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		char buf[4096];
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_append(&sb, buf, (size_t)n);
	}
	close(p[0]);
	if (rc == -ETIMEDOUT)
		kill(-pid, SIGKILL);
	int st = 0;
	/* EOF came (or the kill): the child is gone or going; a bounded wait. */
	int wrc = 0;
	for (int i = 0; i < 500; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0) {
			wrc = -errno;
			break;
		}
		if (i == 499) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (status)
		*status = st;
	sb_append(&sb, "", 1);
	if (out)
		*out = sb.buf;
	else
		sb_free(&sb);
	return rc ? rc : wrc;
}

int vmtest_sh(const char *cmd, int timeout_ms, char **out)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int status = 0;
	int rc = vmtest_run(argv, timeout_ms, out, &status);
	if (rc < 0)
		return rc;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

int vmtest_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");
	if ((size_t)snprintf(buf, len, "%s/ktstr-test-XXXXXX", t && *t ? t : "/tmp") >= len)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

void vmtest_rm_rf(const char *dir)
{
	if (!dir || !*dir || !strcmp(dir, "/"))
		return;
	char *argv[] = { "rm", "-rf", "--one-file-system", (char *)dir, NULL };
	vmtest_run(argv, 30000, NULL, NULL);
}
