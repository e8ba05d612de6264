/* guest/coverage.c: what PID 1 sends of a C test's coverage files
 * (docs/c-api.md, "Coverage"). The tree is the tenant binary's: links are
 * not followed, and files over the count, size, total, path-length and
 * depth bounds are named in a note, never dropped silently. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/covmsg.h>
#include <ktstr/guest_contract.h>

#include "coverage.h"

struct got {
	unsigned files, notes;
	char paths[4][KTSTR_COV_PATH_MAX + 1];
	size_t sizes[4];
	char note[2048];
	uint64_t bytes;
};

static int record(void *ctx, const uint8_t *msg, size_t len)
{
	struct got *g = ctx;
	struct covmsg m;

	cr_assert_eq(covmsg_parse(msg, len, &m), 0, "a message that does not decode");
	if (!m.path_len) {
		g->notes++;
		snprintf(g->note, sizeof(g->note), "%.*s", (int)m.data_len, (const char *)m.data);
		return 0;
	}
	if (g->files < 4) {
		snprintf(g->paths[g->files], sizeof(g->paths[0]), "%.*s", (int)m.path_len, m.path);
		g->sizes[g->files] = m.data_len;
	}
	g->files++;
	g->bytes += m.data_len;
	return 0;
}

static void tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/ktstr-cov-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(buf));
}

static void put(const char *dir, const char *rel, size_t size)
{
	char path[4096];
	int fd;
	char *b = calloc(1, size ? size : 1);

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	memset(b, 'g', size);
	cr_assert_eq(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

static void rm_rf(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(coverage, sends_files_with_their_path_below_the_prefix)
{
	char d[64], sub[128];
	struct coverage_stats st;
	struct got g = { 0 };

	tmpdir(d, sizeof(d));
	snprintf(sub, sizeof(sub), "%s/home", d);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/home/build", d);
	mkdir(sub, 0755);
	put(d, "home/build/x.gcda", 100);
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	cr_assert_eq(st.sent, 1);
	cr_assert_eq(st.skipped, 0);
	cr_assert_eq(g.files, 1);
	cr_assert_eq(g.notes, 0, "a note with nothing skipped: %s", g.note);
	cr_assert_str_eq(g.paths[0], "/home/build/x.gcda");
	cr_assert_eq(g.sizes[0], 100);
	rm_rf(d);
}

Test(coverage, nothing_there_is_enoent)
{
	struct coverage_stats st;
	struct got g = { 0 };

	cr_assert_eq(coverage_collect("/nonexistent/ktstr-cov", record, &g, &st), -ENOENT);
	cr_assert_eq(g.files + g.notes, 0);
}

Test(coverage, links_are_not_followed)
{
	char d[64], path[128];
	struct coverage_stats st;
	struct got g = { 0 };

	tmpdir(d, sizeof(d));
	snprintf(path, sizeof(path), "%s/secret.gcda", d);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/dirlink", d);
	cr_assert_eq(symlink("/etc", path), 0);
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	cr_assert_eq(g.files, 0, "a link was followed: %s", g.paths[0]);
	cr_assert_eq(st.skipped, 2);
	cr_assert_eq(g.notes, 1);
	cr_assert(strstr(g.note, "2 coverage file(s) not sent"), "%s", g.note);
	cr_assert(strstr(g.note, "/secret.gcda ("), "%s", g.note);
	rm_rf(d);
}

Test(coverage, a_file_over_the_size_bound_is_named)
{
	char d[64];
	struct coverage_stats st;
	struct got g = { 0 };

	tmpdir(d, sizeof(d));
	put(d, "big.gcda", KTSTR_COV_FILE_MAX + 1);
	put(d, "ok.gcda", KTSTR_COV_FILE_MAX);
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	cr_assert_eq(g.files, 1);
	cr_assert_str_eq(g.paths[0], "/ok.gcda");
	cr_assert_eq(g.notes, 1);
	cr_assert(strstr(g.note, "/big.gcda (1048577 bytes, over 1048576 per file)"), "%s", g.note);
	rm_rf(d);
}

Test(coverage, the_total_bound_holds)
{
	char d[64], name[32];
	struct coverage_stats st;
	struct got g = { 0 };
	unsigned n = KTSTR_COV_TOTAL_MAX / KTSTR_COV_FILE_MAX + 2;

	tmpdir(d, sizeof(d));
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%u.gcda", i);
		put(d, name, KTSTR_COV_FILE_MAX);
	}
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	cr_assert_eq(g.files, n - 2);
	cr_assert_leq(g.bytes, KTSTR_COV_TOTAL_MAX);
	cr_assert_eq(st.skipped, 2);
	cr_assert(strstr(g.note, "over 8388608 bytes in all"), "%s", g.note);
	rm_rf(d);
}

Test(coverage, the_file_count_bound_holds)
{
	char d[64], name[32];
	struct coverage_stats st;
	struct got g = { 0 };

	tmpdir(d, sizeof(d));
	for (unsigned i = 0; i < KTSTR_COV_FILES_MAX + 3; i++) {
		snprintf(name, sizeof(name), "f%u.gcda", i);
		put(d, name, 8);
	}
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	cr_assert_eq(g.files, KTSTR_COV_FILES_MAX);
	cr_assert_eq(st.skipped, 3);
	cr_assert_eq(g.notes, 1);
	cr_assert(strstr(g.note, "3 coverage file(s) not sent"), "%s", g.note);
	cr_assert(strstr(g.note, "over 256 files"), "%s", g.note);
	rm_rf(d);
}

Test(coverage, long_paths_and_deep_trees_are_named)
{
	char d[64], path[8192], comp[201];
	struct coverage_stats st;
	struct got g = { 0 };
	size_t len;

	tmpdir(d, sizeof(d));
	/* 6 components of 200 bytes: over KTSTR_COV_PATH_MAX (1024). */
	memset(comp, 'p', 200);
	comp[200] = '\0';
	len = (size_t)snprintf(path, sizeof(path), "%s", d);
	for (int i = 0; i < 6; i++) {
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/%s", comp);
		cr_assert_eq(mkdir(path, 0755), 0, "%s", strerror(errno));
	}
	put(path, "x.gcda", 4);
	/* KTSTR_COV_DEPTH_MAX + 1 levels of short names. */
	len = (size_t)snprintf(path, sizeof(path), "%s", d);
	for (unsigned i = 0; i <= KTSTR_COV_DEPTH_MAX; i++) {
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/d");
		cr_assert_eq(mkdir(path, 0755), 0, "%s", strerror(errno));
	}
	put(path, "deep.gcda", 4);
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	cr_assert_eq(g.files, 0, "sent %s", g.paths[0]);
	cr_assert_eq(st.skipped, 2);
	cr_assert(strstr(g.note, "path over 1024 bytes"), "%s", g.note);
	cr_assert(strstr(g.note, "deeper than 32 levels"), "%s", g.note);
	rm_rf(d);
}

Test(coverage, env_points_gcov_at_the_prefix_and_is_cleared)
{
	coverage_env(1);
	cr_assert_str_eq(getenv("GCOV_PREFIX"), KTSTR_COV_PREFIX);
	cr_assert_str_eq(getenv("GCOV_PREFIX_STRIP"), "0");
	cr_assert_str_eq(getenv("LLVM_PROFILE_FILE"), "/tmp/ktstr-cov/ktstr-%p.profraw");
	coverage_env(0);
	cr_assert_null(getenv("LLVM_PROFILE_FILE"));
	cr_assert_null(getenv("GCOV_PREFIX"));
	cr_assert_null(getenv("GCOV_PREFIX_STRIP"));
}

Test(coverage, the_walk_is_bounded_by_entries)
{
	char d[64], name[128];
	struct coverage_stats st;
	struct got g = { 0 };
	int fd;

	tmpdir(d, sizeof(d));
	for (unsigned i = 0; i < KTSTR_COV_ENTRIES_MAX + 10; i++) {
		snprintf(name, sizeof(name), "%s/e%u", d, i);
		fd = open(name, O_WRONLY | O_CREAT, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	cr_assert_eq(coverage_collect(d, record, &g, &st), 0);
	/* 256 sent, the rest up to the bound over the count, then one stop. */
	cr_assert_eq(g.files, KTSTR_COV_FILES_MAX);
	cr_assert_eq(st.sent + st.skipped, KTSTR_COV_ENTRIES_MAX + 1);
	cr_assert(strstr(g.note, "not sent (the walk stopped after 4096 entries; what follows "
			     "was not looked at): "), "%s", g.note);
	rm_rf(d);
}
