/* include_files and config_file (orchestrator/include_files.c): the bounds
 * that need files the repository cannot hold (sizes, deep and wide trees,
 * FIFOs, unreadable files), each refused at its limit and accepted at it;
 * paths relative to the suite file; directory order; which image each test
 * boots. The other parse errors are golden files (tests/golden/suites/
 * bad_include_*, bad_config_*). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "include_files.h"
#include "merge.h"
#include "suite.h"

static char tmp[64];

static void mk_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ktstr-incl-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	/* The tests that drop to nobody must reach their files. */
	cr_assert_eq(chmod(tmp, 0755), 0);
}

static void rm_tmp(void)
{
	char cmd[128];

	/* an_unreadable_file_is_refused gave up root for a while. */
	if (getuid() == 0) {
		cr_assert_eq(seteuid(0), 0);
		cr_assert_eq(setegid(0), 0);
	}

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	cr_assert_eq(system(cmd), 0);
}

/* tmp/rel: a file of size bytes (sparse: no disk is spent on the big ones). */
static void mk_file(const char *rel, off_t size)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s: %s", p, strerror(errno));
	cr_assert_eq(ftruncate(fd, size), 0);
	close(fd);
}

static void mk_dir(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
}

static void write_suite(const char *yaml)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/s.yaml", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(yaml, f);
	fclose(f);
}

/* Write tmp/s.yaml (unless yaml is NULL: written already) and parse it from
 * another directory (relative paths in it are the suite's, never the
 * cwd's). Returns the parse's result; err holds the message with tmp
 * replaced by "TMP". */
static int load(const char *yaml, struct suite **s, char *err, size_t errlen)
{
	char path[PATH_MAX], *at;
	int ret;

	if (yaml)
		write_suite(yaml);
	snprintf(path, sizeof(path), "%s/s.yaml", tmp);
	cr_assert_eq(chdir("/"), 0);
	*s = NULL;
	err[0] = '\0';
	ret = suite_load(path, s, err, errlen);
	while ((at = strstr(err, tmp))) {
		memcpy(at, "TMP", 3);
		memmove(at + 3, at + strlen(tmp), strlen(at + strlen(tmp)) + 1);
	}
	return ret;
}

static void expect_err(const char *yaml, const char *want)
{
	struct suite *s;
	char err[2048];

	cr_assert_neq(load(yaml, &s, err, sizeof(err)), 0, "accepted:\n%s", yaml ? yaml : "");
	cr_assert_str_eq(err, want);
}

static struct suite *expect_ok(const char *yaml)
{
	struct suite *s;
	char err[2048];

	cr_assert_eq(load(yaml, &s, err, sizeof(err)), 0, "%s", err);
	return s;
}

TestSuite(include_files, .init = mk_tmp, .fini = rm_tmp);

Test(include_files, a_file_of_64_mib_is_accepted_and_one_byte_more_refused)
{
	mk_file("max", (off_t)INCLUDE_MAX_FILE_BYTES);
	mk_file("over", (off_t)INCLUDE_MAX_FILE_BYTES + 1);
	suite_free(expect_ok("include_files: [max]\ntests: [{name: t}]\n"));
	expect_err("include_files: [max, over]\ntests: [{name: t}]\n",
		   "TMP/s.yaml:1:22: include_files[1]: TMP/over is 67108865 bytes, more than the 64 "
		   "MiB one included file may have");
}

Test(include_files, an_image_of_256_mib_is_accepted_and_one_byte_more_refused)
{
	mk_file("a", (off_t)INCLUDE_MAX_FILE_BYTES);
	mk_file("b", (off_t)INCLUDE_MAX_FILE_BYTES);
	mk_file("c", (off_t)INCLUDE_MAX_FILE_BYTES);
	mk_file("d", (off_t)INCLUDE_MAX_FILE_BYTES);
	mk_file("e", 1);
	/* 4 x 64 MiB: exactly the bound, across the suite and a test. */
	suite_free(expect_ok("include_files: [a, b]\ntests:\n  - name: t\n    include_files: [c, d]\n"));
	expect_err("include_files: [a, b]\ntests:\n  - name: t\n    include_files: [c, d, e]\n",
		   "TMP/s.yaml:4:27: include_files[2]: TMP/e (1 bytes) would bring the included "
		   "files of the image of test 't' to 268435457 bytes, more than the 256 MiB one "
		   "image may carry");
}

Test(include_files, sixty_four_files_fit_one_image)
{
	char yaml[8192];
	size_t off = 0;
	struct suite *s;

	mk_file("f", 1);
	off += (size_t)snprintf(yaml + off, sizeof(yaml) - off, "include_files:\n");
	for (int i = 0; i < INCLUDE_MAX_FILES; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
					"  - {path: f, dest: /c/%d}\n", i);
	snprintf(yaml + off, sizeof(yaml) - off, "tests: [{name: t}]\n");
	s = expect_ok(yaml);
	cr_assert_eq(s->includes.n, INCLUDE_MAX_FILES);
	suite_free(s);
}

/* The named directory is level 0; files may sit 8 levels below it. */
Test(include_files, a_tree_eight_levels_deep_is_walked_and_nine_refused)
{
	char rel[256] = "d";

	mk_dir("d");
	for (int i = 1; i <= INCLUDE_DIR_DEPTH_MAX; i++) {
		snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "/%d", i);
		mk_dir(rel);
	}
	snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "/f");
	mk_file(rel, 3);
	{
		struct suite *s = expect_ok("include_files: [d]\ntests: [{name: t}]\n");

		cr_assert_eq(s->includes.n, 1);
		cr_assert_str_eq(s->includes.v[0].dest, "/include-files/d/1/2/3/4/5/6/7/8/f");
		suite_free(s);
	}
	mk_dir("d/1/2/3/4/5/6/7/8/9");
	expect_err("include_files: [d]\ntests: [{name: t}]\n",
		   "TMP/s.yaml:1:17: include_files[0]: TMP/d/1/2/3/4/5/6/7/8/9 is more than 8 "
		   "directories deep below the one named (a link loop?)");
}

Test(include_files, a_link_loop_ends_at_the_depth_bound)
{
	char p[PATH_MAX];

	mk_dir("d");
	mk_file("d/f", 1);
	snprintf(p, sizeof(p), "%s/d/loop", tmp);
	cr_assert_eq(symlink(".", p), 0);
	expect_err("include_files: [d]\ntests: [{name: t}]\n",
		   "TMP/s.yaml:1:17: include_files[0]: TMP/d/loop/loop/loop/loop/loop/loop/loop/"
		   "loop/loop is more than 8 directories deep below the one named (a link loop?)");
}

Test(include_files, a_directory_of_more_than_4096_entries_is_refused)
{
	char rel[32];

	mk_dir("w");
	/* Empty directories: no file is added, so only the entry bound trips. */
	for (int i = 0; i <= INCLUDE_DIR_ENTRIES_MAX; i++) {
		snprintf(rel, sizeof(rel), "w/%d", i);
		mk_dir(rel);
	}
	expect_err("include_files: [w]\ntests: [{name: t}]\n",
		   "TMP/s.yaml:1:17: include_files[0]: the directory holds more than 4096 entries "
		   "(every level counted); name fewer, smaller directories");
}

Test(include_files, an_empty_directory_is_refused)
{
	mk_dir("e");
	mk_dir("e/sub");
	expect_err("tests:\n  - name: t\n    include_files: [e]\n",
		   "TMP/s.yaml:3:21: include_files[0]: directory TMP/e holds no files: nothing "
		   "would be packed");
}

Test(include_files, a_fifo_inside_a_directory_is_refused)
{
	char p[PATH_MAX];

	mk_dir("d");
	mk_file("d/a", 1);
	snprintf(p, sizeof(p), "%s/d/pipe", tmp);
	cr_assert_eq(mkfifo(p, 0644), 0);
	expect_err("include_files: [d]\ntests: [{name: t}]\n",
		   "TMP/s.yaml:1:17: include_files[0]: TMP/d/pipe is neither a regular file nor a "
		   "directory (FIFOs, sockets and devices cannot be packed)");
}

Test(include_files, an_unreadable_file_is_refused)
{
	char p[PATH_MAX];

	mk_file("secret", 4);
	snprintf(p, sizeof(p), "%s/secret", tmp);
	cr_assert_eq(chmod(p, 0600), 0);
	write_suite("include_files: [secret]\ntests: [{name: t}]\n");
	/* root reads anything: be somebody else, as a dropped ktstr-orch is. */
	if (geteuid() == 0) {
		cr_assert_eq(chown(p, 0, 0), 0);
		cr_assert_eq(setegid(65534), 0);
		cr_assert_eq(seteuid(65534), 0);
	} else {
		cr_assert_eq(chmod(p, 0), 0);
	}
	expect_err(NULL, "TMP/s.yaml:1:17: include_files[0]: TMP/secret is not readable: "
			 "Permission denied");
}

Test(include_files, paths_are_relative_to_the_suite_and_directories_sorted)
{
	struct suite *s;

	mk_dir("cfg");
	mk_file("cfg/b", 2);
	mk_file("cfg/a", 1);
	mk_file("cfg/c", 3);
	mk_file("sched.conf", 5);
	s = expect_ok("schedulers:\n"
		      "  - {name: x, binary: scx_x, config_file: sched.conf,\n"
		      "     include_files: [{path: cfg/, dest: /opt/cfg}]}\n"
		      "tests: [{name: t, scheduler: x}]\n");
	cr_assert_eq(s->scheds[1].includes.n, 3);
	for (size_t i = 0; i < 3; i++) {
		char want[PATH_MAX];

		snprintf(want, sizeof(want), "%s/cfg/%c", tmp, (int)('a' + i));
		cr_assert_str_eq(s->scheds[1].includes.v[i].host, want);
		snprintf(want, sizeof(want), "/opt/cfg/%c", (int)('a' + i));
		cr_assert_str_eq(s->scheds[1].includes.v[i].dest, want);
		cr_assert_eq(s->scheds[1].includes.v[i].size, i + 1);
	}
	cr_assert_eq(s->scheds[1].config.n, 1);
	cr_assert_str_eq(s->scheds[1].config.v[0].dest, "/include-files/sched.conf");
	suite_free(s);
}

/* Tests without include_files boot their scheduler's image; each test with
 * its own gets one of its own, holding everything it inherits. */
Test(include_files, each_test_with_its_own_files_gets_its_own_image)
{
	const struct include_list *lists[4];
	struct suite *s;

	mk_file("common", 1);
	mk_file("mine", 1);
	mk_file("conf", 1);
	s = expect_ok("include_files: [common]\n"
		      "schedulers: [{name: x, binary: scx_x, config_file: conf}]\n"
		      "tests:\n"
		      "  - {name: plain, scheduler: x}\n"
		      "  - {name: own, scheduler: x, include_files: [mine]}\n"
		      "  - {name: own_eevdf, include_files: [mine]}\n");
	cr_assert_eq(s->nscheds, 2);
	cr_assert_eq(s->nimages, 4);
	cr_assert_eq(s->tests[0].image, 1);
	cr_assert_eq(s->tests[1].image, 2);
	cr_assert_eq(s->tests[2].image, 3);
	cr_assert_eq(suite_image_sched(s, 0), 0);
	cr_assert_eq(suite_image_sched(s, 1), 1);
	cr_assert_eq(suite_image_sched(s, 2), 1);
	cr_assert_eq(suite_image_sched(s, 3), 0);
	cr_assert_eq(suite_image_lists(s, 1, lists), 3);
	cr_assert_eq(lists[0], &s->includes);
	cr_assert_eq(lists[2], &s->scheds[1].config);
	cr_assert_eq(suite_image_lists(s, 2, lists), 4);
	cr_assert_eq(lists[3], &s->tests[1].includes);
	cr_assert_eq(suite_image_lists(s, 3, lists), 4);
	cr_assert_eq(lists[1], &s->scheds[0].includes);
	cr_assert_eq(lists[3], &s->tests[2].includes);
	suite_free(s);
}

/* The reference's order (ktstr-guide-scheduler-definitions.md, "Config
 * file"): --config, then cgroup_parent, sched_args, extra_sched_args,
 * flags. */
Test(include_files, config_comes_first_on_the_scheduler_command_line)
{
	static const char *const want[] = {
		"--config", "/include-files/x.toml", "--cell-parent-cgroup", "/ktstr", "--s",
		"--e", "--f",
	};
	struct strv args = { 0 };
	struct suite *s;

	mk_file("x.toml", 1);
	s = expect_ok("schedulers:\n"
		      "  - name: x\n"
		      "    binary: scx_x\n"
		      "    config_file: x.toml\n"
		      "    cgroup_parent: /ktstr\n"
		      "    sched_args: [--s]\n"
		      "    flags: [{name: f, args: [--f]}]\n"
		      "tests: [{name: t, scheduler: x, extra_sched_args: [--e]}]\n");
	cr_assert_eq(merge_sched_args(&s->scheds[1], &s->tests[0], 1, &args), 0);
	cr_assert_eq(args.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		cr_assert_str_eq(args.v[i], want[i]);
	strv_free(&args);
	suite_free(s);
}

Test(include_files, guest_paths_of_the_image_and_the_mounts_are_refused)
{
	static const char *const bad[] = {
		"/init", "/scheduler", "/bin/busybox", "/bin", "/.ktstr_init_ok", "/ktstr/x",
		"/payloads/p/x", "/proc/x", "/sys", "/dev/x", "/tmp/x", "/run/x", "/", "//x",
		"/x/", "/x/./y", "/x/../y", "x",
	};
	static const char *const good[] = { "/include-files/x", "/etc/x.conf", "/bin/x",
					    "/opt/a/b", "/procx", "/tmpfile" };
	char why[512];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_expect_neq(include_dest_check(bad[i], why, sizeof(why)), 0, "%s accepted", bad[i]);
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		cr_expect_eq(include_dest_check(good[i], why, sizeof(why)), 0, "%s: %s", good[i],
			     why);
}
