#include "gha.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>

#include "junit.h"

bool gha_enabled(void)
{
	const char *v = getenv(GHA_ENV);

	return v && !strcmp(v, "true");
}

/* At most max bytes of s, not cutting a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max && ((uint8_t)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static int escape(struct strbuf *sb, const char *s, size_t len, bool prop)
{
	struct strbuf clean = { 0 };
	int ret = xml_clean(&clean, s, len);

	for (size_t i = 0; !ret && i < clean.len; i++) {
		char c = clean.buf[i];

		if (c == '%')
			ret = sb_append(sb, "%25", 3);
		else if (c == '\r')
			ret = sb_append(sb, "%0D", 3);
		else if (c == '\n')
			ret = sb_append(sb, "%0A", 3);
		else if (prop && c == ':')
			ret = sb_append(sb, "%3A", 3);
		else if (prop && c == ',')
			ret = sb_append(sb, "%2C", 3);
		else
			ret = sb_append(sb, &c, 1);
	}
	sb_free(&clean);
	return ret;
}

int gha_escape_data(struct strbuf *sb, const char *s, size_t len)
{
	return escape(sb, s, len, false);
}

int gha_escape_prop(struct strbuf *sb, const char *s, size_t len)
{
	return escape(sb, s, len, true);
}

static bool annotated(const struct test_record *r)
{
	return (verdict_is_failure(r->verdict.kind) && r->verdict.kind != V_STOPPED) ||
	       record_flaky(r);
}

int gha_annotations(struct strbuf *sb, const struct suite *s, const struct plan *p,
		    const struct test_record *r, size_t n)
{
	size_t shown = 0, more = 0;
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		const struct variant *v = &p->v[r[i].vidx];
		const struct test_def *td = &s->tests[v->test];
		bool flaky = record_flaky(&r[i]);
		const char *d = flaky ? "passed on a retry after failing" : r[i].verdict.detail;
		char title[256];

		if (!annotated(&r[i]))
			continue;
		if (shown == GHA_ANNOTATIONS_MAX) {
			more++;
			continue;
		}
		shown++;
		if (!d)
			d = "";
		snprintf(title, sizeof(title), "%s %s", verdict_name(r[i].verdict.kind), v->name);
		if (flaky)
			snprintf(title, sizeof(title), "FLAKY %s", v->name);
		ret = sb_printf(sb, "::%s file=", flaky ? "warning" : "error");
		if (!ret)
			ret = gha_escape_prop(sb, s->path, strlen(s->path));
		if (!ret)
			ret = sb_printf(sb, ",line=%u,title=", td->line ? td->line : 1);
		if (!ret)
			ret = gha_escape_prop(sb, title, strlen(title));
		if (!ret)
			ret = sb_printf(sb, "::");
		if (!ret)
			ret = gha_escape_data(sb, d, cut_len(d, strlen(d), GHA_MESSAGE_MAX));
		if (!ret)
			ret = sb_printf(sb, "\n");
	}
	if (!ret && more)
		ret = sb_printf(sb, "::notice title=ktstr::%zu more failed tests are not annotated "
				    "(at most %u per run); the JUnit and JSON reports have them all\n",
				more, GHA_ANNOTATIONS_MAX);
	return ret;
}

/* A table cell: one line, nothing Markdown or HTML would interpret. */
static int md_cell(struct strbuf *sb, const char *s)
{
	struct strbuf clean = { 0 };
	size_t len = s ? cut_len(s, strlen(s), GHA_CELL_MAX) : 0;
	int ret = s ? xml_clean(&clean, s, len) : 0;

	for (size_t i = 0; !ret && i < clean.len; i++) {
		char c = clean.buf[i];

		if (c == '\n' || c == '\r' || c == '\t')
			ret = sb_append(sb, " ", 1);
		else if (c == '<')
			ret = sb_append(sb, "&lt;", 4);
		else if (c == '>')
			ret = sb_append(sb, "&gt;", 4);
		else if (c == '&')
			ret = sb_append(sb, "&amp;", 5);
		else if (strchr("\\`*_[]|#!~", c))
			ret = sb_printf(sb, "\\%c", c);
		else
			ret = sb_append(sb, &c, 1);
	}
	if (!ret && s && len < strlen(s))
		ret = sb_printf(sb, " …");
	sb_free(&clean);
	return ret;
}

int gha_summary(struct strbuf *sb, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n, const struct runmeta *m, size_t max)
{
	struct strbuf head = { 0 }, row = { 0 };
	struct run_totals t;
	size_t more = 0;
	char tail[160];
	int ret;

	records_totals(r, n, &t);
	ret = sb_printf(&head, "### ktstr: ");
	if (!ret)
		ret = md_cell(&head, s->path);
	if (!ret)
		ret = sb_printf(&head, "\n\n**%zu passed, %zu failed, %zu skipped**", t.passed, t.failed,
				t.skipped);
	if (!ret && t.flaky)
		ret = sb_printf(&head, " (%zu flaky)", t.flaky);
	if (!ret && m) {
		ret = sb_printf(&head, " · ktstr ");
		if (!ret)
			ret = md_cell(&head, m->tool_version);
		if (!ret)
			ret = sb_printf(&head, " on ");
		if (!ret)
			ret = md_cell(&head, m->host);
		if (!ret)
			ret = sb_printf(&head, ", started %s", m->started);
		if (!ret && m->finished)
			ret = sb_printf(&head, ", %.1f s", m->duration_ms / 1000.0);
	}
	if (!ret)
		ret = sb_printf(&head, "\n\n");
	if (!ret && (t.failed || t.flaky))
		ret = sb_printf(&head, "| Test | Verdict | Detail |\n|---|---|---|\n");
	/* Room kept for the last line, whatever the rows take. */
	if (!ret && head.len + sizeof(tail) > max)
		ret = -ENOSPC;
	if (!ret)
		ret = sb_append(sb, head.buf, head.len);
	for (size_t i = 0; !ret && i < n; i++) {
		const char *d = record_flaky(&r[i]) ? "passed on a retry" : r[i].verdict.detail;

		if (!annotated(&r[i]))
			continue;
		row.len = 0;
		ret = sb_printf(&row, "| ");
		if (!ret)
			ret = md_cell(&row, p->v[r[i].vidx].name);
		if (!ret)
			ret = sb_printf(&row, " | %s | ",
					record_flaky(&r[i]) ? "FLAKY" : verdict_name(r[i].verdict.kind));
		if (!ret)
			ret = md_cell(&row, d ? d : "");
		if (!ret)
			ret = sb_printf(&row, " |\n");
		if (ret)
			break;
		if (more || sb->len + row.len + sizeof(tail) > max)
			more++;
		else
			ret = sb_append(sb, row.buf, row.len);
	}
	snprintf(tail, sizeof(tail), "\n_%zu more not shown (summary bounded to %zu bytes); the "
				     "JUnit and JSON reports have them all._\n",
		 more, max);
	if (!ret && more)
		ret = sb_printf(sb, "%s", tail);
	sb_free(&head);
	sb_free(&row);
	return ret;
}

int gha_summary_append(const char *path, const char *buf, size_t len)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st))
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	else
		ret = write_full(fd, buf, len);
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

void gha_report(FILE *out, const struct suite *s, const struct plan *p,
		const struct test_record *r, size_t n, const struct runmeta *m)
{
	const char *path = getenv(GHA_SUMMARY_ENV);
	struct strbuf sb = { 0 };
	int ret;

	if (!gha_enabled())
		return;
	if (gha_annotations(&sb, s, p, r, n))
		kwarn("GitHub Actions: out of memory writing the annotations");
	else
		fwrite(sb.buf ? sb.buf : "", 1, sb.len, out);
	fflush(out);
	sb_free(&sb);
	if (!path || !path[0])
		return;
	ret = gha_summary(&sb, s, p, r, n, m, GHA_SUMMARY_MAX);
	if (!ret)
		ret = gha_summary_append(path, sb.buf ? sb.buf : "", sb.len);
	if (ret)
		kwarn("GitHub Actions: cannot append the step summary to $" GHA_SUMMARY_ENV
		      " (%s): %s", path,
		      ret == -EINVAL ? "not a regular file (a link, FIFO or directory is refused)"
				     : strerror(-ret));
	sb_free(&sb);
}
