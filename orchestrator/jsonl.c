#include "jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>

#include "json_pb.h"

#include "jsonl_record.h"

int jsonl_header_line(struct strbuf *sb, const struct runmeta *m)
{
	int ret = sb_printf(sb, "{\"type\":\"header\",\"schema\":%d,\"tool_version\":",
			    RESULTS_SCHEMA);

	if (!ret)
		ret = json_str(sb, m->tool_version, strlen(m->tool_version));
	if (!ret)
		ret = sb_printf(sb, ",\"run\":");
	if (!ret)
		ret = runmeta_json(sb, m);
	return ret ? ret : sb_printf(sb, "}\n");
}

int jsonl_test_line(struct strbuf *sb, const struct suite *s, const struct plan *p,
		    const struct test_record *r)
{
	int ret = sb_printf(sb, "{\"type\":\"test\",");

	if (!ret)
		ret = json_record_members(sb, s, p, r, NULL);
	return ret ? ret : sb_printf(sb, "}\n");
}

int jsonl_end_line(struct strbuf *sb, const struct test_record *r, size_t n, int exit_code,
		   bool interrupted, const struct runmeta *m)
{
	struct run_totals t;

	records_totals(r, n, &t);
	return sb_printf(sb, "{\"type\":\"end\",\"tests\":%zu,\"passed\":%zu,\"failed\":%zu,"
			     "\"skipped\":%zu,\"infra\":%zu,\"stopped\":%zu,\"xfailed\":%zu,"
			     "\"flaky\":%zu,\"exit_code\":%d,\"interrupted\":%s,"
			     "\"duration_ms\":%llu}\n",
			 n, t.passed, t.failed, t.skipped, t.infra, t.stopped, t.xfailed, t.flaky,
			 exit_code, interrupted ? "true" : "false",
			 (unsigned long long)(m && m->finished ? m->duration_ms : 0));
}

static int put(struct jsonl *j, struct strbuf *sb, int ret)
{
	if (!ret)
		ret = report_file_append(&j->rf, sb->buf, sb->len);
	sb_free(sb);
	if (ret && !j->err) {
		j->err = ret;
		kerr("cannot write the JSON Lines report %s: %s", j->rf.path, strerror(-ret));
	}
	j->lines += !ret;
	return ret;
}

int jsonl_open(struct jsonl *j, const char *path, char *err, size_t errlen)
{
	return report_file_open_stream(&j->rf, path, err, errlen);
}

int jsonl_start(struct jsonl *j, const struct suite *s, const struct plan *p,
		const struct runmeta *m)
{
	struct strbuf sb = { 0 };

	j->s = s;
	j->p = p;
	j->m = m;
	j->done = calloc(p->n ? p->n : 1, sizeof(*j->done));
	if (!j->done)
		return -ENOMEM;
	return put(j, &sb, jsonl_header_line(&sb, m));
}

void jsonl_on_done(void *ctx, const struct test_record *r)
{
	struct jsonl *j = ctx;
	struct strbuf sb = { 0 };

	if (!j->done || r->vidx >= j->p->n)
		return;
	j->done[r->vidx] = true;
	put(j, &sb, jsonl_test_line(&sb, j->s, j->p, r));
}

int jsonl_finish(struct jsonl *j, const struct test_record *r, size_t n, int exit_code,
		 bool interrupted)
{
	struct strbuf sb = { 0 };

	if (!j->done)
		return -EBADF;
	for (size_t i = 0; i < n; i++)
		if (r[i].vidx < j->p->n && !j->done[r[i].vidx])
			jsonl_on_done(j, &r[i]);
	put(j, &sb, jsonl_end_line(&sb, r, n, exit_code, interrupted, j->m));
	return j->err;
}

void jsonl_close(struct jsonl *j)
{
	free(j->done);
	j->done = NULL;
	report_file_close(&j->rf);
}
