/* orchestrator/coverage.c: run --coverage writes the guest's coverage files
 * under DIR/TEST/ and nowhere else (docs/c-api.md, "Coverage"). The path
 * comes from the guest: "..", relative or empty components, NUL bytes and
 * over-long paths are refused, links under DIR are not followed, and a note
 * from the guest reaches the log. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/covmsg.h>
#include <ktstr/guest_contract.h>
#include <ktstr/ring.h>

#include "coverage.h"
#include "helpers.h"
#include "plan.h"
#include "spec_build.h"

static int check(const char *p, size_t len)
{
	char err[128];

	return coverage_path_check(p, len, err, sizeof(err));
}

Test(coverage_path, plain_absolute_paths_pass)
{
	cr_assert_eq(check("/home/u/build/x.gcda", 20), 0);
	cr_assert_eq(check("/x", 2), 0);
	cr_assert_eq(check("/a/..b/c.", 9), 0); /* names that merely start with dots */
}

Test(coverage_path, escapes_are_refused)
{
	cr_assert_eq(check("", 0), -EINVAL);
	cr_assert_eq(check("rel/x.gcda", 10), -EINVAL);
	cr_assert_eq(check("/a/../../etc/passwd", 19), -EINVAL);
	cr_assert_eq(check("/..", 3), -EINVAL);
	cr_assert_eq(check("/a/./b", 6), -EINVAL);
	cr_assert_eq(check("/a//b", 5), -EINVAL);
	cr_assert_eq(check("/a/", 3), -EINVAL);
	cr_assert_eq(check("/a\0/b", 5), -EINVAL);
}

Test(coverage_path, length_and_depth_are_bounded)
{
	char p[KTSTR_COV_PATH_MAX + 2];
	char comp[NAME_MAX + 2];

	memset(p, 'a', sizeof(p));
	p[0] = '/';
	cr_assert_eq(check(p, KTSTR_COV_PATH_MAX + 1), -EINVAL);
	/* One component too long for a name (and its temporary suffix). */
	memset(comp, 'c', sizeof(comp));
	comp[0] = '/';
	cr_assert_eq(check(comp, NAME_MAX + 1), -EINVAL);
	/* Depth: "/d" repeated past KTSTR_COV_DEPTH_MAX + 1. */
	for (unsigned i = 0; i < KTSTR_COV_DEPTH_MAX + 2; i++) {
		p[2 * i] = '/';
		p[2 * i + 1] = 'd';
	}
	cr_assert_eq(check(p, 2 * (KTSTR_COV_DEPTH_MAX + 2)), -EINVAL);
	cr_assert_eq(check(p, 2 * (KTSTR_COV_DEPTH_MAX + 1)), 0);
}

Test(coverage_msg, lengths_must_add_up)
{
	uint8_t *b;
	size_t len;
	struct covmsg m;

	cr_assert_eq(covmsg_build("/a", 2, "xyz", 3, &b, &len), 0);
	cr_assert_eq(len, KTSTR_COVMSG_HDR + 5);
	cr_assert_eq(covmsg_parse(b, len, &m), 0);
	cr_assert_eq(m.path_len, 2);
	cr_assert_eq(m.data_len, 3);
	cr_assert_eq(memcmp(m.data, "xyz", 3), 0);
	cr_assert_eq(covmsg_parse(b, len - 1, &m), -EBADMSG);
	cr_assert_eq(covmsg_parse(b, 7, &m), -EBADMSG);
	b[4] = 0xff; /* data_len far past the payload */
	cr_assert_eq(covmsg_parse(b, len, &m), -EBADMSG);
	free(b);
	cr_assert_eq(covmsg_build("/a", KTSTR_COV_PATH_MAX + 1, "", 0, &b, &len), -EMSGSIZE);
}

struct vmres {
	Ktstr__VmResult vr;
	Ktstr__RingMessage msgs[8], *ptrs[8];
	uint8_t *bufs[8];
};

static void add(struct vmres *v, const char *path, const char *data)
{
	size_t i = v->vr.n_ring, len;

	ktstr__ring_message__init(&v->msgs[i]);
	cr_assert_eq(covmsg_build(path, strlen(path), data, strlen(data), &v->bufs[i], &len), 0);
	v->msgs[i].type = KTSTR_MSG_PROFRAW;
	v->msgs[i].payload.data = v->bufs[i];
	v->msgs[i].payload.len = len;
	v->msgs[i].crc_ok = 1;
	v->ptrs[i] = &v->msgs[i];
	v->vr.ring = v->ptrs;
	v->vr.n_ring = i + 1;
}

static void vmres_free(struct vmres *v)
{
	for (size_t i = 0; i < v->vr.n_ring; i++)
		free(v->bufs[i]);
}

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

Test(coverage_write, files_land_under_dir_test_and_nothing_escapes)
{
	char dir[64], path[512], buf[256], logbuf[4096] = "", err[256];
	struct coverage_out co;
	struct vmres v = { .vr = KTSTR__VM_RESULT__INIT };
	struct stat sb;
	FILE *log = fmemopen(logbuf, sizeof(logbuf), "w");
	int outside;

	snprintf(dir, sizeof(dir), "/tmp/ktstr-covw-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	cr_assert_eq(coverage_open(&co, path, NULL, err, sizeof(err)), 0, "%s", err);
	/* A link planted where the guest's tree will be: not followed. */
	snprintf(path, sizeof(path), "%s/out/t1+k=7", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/out/t1+k=7/etc", dir);
	cr_assert_eq(symlink("/etc", path), 0);
	add(&v, "/home/b/x.gcda", "counters");
	add(&v, "/../../escape.gcda", "no");
	add(&v, "/etc/evil.gcda", "no");
	add(&v, "", "3 coverage file(s) not sent: /big.gcda (too big)");
	cr_assert_eq(coverage_write_vm(&co, "t1/k=7", &v.vr, log), 1);
	fclose(log);
	snprintf(path, sizeof(path), "%s/out/t1+k=7/home/b/x.gcda", dir);
	slurp(path, buf, sizeof(buf));
	cr_assert_str_eq(buf, "counters");
	cr_assert(strstr(logbuf, "t1/k=7: refused a file whose path has a \".\" or \"..\""),
		  "%s", logbuf);
	cr_assert(strstr(logbuf, "cannot write"), "%s", logbuf);
	cr_assert(strstr(logbuf, "/etc/evil.gcda"), "%s", logbuf);
	cr_assert(strstr(logbuf, "the guest says: 3 coverage file(s) not sent"), "%s", logbuf);
	outside = stat("/etc/evil.gcda", &sb);
	cr_assert_neq(outside, 0, "written through the planted link");
	snprintf(path, sizeof(path), "%s/escape.gcda", dir);
	cr_assert_neq(stat(path, &sb), 0, "escaped DIR");
	cr_assert_eq(co.files, 1);
	cr_assert_eq(co.vms, 1);
	cr_assert_eq(co.problems, 3);
	coverage_close(&co);
	vmres_free(&v);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
}

Test(coverage_write, a_bad_crc_or_garbage_is_refused_and_a_rerun_replaces)
{
	char dir[64], path[512], buf[64], logbuf[2048] = "", err[256];
	struct coverage_out co;
	struct vmres v = { .vr = KTSTR__VM_RESULT__INIT };
	FILE *log = fmemopen(logbuf, sizeof(logbuf), "w");

	snprintf(dir, sizeof(dir), "/tmp/ktstr-covw-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(coverage_open(&co, dir, NULL, err, sizeof(err)), 0, "%s", err);
	add(&v, "/a.gcda", "old");
	cr_assert_eq(coverage_write_vm(&co, "t", &v.vr, log), 1);
	vmres_free(&v);
	v = (struct vmres){ .vr = KTSTR__VM_RESULT__INIT };
	add(&v, "/a.gcda", "new");
	add(&v, "/b.gcda", "crc");
	v.msgs[1].crc_ok = 0;
	add(&v, "/c.gcda", "cut");
	v.msgs[2].payload.len -= 1;
	cr_assert_eq(coverage_write_vm(&co, "t", &v.vr, log), 1);
	fclose(log);
	snprintf(path, sizeof(path), "%s/t/a.gcda", dir);
	slurp(path, buf, sizeof(buf));
	cr_assert_str_eq(buf, "new");
	cr_assert(strstr(logbuf, "with a bad CRC"), "%s", logbuf);
	cr_assert(strstr(logbuf, "does not decode"), "%s", logbuf);
	snprintf(path, sizeof(path), "%s/t/b.gcda", dir);
	cr_assert_neq(access(path, F_OK), 0);
	coverage_close(&co);
	vmres_free(&v);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
}

Test(coverage_open, a_file_in_the_way_is_refused)
{
	char path[64], err[256];
	struct coverage_out co;
	int fd;

	snprintf(path, sizeof(path), "/tmp/ktstr-covf-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_neq(coverage_open(&co, path, NULL, err, sizeof(err)), 0);
	cr_assert(strstr(err, "exists and is not a directory"), "%s", err);
	unlink(path);
}

/* run --coverage reaches the guest as CTestSpec.coverage, and only then. */
static Ktstr__GuestSpec *packed(const char *yaml, bool coverage)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct suite *s = parse_ok(yaml);
	struct plan p;
	char err[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	Ktstr__GuestSpec *g;

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(spec_pack_guest(s, &p.v[0], coverage, &buf, &len), 0);
	g = ktstr__guest_spec__unpack(NULL, len, buf);
	cr_assert_not_null(g);
	free(buf);
	plan_free(&p);
	suite_free(s);
	return g;
}

Test(coverage_spec, the_flag_reaches_c_tests_only_when_asked)
{
	static const char c_yaml[] = "schedulers:\n  - name: base\n    binary: none\n"
				     "tests:\n  - name: t\n    scheduler: base\n"
				     "    c_test: {binary: /bin/true, function: fn}\n";
	Ktstr__GuestSpec *g = packed(c_yaml, true);

	cr_assert_not_null(g->c_test);
	cr_assert(g->c_test->has_coverage && g->c_test->coverage);
	ktstr__guest_spec__free_unpacked(g, NULL);
	g = packed(c_yaml, false);
	cr_assert_not_null(g->c_test);
	cr_assert_not(g->c_test->has_coverage);
	ktstr__guest_spec__free_unpacked(g, NULL);
}
