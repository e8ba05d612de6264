/* Report files against a hostile directory (issue: a root ktstr-orch wrote
 * through a planted out.xml -> /root/secret). Every test plants what an
 * attacker could and proves nothing outside the report's own name changed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ktstr/util.h>

#include "privdrop.h"
#include "report_file.h"
#include "suite.h"
#include "safe_path.h"

static char base[64];

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/ktstr-rf-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	chmod(base, 0755);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(report_file, .init = setup, .fini = teardown);

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write_full(fd, text, strlen(text)), 0);
	close(fd);
}

static void expect_content(const char *path, const char *want)
{
	char *got = NULL;
	size_t len;

	cr_assert_eq(read_file(path, &got, &len, 1 << 20), 0, "read %s", path);
	cr_assert_str_eq(got, want, "%s", path);
	free(got);
}

static uid_t nobody_uid(void)
{
	struct passwd *pw = getpwnam("nobody");

	cr_assert_not_null(pw, "no user nobody on this host");
	return pw->pw_uid;
}

/* As this process (no drop): a plain new report, then a replaced one. */
Test(report_file, writes_and_replaces_atomically)
{
	struct report_file rf = REPORT_FILE_INIT;
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/out.xml", base);
	put(path, "old", 0644);
	cr_assert_eq(report_file_open(&rf, path, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rf.fd, -1, "this user may write the directory: no fallback inode");
	expect_content(path, "old"); /* the old report stays until the new one is complete */
	cr_assert_eq(report_file_write(&rf, "<new/>", 6), 0);
	report_file_close(&rf);
	expect_content(path, "<new/>");
}

/* out.xml -> a file elsewhere: refused at open, the target untouched. */
Test(report_file, a_symlink_at_the_report_name_is_refused)
{
	struct report_file rf = REPORT_FILE_INIT;
	char path[256], secret[256], err[512];

	snprintf(secret, sizeof(secret), "%s/secret", base);
	snprintf(path, sizeof(path), "%s/out.xml", base);
	put(secret, "secret", 0600);
	cr_assert_eq(symlink(secret, path), 0);
	cr_assert_eq(report_file_open(&rf, path, NULL, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "a symbolic link") && strstr(err, "never writes through a link"),
		  "%s", err);
	expect_content(secret, "secret");
}

/* out.xml is a hard link to another file: the report replaces the name,
 * the other file keeps its bytes. */
Test(report_file, a_hard_link_at_the_report_name_is_replaced_not_written_through)
{
	struct report_file rf = REPORT_FILE_INIT;
	char path[256], other[256], err[512];

	snprintf(other, sizeof(other), "%s/precious", base);
	snprintf(path, sizeof(path), "%s/out.xml", base);
	put(other, "precious", 0644);
	cr_assert_eq(link(other, path), 0);
	cr_assert_eq(report_file_open(&rf, path, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(report_file_write(&rf, "report", 6), 0);
	report_file_close(&rf);
	expect_content(path, "report");
	expect_content(other, "precious");
}

/* A FIFO or a directory at the report name: refused, nothing blocks. */
Test(report_file, a_fifo_or_directory_at_the_report_name_is_refused)
{
	struct report_file rf = REPORT_FILE_INIT;
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/out.xml", base);
	cr_assert_eq(mkfifo(path, 0644), 0);
	cr_assert_eq(report_file_open(&rf, path, NULL, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "not a regular file"), "%s", err);
	unlink(path);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(report_file_open(&rf, path, NULL, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "a directory"), "%s", err);
}

/* The attack as reported: an unprivileged user's directory holding
 * out.xml -> a root-only file; root runs with --junit DIR/out.xml and drops
 * to that user. Nothing outside DIR changes; no root-owned file appears. */
Test(report_file, root_never_writes_through_a_planted_link_in_a_users_directory)
{
	char dir[128], path[256], secret[256], err[512];
	struct report_file rf = REPORT_FILE_INIT;
	struct stat st;
	uid_t nobody;

	if (geteuid() != 0)
		cr_skip_test("needs root (plants files as another user)");
	nobody = nobody_uid();
	snprintf(dir, sizeof(dir), "%s/tenant", base);
	snprintf(secret, sizeof(secret), "%s/secret", base);
	snprintf(path, sizeof(path), "%s/out.xml", dir);
	put(secret, "root only", 0600);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(chown(dir, nobody, nobody), 0);
	cr_assert_eq(symlink(secret, path), 0);
	cr_assert_eq(lchown(path, nobody, nobody), 0);
	cr_assert_eq(report_file_open(&rf, path, "nobody", err, sizeof(err)), -EEXIST);
	expect_content(secret, "root only");
	cr_assert_eq(stat(secret, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	/* The link removed, the tenant plants a link on the way instead:
	 * tenant/sub -> base (where the secret lives). */
	unlink(path);
	char sub[256], via[300];

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(via, sizeof(via), "%s/sub/secret", dir);
	cr_assert_eq(symlink(base, sub), 0);
	cr_assert_eq(lchown(sub, nobody, nobody), 0);
	cr_assert_eq(report_file_open(&rf, via, "nobody", err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "symbolic link owned by uid"), "%s", err);
	expect_content(secret, "root only");
}

/* Root's own links on the way are followed (a root-made /var/run -> /run). */
Test(report_file, a_link_owned_by_root_or_this_user_is_followed)
{
	struct report_file rf = REPORT_FILE_INIT;
	char real[256], alias[256], path[256], err[512];

	snprintf(real, sizeof(real), "%s/real", base);
	snprintf(alias, sizeof(alias), "%s/alias", base);
	snprintf(path, sizeof(path), "%s/alias/r.json", base);
	cr_assert_eq(mkdir(real, 0755), 0);
	cr_assert_eq(symlink("real", alias), 0); /* relative target */
	cr_assert_eq(report_file_open(&rf, path, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(report_file_write(&rf, "[]", 2), 0);
	report_file_close(&rf);
	snprintf(path, sizeof(path), "%s/real/r.json", base);
	expect_content(path, "[]");
}

/* A directory only root may write: root makes a fresh inode at open (the
 * old report's inode, hard-linked elsewhere, is untouched) and the dropped
 * user fills it. */
Test(report_file, a_root_only_directory_gets_a_fresh_inode_never_the_old_one)
{
	char dir[128], path[256], keep[256];
	struct stat before, after;
	int st;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	snprintf(dir, sizeof(dir), "%s/rootonly", base);
	snprintf(path, sizeof(path), "%s/r.json", dir);
	snprintf(keep, sizeof(keep), "%s/keep", base);
	cr_assert_eq(mkdir(dir, 0755), 0);
	put(path, "previous", 0644);
	cr_assert_eq(link(path, keep), 0);
	cr_assert_eq(stat(path, &before), 0);
	pid = fork();
	if (pid == 0) {
		struct report_file rf = REPORT_FILE_INIT;
		struct privdrop_opts po = { .user = "nobody" };
		char err[512];

		if (report_file_open(&rf, path, "nobody", err, sizeof(err)) || rf.fd < 0 ||
		    orch_drop_privileges(&po, NULL, err, sizeof(err)))
			_exit(2);
		_exit(report_file_write(&rf, "fresh", 5) ? 3 : 0);
	}
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", WEXITSTATUS(st));
	expect_content(path, "fresh");
	expect_content(keep, "previous");
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_neq(after.st_ino, before.st_ino, "a new inode, not the old one truncated");
}

/* Suite files: a FIFO is refused at once (it would block forever), a
 * directory or device too; a regular file opens. */
Test(report_file, suite_paths_must_be_regular_files_and_never_block)
{
	char path[256], err[512];
	int fd;

	snprintf(path, sizeof(path), "%s/suite.yaml", base);
	cr_assert_eq(mkfifo(path, 0644), 0);
	cr_assert_eq(safe_open_regular(path, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "a FIFO"), "%s", err);
	cr_assert_eq(safe_open_regular("/dev/null", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "a device"), "%s", err);
	unlink(path);
	put(path, "tests: []\n", 0644);
	fd = safe_open_regular(path, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	close(fd);
}

/* A root ktstr-orch does not echo what a root-only suite file holds (a
 * suite path pointing at /etc/shadow would print its first line); a file
 * others may read keeps its full error. */
Test(report_file, errors_of_root_only_suites_keep_the_position_and_drop_the_words)
{
	char path[256], err[1024];
	struct suite *s = NULL;

	if (geteuid() != 0)
		cr_skip_test("needs root (the file must be root's alone)");
	snprintf(path, sizeof(path), "%s/secret.yaml", base);
	put(path, "secret_token_42: 1\n", 0600);
	cr_assert_lt(suite_load(path, &s, err, sizeof(err)), 0);
	cr_assert_null(strstr(err, "secret_token_42"), "leaked: %s", err);
	cr_assert(strstr(err, ":1:1: not a valid suite (details withheld"), "%s", err);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_lt(suite_load(path, &s, err, sizeof(err)), 0);
	cr_assert(strstr(err, "secret_token_42"), "a readable file's error names the key: %s", err);
}

/* A suite path whose last component is a link: followed when root or this
 * user made it (relative target, from the link's own directory), refused
 * when another user did. */
Test(report_file, a_suite_link_is_followed_only_when_trusted)
{
	char real[256], link_[256], err[512];
	int fd;

	snprintf(real, sizeof(real), "%s/real.yaml", base);
	snprintf(link_, sizeof(link_), "%s/suite.yaml", base);
	put(real, "tests: []\n", 0644);
	cr_assert_eq(symlink("real.yaml", link_), 0);
	fd = safe_open_regular(link_, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	close(fd);
	if (geteuid() != 0)
		return;
	cr_assert_eq(lchown(link_, nobody_uid(), nobody_uid()), 0);
	cr_assert_eq(safe_open_regular(link_, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "symbolic link owned by uid"), "%s", err);
}
