/* The lock directory (hostres_dir.c): network filesystems refused by
 * their statfs magic; a directory anyone may rename files in refused;
 * nothing a co-tenant plants (a link, a FIFO, a hard link) is followed,
 * waited on or taken for a lock; $KTSTR_LOCK_DIR must be absolute. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "hostres_dir.h"

static char root[64];

static void setup_root(void)
{
	fakesys_mkroot(root, sizeof(root), "lockdir");
}

static void teardown_root(void)
{
	fakesys_rm(root);
}

TestSuite(hostres_dir, .init = setup_root, .fini = teardown_root);

Test(hostres_dir, network_and_fuse_filesystems_are_refused_by_magic)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} bad[] = {
		{ NFS_SUPER_MAGIC, "NFS" },   { SMB_SUPER_MAGIC, "SMB" },
		{ CIFS_SUPER_MAGIC, "CIFS" }, { SMB2_SUPER_MAGIC, "SMB2" },
		{ CEPH_SUPER_MAGIC, "CephFS" }, { AFS_SUPER_MAGIC, "AFS" },
		{ AFS_FS_MAGIC, "AFS" },      { FUSE_SUPER_MAGIC, "FUSE" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *n = hostres_fs_refused(bad[i].magic);

		cr_expect(n && !strcmp(n, bad[i].name), "magic %#lx: %s", bad[i].magic,
			  n ? n : "accepted");
	}
	/* statfs's f_type is a signed long on some ABIs: CIFS's magic has its top bit set. */
	cr_expect_not_null(hostres_fs_refused((unsigned long)(long)(int)CIFS_SUPER_MAGIC));
	cr_expect_null(hostres_fs_refused(TMPFS_MAGIC));
	cr_expect_null(hostres_fs_refused(EXT4_SUPER_MAGIC));
	cr_expect_null(hostres_fs_refused(BTRFS_SUPER_MAGIC));
	cr_expect_null(hostres_fs_refused(XFS_SUPER_MAGIC));
}

Test(hostres_dir, a_writable_directory_must_be_sticky)
{
	struct stat st = { .st_mode = S_IFDIR | 0777 };

	cr_expect(hostres_dir_vet(&st) && strstr(hostres_dir_vet(&st), "not sticky"));
	st.st_mode = S_IFDIR | 0770;
	cr_expect_not_null(hostres_dir_vet(&st), "group-writable, not sticky");
	st.st_mode = S_IFDIR | 01777;
	cr_expect_null(hostres_dir_vet(&st), "like /tmp");
	st.st_mode = S_IFDIR | 01770;
	cr_expect_null(hostres_dir_vet(&st), "a farm group's directory");
	st.st_mode = S_IFDIR | 0700;
	cr_expect_null(hostres_dir_vet(&st), "a private directory");
	st.st_mode = S_IFREG | 0600;
	cr_expect_not_null(hostres_dir_vet(&st));
}

Test(hostres_dir, the_directory_is_created_sticky_and_links_are_not_followed)
{
	char path[256], link[256], err[512] = "";
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/locks", root);
	cr_expect_eq(hostres_dir_open(path, false, err, sizeof(err)), -ENOENT);
	fd = hostres_dir_open(path, true, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect_eq(st.st_mode & 07777, HOSTRES_DIR_MODE, "01777 whatever the umask");
	close(fd);
	snprintf(link, sizeof(link), "%s/planted", root);
	cr_assert_eq(symlink(path, link), 0);
	fd = hostres_dir_open(link, true, err, sizeof(err));
	cr_expect_lt(fd, 0, "a link where the directory should be is not followed");
	cr_expect(strstr(err, "not followed"), "%s", err);
	cr_assert_eq(chmod(path, 0777), 0);
	fd = hostres_dir_open(path, true, err, sizeof(err));
	cr_expect_eq(fd, -EPERM);
	cr_expect(strstr(err, "not sticky") && strstr(err, HOSTRES_DIR_ENV), "%s", err);
}

Test(hostres_dir, planted_lock_files_are_refused_never_followed_or_waited_on)
{
	char err[512] = "", path[256];
	int dirfd, fd;

	dirfd = open(root, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(dirfd, 0);
	snprintf(path, sizeof(path), "%s/victim", root);
	cr_assert_eq(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	cr_assert_eq(symlinkat("victim", dirfd, "cpu-0.lock"), 0);
	cr_expect_eq(hostres_lockfile_open(dirfd, "cpu-0.lock", true, err, sizeof(err)), -ELOOP);
	cr_expect(strstr(err, "not followed"), "%s", err);
	cr_assert_eq(mkfifoat(dirfd, "cpu-1.lock", 0666), 0);
	cr_expect_eq(hostres_lockfile_open(dirfd, "cpu-1.lock", true, err, sizeof(err)), -EPERM,
		     "a FIFO: refused at once, not waited on");
	cr_expect(strstr(err, "not a regular file"), "%s", err);
	cr_assert_eq(linkat(dirfd, "victim", dirfd, "cpu-2.lock", 0), 0);
	cr_expect_eq(hostres_lockfile_open(dirfd, "cpu-2.lock", true, err, sizeof(err)), -EPERM);
	cr_expect(strstr(err, "hard link"), "%s", err);
	cr_expect_eq(hostres_lockfile_open(dirfd, "cpu-3.lock", false, err, sizeof(err)), -ENOENT,
		     "a reader creates nothing");
	fd = hostres_lockfile_open(dirfd, "cpu-3.lock", true, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	close(fd);
	fd = hostres_lockfile_open(dirfd, "cpu-3.lock", false, err, sizeof(err));
	cr_expect_geq(fd, 0, "%s", err);
	close(fd);
	close(dirfd);
}

Test(hostres_dir, holder_records_get_fresh_names_readable_by_co_tenants)
{
	char a[HOSTRES_NAME_MAX], b[HOSTRES_NAME_MAX], err[256];
	struct stat st;
	int dirfd = open(root, O_RDONLY | O_DIRECTORY);
	mode_t old = umask(077);
	int fa = hostres_holder_create(dirfd, a, sizeof(a), err, sizeof(err));
	int fb = hostres_holder_create(dirfd, b, sizeof(b), err, sizeof(err));

	umask(old);
	cr_assert_geq(fa, 0, "%s", err);
	cr_assert_geq(fb, 0, "%s", err);
	cr_expect_str_neq(a, b);
	cr_expect(!strncmp(a, "holder-", 7) && strstr(a, ".lock"), "%s", a);
	cr_assert_eq(fstat(fa, &st), 0);
	cr_expect_eq(st.st_mode & 0777, HOSTRES_FILE_MODE, "readable whatever the umask");
	close(fa);
	close(fb);
	close(dirfd);
}

Test(hostres_dir, the_path_comes_from_the_environment_and_must_be_absolute)
{
	char buf[256], err[256] = "";

	unsetenv(HOSTRES_DIR_ENV);
	cr_assert_eq(hostres_dir_path(buf, sizeof(buf), err, sizeof(err)), 0);
	cr_expect_str_eq(buf, HOSTRES_DIR_DEFAULT);
	setenv(HOSTRES_DIR_ENV, "/srv/farm/locks", 1);
	cr_assert_eq(hostres_dir_path(buf, sizeof(buf), err, sizeof(err)), 0);
	cr_expect_str_eq(buf, "/srv/farm/locks");
	setenv(HOSTRES_DIR_ENV, "locks", 1);
	cr_expect_eq(hostres_dir_path(buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "absolute"), "%s", err);
	setenv(HOSTRES_DIR_ENV, "/a/very/long/path/that/does/not/fit/in/a/small/buffer", 1);
	cr_expect_eq(hostres_dir_path(buf, 80, err, sizeof(err)), -ENAMETOOLONG);
	unsetenv(HOSTRES_DIR_ENV);
}
