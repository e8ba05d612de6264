/* GitHub Actions output (gha.h): workflow-command escaping, the bound on
 * annotations, the step summary's bound and its untrusted path. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "gha.h"
#include "helpers.h"
#include "runner.h"

static char *esc(bool prop, const char *s, size_t len)
{
	struct strbuf sb = { 0 };

	cr_assert_eq(prop ? gha_escape_prop(&sb, s, len) : gha_escape_data(&sb, s, len), 0);
	cr_assert_eq(sb_append(&sb, "", 1), 0);
	return sb.buf;
}

Test(gha, data_and_properties_are_escaped_as_github_documents)
{
	static const char in[] = "50% a\r\nb: c, d\x01 \xff ok";
	char *d = esc(false, in, sizeof(in) - 1), *p = esc(true, in, sizeof(in) - 1);

	cr_assert_str_eq(d, "50%25 a%0D%0Ab: c, d\xEF\xBF\xBD \xEF\xBF\xBD ok");
	cr_assert_str_eq(p, "50%25 a%0D%0Ab%3A c%2C d\xEF\xBF\xBD \xEF\xBF\xBD ok");
	free(d);
	free(p);
	/* An empty value stays empty; a NUL inside is not a terminator. */
	d = esc(true, "a\0b", 3);
	cr_assert_str_eq(d, "a\xEF\xBF\xBD" "b");
	free(d);
}

/* n tests; every one fails with a long detail that tries to break out. */
static void failing_run(size_t n, struct suite **s, struct plan *p, struct test_record **recs)
{
	struct strbuf yaml = { 0 };
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	char err[256];

	cr_assert_eq(sb_printf(&yaml, "tests:\n"), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sb_printf(&yaml, "  - {name: t%zu}\n", i), 0);
	*s = parse_ok(yaml.buf);
	sb_free(&yaml);
	cr_assert_eq(plan_build(*s, &o, p, err, sizeof(err)), 0);
	*recs = calloc(n, sizeof(**recs));
	for (size_t i = 0; i < n; i++) {
		char detail[2048];

		memset(detail, 'x', sizeof(detail));
		memcpy(detail, "| <b>bold</b>\n::error::forged\r\n%0A `x` ", 38);
		detail[sizeof(detail) - 1] = '\0';
		(*recs)[i].vidx = i;
		(*recs)[i].attempts = 1;
		(*recs)[i].verdict.kind = V_FAIL;
		(*recs)[i].verdict.detail = strdup(detail);
	}
}

Test(gha, annotations_name_file_and_line_and_are_bounded)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct strbuf sb = { 0 };
	size_t lines = 0;
	char *line;

	failing_run(60, &s, &p, &recs);
	cr_assert_eq(gha_annotations(&sb, s, &p, recs, 60), 0);
	for (size_t i = 0; i < sb.len; i++)
		lines += sb.buf[i] == '\n';
	/* GHA_ANNOTATIONS_MAX errors and one notice of the rest. */
	cr_assert_eq(lines, GHA_ANNOTATIONS_MAX + 1, "%s", sb.buf);
	cr_assert(!strncmp(sb.buf, "::error file=test.yaml,line=2,title=FAIL t0::| <b>bold</b>%0A"
				   "::error::forged%0D%0A%250A `x`xxx", 73),
		  "%.200s", sb.buf);
	cr_assert(strstr(sb.buf, "::notice title=ktstr::10 more failed tests"), "%s", sb.buf);
	/* Each annotation is one line: the detail's newline cannot forge a
	 * command of its own. */
	for (line = sb.buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		cr_assert(!strncmp(line, "::error file=", 13) || !strncmp(line, "::notice ", 9),
			  "%.80s", line);
	sb_free(&sb);
	/* A message is cut at GHA_MESSAGE_MAX bytes before escaping. */
	free(recs[0].verdict.detail);
	recs[0].verdict.detail = malloc(4 * GHA_MESSAGE_MAX);
	memset(recs[0].verdict.detail, 'y', 4 * GHA_MESSAGE_MAX - 1);
	recs[0].verdict.detail[4 * GHA_MESSAGE_MAX - 1] = '\0';
	cr_assert_eq(gha_annotations(&sb, s, &p, recs, 1), 0);
	line = strstr(sb.buf, "::yyy");
	cr_assert_not_null(line);
	cr_assert_eq(strchr(line, '\n') - line - 2, (long)GHA_MESSAGE_MAX, "%zu", sb.len);
	sb_free(&sb);
	runner_free_records(recs, 60);
	plan_free(&p);
	suite_free(s);
}

Test(gha, the_step_summary_is_bounded_and_escaped)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	struct strbuf sb = { 0 };
	const size_t max = 8192;

	failing_run(500, &s, &p, &recs);
	cr_assert_eq(gha_summary(&sb, s, &p, recs, 500, NULL, max), 0);
	cr_assert_leq(sb.len, max, "%zu bytes", sb.len);
	cr_assert(strstr(sb.buf, "**0 passed, 500 failed, 0 skipped**"), "%s", sb.buf);
	cr_assert(strstr(sb.buf, "| t0 | FAIL | \\| &lt;b&gt;bold&lt;/b&gt; ::error::forged  %0A \\`x\\`xxx"),
		  "%s", sb.buf);
	cr_assert(strstr(sb.buf, "more not shown (summary bounded to 8192 bytes)"), "%s", sb.buf);
	/* Every table row is one line with its three cells. */
	for (char *l = strstr(sb.buf, "| t"); l; l = strstr(l + 1, "\n| t")) {
		char *e = strchr(l + 1, '\n');
		int bars = 0;

		for (char *c = l + (*l == '\n'); c < e; c++)
			bars += *c == '|' && c[-1] != '\\';
		cr_assert_eq(bars, 4, "%.*s", (int)(e - l), l);
		/* A cell holds at most GHA_CELL_MAX bytes of the detail. */
		cr_assert_leq((size_t)(e - l), 2 * GHA_CELL_MAX + 64, "%.*s", (int)(e - l), l);
	}
	sb_free(&sb);
	/* Too small for even the head: refused, nothing half-written. */
	cr_assert_eq(gha_summary(&sb, s, &p, recs, 500, NULL, 100), -ENOSPC);
	sb_free(&sb);
	runner_free_records(recs, 500);
	plan_free(&p);
	suite_free(s);
}

Test(gha, the_summary_path_is_untrusted)
{
	char dir[] = "/tmp/ktstr-gha-XXXXXX", reg[128], lnk[128], fifo[128], target[128];
	char *text = NULL;
	size_t len;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(reg, sizeof(reg), "%s/summary", dir);
	snprintf(lnk, sizeof(lnk), "%s/link", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(target, sizeof(target), "%s/secret", dir);
	close(open(reg, O_CREAT | O_WRONLY, 0644));
	close(open(target, O_CREAT | O_WRONLY, 0600));
	cr_assert_eq(symlink(target, lnk), 0);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(gha_summary_append(reg, "one\n", 4), 0);
	cr_assert_eq(gha_summary_append(reg, "two\n", 4), 0);
	cr_assert_eq(read_file(reg, &text, &len, 1024), 0);
	cr_assert_str_eq(text, "one\ntwo\n", "appended, not replaced");
	free(text);
	cr_assert_eq(gha_summary_append(lnk, "x", 1), -EINVAL, "a link was followed");
	cr_assert_eq(read_file(target, &text, &len, 1024), 0);
	cr_assert_eq(len, 0);
	free(text);
	/* No reader: refused at once, never a hang. */
	cr_assert_lt(gha_summary_append(fifo, "x", 1), 0);
	cr_assert_lt(gha_summary_append(dir, "x", 1), 0);
	cr_assert_eq(gha_summary_append("/nonexistent/ktstr/summary", "x", 1), -ENOENT);
	unlink(reg);
	unlink(lnk);
	unlink(fifo);
	unlink(target);
	rmdir(dir);
}

Test(gha, nothing_is_written_outside_github_actions)
{
	char path[] = "/tmp/ktstr-gha-sum-XXXXXX";
	int fd = mkstemp(path);
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	char *out = NULL, *text = NULL;
	size_t olen = 0, len;
	FILE *f;

	close(fd);
	failing_run(2, &s, &p, &recs);
	setenv(GHA_SUMMARY_ENV, path, 1);
	unsetenv(GHA_ENV);
	f = open_memstream(&out, &olen);
	gha_report(f, s, &p, recs, 2, NULL);
	fclose(f);
	cr_assert_eq(olen, 0);
	setenv(GHA_ENV, "1", 1); /* GitHub sets exactly "true" */
	f = open_memstream(&out, &olen);
	gha_report(f, s, &p, recs, 2, NULL);
	fclose(f);
	cr_assert_eq(olen, 0);
	setenv(GHA_ENV, "true", 1);
	f = open_memstream(&out, &olen);
	gha_report(f, s, &p, recs, 2, NULL);
	fclose(f);
	cr_assert(strstr(out, "::error file=test.yaml,line=3,title=FAIL t1::"), "%s", out);
	cr_assert_eq(read_file(path, &text, &len, 1 << 20), 0);
	cr_assert(strstr(text, "### ktstr: test.yaml"), "%s", text);
	free(out);
	free(text);
	unlink(path);
	runner_free_records(recs, 2);
	plan_free(&p);
	suite_free(s);
}
