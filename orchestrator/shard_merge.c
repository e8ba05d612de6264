#include "shard_merge.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "record.h"
#include "report.h"
#include "shard_assign.h"
#include "shard_info.h"
#include "json_get.h"
#include "junit.h"
#include "report.h"
#include <ktstr/version.h>
#include "verdict.h"

/* A test name longer than this is not one ktstr wrote (a gauntlet name
 * with every flag of 16 and a kernel label is a few hundred bytes). */
#define MERGE_NAME_MAX 4096

struct merge_rec {
	uint64_t pos;	       /* plan position; a missing shard's: after every variant */
	json_object *obj;      /* borrowed from m->trees */
	const char *name;      /* borrowed from obj */
	const char *path;      /* the file it came from (borrowed), NULL = merge made it */
	enum verdict_kind kind;
	bool dup;	       /* a second report of a test: said, not merged */
};

/* What a shard file's element says (shard_info.h). */
struct shard_hdr {
	int64_t index, total, variants, selected, assigned;
	const char *plan, *suite;
	json_object *positions;
};

static void say(struct merge *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct merge *m, const char *fmt, ...)
{
	va_list ap;

	m->infra = true;
	if (!m->log)
		return;
	fputs("ktstr-orch merge: ", m->log);
	va_start(ap, fmt);
	vfprintf(m->log, fmt, ap);
	va_end(ap);
	fputc('\n', m->log);
}

void merge_init(struct merge *m, const struct merge_limits *lim, uint32_t expect, FILE *log)
{
	memset(m, 0, sizeof(*m));
	m->lim = *lim;
	m->expect = expect;
	m->log = log;
}

static json_object *parse_json(const struct strbuf *sb, char *why, size_t whylen)
{
	json_tokener *tok = json_tokener_new_ex(MERGE_JSON_DEPTH);
	json_object *o;
	size_t end;

	if (!tok) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, sb->buf ? sb->buf : "", (int)sb->len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(why, whylen, "not JSON: %s at byte %zu",
			 json_tokener_error_desc(json_tokener_get_error(tok)),
			 json_tokener_get_parse_end(tok));
		json_object_put(o);
		json_tokener_free(tok);
		return NULL;
	}
	for (end = json_tokener_get_parse_end(tok); end < sb->len; end++)
		if (!strchr(" \t\r\n", sb->buf[end]))
			break;
	json_tokener_free(tok);
	if (end < sb->len) {
		snprintf(why, whylen, "not JSON: text after the array at byte %zu", end);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static bool get_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

static int read_hdr(json_object *root, size_t nrec, struct shard_hdr *h, char *why, size_t whylen)
{
	json_object *last = nrec < SIZE_MAX ? json_object_array_get_idx(root, nrec) : NULL, *info;

	if (!last || !json_object_is_type(last, json_type_object) ||
	    !json_object_object_get_ex(last, SHARD_INFO_KEY, &info) ||
	    !json_object_is_type(info, json_type_object)) {
		snprintf(why, whylen, "no \"" SHARD_INFO_KEY "\" element at the end of its array: not "
				      "the --json file of a sharded run (run each shard with "
				      "--partition ... --json FILE)");
		return -EINVAL;
	}
	if (!get_int(info, "total", 1, SHARD_TOTAL_MAX, &h->total) ||
	    !get_int(info, "index", 1, h->total, &h->index) ||
	    !get_int(info, "variants", 0, INT64_MAX, &h->variants) ||
	    !get_int(info, "selected", 0, h->variants, &h->selected) ||
	    !get_int(info, "assigned", 0, h->selected, &h->assigned) ||
	    !(h->plan = rj_str(info, "plan", 16)) || strlen(h->plan) != 16 ||
	    strspn(h->plan, "0123456789abcdef") != 16 || !(h->suite = rj_str(info, "suite", 511)) ||
	    !json_object_object_get_ex(info, "positions", &h->positions) ||
	    !json_object_is_type(h->positions, json_type_array)) {
		snprintf(why, whylen, "its \"" SHARD_INFO_KEY "\" element lacks a field or has one "
				      "out of range (index 1..total, total 1..%u, selected <= "
				      "variants, assigned <= selected, plan 16 hex digits)",
			 SHARD_TOTAL_MAX);
		return -EINVAL;
	}
	if (json_object_array_length(h->positions) != nrec || nrec > (uint64_t)h->assigned) {
		snprintf(why, whylen, "%zu records but %zu positions and %" PRId64 " variants "
				      "assigned to the shard", nrec,
			 json_object_array_length(h->positions), h->assigned);
		return -EINVAL;
	}
	return 0;
}

static bool verdict_parse(const char *s, enum verdict_kind *k)
{
	for (int i = 0; i < V_KIND_COUNT; i++)
		if (!strcmp(verdict_name((enum verdict_kind)i), s)) {
			*k = (enum verdict_kind)i;
			return true;
		}
	return false;
}

/* Record i of the file, at plan position pos; positions rise strictly
 * within a shard (plan order). */
static int read_rec(const struct shard_hdr *h, json_object *root, size_t i, uint64_t *prev,
		    struct merge_rec *r, char *why, size_t whylen)
{
	json_object *o = json_object_array_get_idx(root, i);
	json_object *pv = json_object_array_get_idx(h->positions, i);
	const char *verdict;
	int64_t pos;

	if (!json_object_is_type(pv, json_type_int) ||
	    (pos = json_object_get_int64(pv)) < 0 || pos >= h->variants ||
	    (i && (uint64_t)pos <= *prev)) {
		snprintf(why, whylen, "position %zu is not a rising plan index below %" PRId64, i,
			 h->variants);
		return -EINVAL;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !(r->name = rj_str(o, "name", MERGE_NAME_MAX)) || !r->name[0] ||
	    !(verdict = rj_str(o, "verdict", 32)) || !verdict_parse(verdict, &r->kind)) {
		snprintf(why, whylen, "record %zu has no name (1..%d bytes) or no known verdict", i,
			 MERGE_NAME_MAX);
		return -EINVAL;
	}
	*prev = (uint64_t)pos;
	r->pos = (uint64_t)pos;
	r->obj = o;
	r->dup = false;
	return 0;
}

/* Whether h belongs to the plan the first file set (which it sets). */
static int check_plan(struct merge *m, const char *path, const struct shard_hdr *h, char *why,
		      size_t whylen)
{
	if (m->expect && h->total != m->expect) {
		snprintf(why, whylen, "it is shard %" PRId64 " of %" PRId64 ", not of %u "
				      "(--expect-shards)", h->index, h->total, m->expect);
		return -EINVAL;
	}
	if (!m->total) {
		m->shard_path = calloc((size_t)h->total, sizeof(*m->shard_path));
		if (!m->shard_path) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		m->ref_path = path;
		m->total = (uint32_t)h->total;
		snprintf(m->plan, sizeof(m->plan), "%s", h->plan);
		snprintf(m->suite, sizeof(m->suite), "%s", h->suite);
		m->variants = (uint64_t)h->variants;
		m->selected = (uint64_t)h->selected;
	} else if (h->total != m->total || strcmp(h->plan, m->plan) ||
		   (uint64_t)h->variants != m->variants || (uint64_t)h->selected != m->selected) {
		snprintf(why, whylen, "it is shard %" PRId64 " of %" PRId64 " of plan %s (%" PRId64
				      " selected), %s is of %u shards of plan %s (%" PRIu64 " "
				      "selected): the shards ran different suites or options",
			 h->index, h->total, h->plan, h->selected, m->ref_path, m->total, m->plan,
			 m->selected);
		return -EINVAL;
	}
	if (m->shard_path[h->index - 1]) {
		snprintf(why, whylen, "shard %" PRId64 " of %u is given twice: %s and this file",
			 h->index, m->total, m->shard_path[h->index - 1]);
		return -EINVAL;
	}
	return 0;
}

static int add_tree(struct merge *m, json_object *root, const char *path, char *why,
		    size_t whylen)
{
	size_t len = json_object_array_length(root), nrec = len ? len - 1 : 0;
	struct shard_hdr h;
	uint64_t prev = 0;
	int ret;

	if (!len) {
		snprintf(why, whylen, "an empty array: not the --json file of a sharded run");
		return -EINVAL;
	}
	ret = read_hdr(root, nrec, &h, why, whylen);
	if (ret)
		return ret;
	if (nrec > m->lim.records - m->nrec) {
		snprintf(why, whylen, "its %zu records pass the %zu the merge takes in all", nrec,
			 m->lim.records);
		return -E2BIG;
	}
	if (KTSTR_GROW(m->rec, &m->cap, m->nrec + nrec + 1, 64)) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < nrec; i++) {
		ret = read_rec(&h, root, i, &prev, &m->rec[m->nrec + i], why, whylen);
		if (ret)
			return ret;
		m->rec[m->nrec + i].path = path;
	}
	ret = check_plan(m, path, &h, why, whylen);
	if (ret)
		return ret;
	m->shard_path[h.index - 1] = path;
	m->assigned += (uint64_t)h.assigned;
	m->nrec += nrec;
	return 0;
}

int merge_add_file(struct merge *m, const char *path)
{
	struct strbuf sb = { 0 };
	json_object *root = NULL;
	char why[1024];
	int ret;

	if (m->nfiles++ >= m->lim.files) {
		say(m, "%s: more than %zu files: merge them in groups", path, m->lim.files);
		return -E2BIG;
	}
	ret = read_regular_bounded(path, m->lim.file_bytes, &sb);
	if (ret) {
		say(m, "%s: cannot read it: %s", path,
		    ret == -EFBIG			       ? "larger than the limit for one file"
		    : ret == -EISDIR || ret == -ENODEV ? "not a regular file"
							       : strerror(-ret));
		goto out;
	}
	root = parse_json(&sb, why, sizeof(why));
	if (!root) {
		say(m, "%s: %s", path, why);
		goto out;
	}
	if (!json_object_is_type(root, json_type_array)) {
		say(m, "%s: not a JSON array of records", path);
		goto out;
	}
	if (KTSTR_GROW(m->trees, &m->trees_cap, m->ntrees + 1, 16)) {
		say(m, "%s: out of memory", path);
		goto out;
	}
	if (add_tree(m, root, path, why, sizeof(why))) {
		say(m, "%s: %s", path, why);
		goto out;
	}
	m->trees[m->ntrees++] = root;
	root = NULL;
out:
	json_object_put(root);
	sb_free(&sb);
	return 0;
}

/* A shard no file carried: one INFRA_ERROR record in its place, so that a
 * dashboard shows the hole instead of fewer tests. */
static int add_missing(struct merge *m, uint32_t k, uint64_t unreported)
{
	json_object *o = json_object_new_object();
	char name[64], detail[512];
	int ret = -ENOMEM;

	snprintf(name, sizeof(name), "ktstr-shard/%u-of-%u", k, m->total);
	snprintf(detail, sizeof(detail),
		 "shard %u of %u missing: no file given carries it (its job failed, or its --json "
		 "file was not collected); %" PRIu64 " of the %" PRIu64 " selected variants were "
		 "in the missing shards; rerun that shard's job",
		 k, m->total, unreported, m->selected);
	if (!o || KTSTR_GROW(m->trees, &m->trees_cap, m->ntrees + 1, 16) ||
	    KTSTR_GROW(m->rec, &m->cap, m->nrec + 1, 64))
		goto err_put;
	if (json_object_object_add(o, "name", json_object_new_string(name)) ||
	    json_object_object_add(o, "verdict", json_object_new_string(verdict_name(V_INFRA))) ||
	    json_object_object_add(o, "passed", json_object_new_boolean(0)) ||
	    json_object_object_add(o, "skipped", json_object_new_boolean(0)) ||
	    json_object_object_add(o, "detail", json_object_new_string(detail)))
		goto err_put;
	m->trees[m->ntrees++] = o;
	m->rec[m->nrec++] = (struct merge_rec){ .pos = m->variants + k, .obj = o,
						.name = json_object_get_string(
							json_object_object_get(o, "name")),
						.kind = V_INFRA };
	say(m, "%s", detail);
	return 0;
err_put:
	json_object_put(o);
	return ret;
}

static int rec_by_pos(const void *a, const void *b)
{
	const struct merge_rec *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int rec_by_name(const void *a, const void *b)
{
	const struct merge_rec *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);

	return c ? c : (*x)->pos < (*y)->pos ? -1 : (*x)->pos > (*y)->pos;
}

/* A test two shards reported (by name: positions of one plan name one
 * variant each, but a file may lie) is said and merged once. */
static int mark_dups(struct merge *m)
{
	struct merge_rec **by = malloc((m->nrec ? m->nrec : 1) * sizeof(*by));

	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < m->nrec; i++)
		by[i] = &m->rec[i];
	qsort(by, m->nrec, sizeof(*by), rec_by_name);
	for (size_t i = 1; i < m->nrec; i++) {
		if (strcmp(by[i]->name, by[i - 1]->name) && by[i]->pos != by[i - 1]->pos)
			continue;
		by[i]->dup = true;
		say(m, "test '%s' is reported twice, by %s and by %s: one plan's shards never "
		       "share a test; merged once", by[i]->name, by[i - 1]->path, by[i]->path);
	}
	free(by);
	return 0;
}

int merge_finish(struct merge *m)
{
	uint64_t unreported;
	int ret;

	if (!m->total && m->expect) {
		m->total = m->expect;
		m->shard_path = calloc(m->total, sizeof(*m->shard_path));
		if (!m->shard_path)
			return -ENOMEM;
	}
	if (!m->total) {
		say(m, "no shard file could be merged: nothing to report");
		return 0;
	}
	/* Files that claim more assigned variants than the plan selected are
	 * someone's forgery: the count left over is 0, not a wrapped one. */
	unreported = m->assigned > m->selected ? 0 : m->selected - m->assigned;
	/* One record per missing shard: at most SHARD_TOTAL_MAX, the bound on
	 * total a file may claim (read_hdr). */
	for (uint32_t k = 1; k <= m->total; k++) {
		if (m->shard_path[k - 1])
			continue;
		ret = add_missing(m, k, unreported);
		if (ret)
			return ret;
	}
	qsort(m->rec, m->nrec, sizeof(*m->rec), rec_by_pos);
	return mark_dups(m);
}

int merge_render_json(const struct merge *m, struct strbuf *sb)
{
	size_t out = 0;
	int ret = sb_printf(sb, "[\n");

	for (size_t i = 0; !ret && i < m->nrec; i++) {
		const char *t;

		if (m->rec[i].dup)
			continue;
		t = json_object_to_json_string_ext(m->rec[i].obj, JSON_C_TO_STRING_PLAIN |
									  JSON_C_TO_STRING_NOSLASHESCAPE);
		ret = t ? sb_printf(sb, "%s  %s", out++ ? ",\n" : "", t) : -ENOMEM;
	}
	return ret ? ret : sb_printf(sb, "\n]\n");
}

/* A record's string field, "" when absent. */
static const char *rec_str(const struct merge_rec *r, const char *key)
{
	const char *s = rj_str(r->obj, key, MERGE_NAME_MAX * 64);

	return s ? s : "";
}

/* A JSON true/false/null as the JUnit properties say it. */
static const char *rec_tristate(const struct merge_rec *r, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(r->obj, key, &v) || !json_object_is_type(v, json_type_boolean))
		return "unknown";
	return json_object_get_boolean(v) ? "true" : "false";
}

_Static_assert(MERGE_REPORT_MAX == 4u * REPORT_TEXT_MAX && MERGE_OUT_MAX == 4u * JUNIT_OUT_MAX,
	       "merge's bounds follow what a run writes");

/* The case's properties in the order the run wrote them. A record
 * without them (a file of an older ktstr) gets none. */
static int rec_props(const struct merge_rec *r, struct junit_props *pp)
{
	json_object *o;
	int ret = 0;

	if (!json_object_object_get_ex(r->obj, "properties", &o) ||
	    !json_object_is_type(o, json_type_object))
		return 0;
	json_object_object_foreach(o, key, val)
	{
		if (ret || pp->n >= MERGE_PROPS_MAX)
			break;
		if (!json_object_is_type(val, json_type_string) || strlen(key) > MERGE_NAME_MAX ||
		    (size_t)json_object_get_string_len(val) > MERGE_NAME_MAX)
			continue;
		ret = junit_props_add(pp, key, json_object_get_string(val));
	}
	return ret;
}

static const char *str_in(json_object *o, const char *key, size_t max, size_t *len)
{
	const char *s = rj_str(o, key, max);

	*len = s ? strlen(s) : 0;
	return s;
}

static int junit_case_of(struct strbuf *sb, const struct merge_rec *r)
{
	struct junit_attempt earlier[RECORD_NOTES_MAX];
	struct junit_props pp = { 0 };
	struct junit_case c = { 0 };
	json_object *ea;
	int64_t wall = 0, line = 0;
	int ret;

	get_int(r->obj, "wall_ms", 0, INT64_MAX, &wall);
	get_int(r->obj, "line", 0, UINT32_MAX, &line);
	c.classname = rec_str(r, "scheduler");
	c.name = r->name;
	c.file = rj_str(r->obj, "file", MERGE_NAME_MAX);
	c.line = (unsigned)line;
	c.time_s = wall / 1000.0;
	c.kind = r->kind;
	c.message = rec_str(r, "detail");
	c.report = str_in(r->obj, "report", MERGE_REPORT_MAX, &c.report_len);
	/* A record merge made (a missing shard) says why in its detail. */
	if (!c.report && !r->path) {
		c.report = c.message;
		c.report_len = strlen(c.message);
	}
	c.out = str_in(r->obj, "console_tail", MERGE_OUT_MAX, &c.out_len);
	if (json_object_object_get_ex(r->obj, "earlier_attempts", &ea) &&
	    json_object_is_type(ea, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(ea) && c.nearlier < RECORD_NOTES_MAX;
		     i++) {
			json_object *a = json_object_array_get_idx(ea, i);
			const char *v = json_object_is_type(a, json_type_object)
						? rj_str(a, "verdict", 32)
						: NULL;
			struct junit_attempt *ja = &earlier[c.nearlier];

			if (!v || !verdict_parse(v, &ja->kind))
				continue;
			ja->message = rj_str(a, "detail", MERGE_NAME_MAX * 64);
			ja->report = str_in(a, "report", MERGE_REPORT_MAX, &ja->report_len);
			c.nearlier++;
		}
		c.earlier = earlier;
	}
	ret = rec_props(r, &pp);
	c.props = &pp;
	if (!ret)
		ret = junit_write_case(sb, &c);
	junit_props_free(&pp);
	return ret;
}

/* The records merged (not the second report of a test), as test_records
 * for records_totals: the one place a run's counts are made. */
static int merged_totals(const struct merge *m, struct run_totals *t, double *wall_s)
{
	struct test_record *tr = calloc(m->nrec ? m->nrec : 1, sizeof(*tr));
	size_t n = 0;

	if (!tr)
		return -ENOMEM;
	*wall_s = 0;
	for (size_t i = 0; i < m->nrec; i++) {
		int64_t wall = 0;

		if (m->rec[i].dup)
			continue;
		get_int(m->rec[i].obj, "wall_ms", 0, INT64_MAX, &wall);
		*wall_s += wall / 1000.0;
		tr[n++].verdict.kind = m->rec[i].kind;
	}
	records_totals(tr, n, t);
	free(tr);
	return 0;
}

/* The run's "started" of a record, "" when it has none. */
static const char *rec_run_str(const struct merge_rec *r, const char *key, size_t max)
{
	json_object *run;
	const char *s;

	if (!json_object_object_get_ex(r->obj, "run", &run) ||
	    !json_object_is_type(run, json_type_object) || !(s = rj_str(run, key, max)))
		return "";
	return s;
}

int merge_render_junit(const struct merge *m, struct strbuf *sb)
{
	struct junit_props props = { 0 };
	struct run_totals t;
	double wall_s;
	size_t n = m->nrec, unsandboxed = 0;
	char hosts[256] = "", archs[64] = "", started[32] = "", num[32];
	int ret = merged_totals(m, &t, &wall_s);

	for (size_t i = 0; i < m->nrec; i++) {
		const char *h = rec_run_str(&m->rec[i], "host", 255);
		const char *st = rec_run_str(&m->rec[i], "started", 31);
		const char *ar = rec_run_str(&m->rec[i], "arch", 15);

		n -= m->rec[i].dup;
		unsandboxed += !m->rec[i].dup && (!strcmp(rec_tristate(&m->rec[i], "worker_sandboxed"),
							  "false") ||
						  !strcmp(rec_tristate(&m->rec[i], "builder_sandboxed"),
							  "false"));
		/* The earliest start (ISO 8601 UTC sorts as text); every
		 * host once, as far as the attribute holds them. */
		if (st[0] && (!started[0] || strcmp(st, started) < 0))
			snprintf(started, sizeof(started), "%s", st);
		/* The guest architecture(s), as the shards' run metadata say. */
		if (ar[0] && !strstr(archs, ar) && strlen(archs) + strlen(ar) + 2 < sizeof(archs))
			snprintf(archs + strlen(archs), sizeof(archs) - strlen(archs), "%s%s",
				 archs[0] ? "," : "", ar);
		if (h[0] && !strstr(hosts, h) && strlen(hosts) + strlen(h) + 2 < sizeof(hosts))
			snprintf(hosts + strlen(hosts), sizeof(hosts) - strlen(hosts), "%s%s",
				 hosts[0] ? "," : "", h);
	}
	if (!ret)
		ret = junit_run_props(&props, NULL, unsandboxed);
	if (!ret)
		ret = junit_props_add(&props, "ktstr.version", ktstr_version());
	snprintf(num, sizeof(num), "%u", m->total);
	if (!ret)
		ret = junit_props_add(&props, "ktstr.merged_shards", num);
	if (!ret && archs[0])
		ret = junit_props_add(&props, "ktstr.arch", archs);
	if (!ret) {
		struct junit_suite js = {
			.name = m->suite, .tests = n, .failures = t.failed - t.infra,
			.errors = t.infra, .skipped = t.skipped + t.xfailed, .time_s = wall_s,
			.timestamp = started[0] ? started : NULL, .hostname = hosts[0] ? hosts : NULL,
			.props = &props,
		};

		ret = junit_write_head(sb, &js);
	}
	junit_props_free(&props);
	for (size_t i = 0; !ret && i < m->nrec; i++)
		if (!m->rec[i].dup)
			ret = junit_case_of(sb, &m->rec[i]);
	return ret ? ret : junit_write_tail(sb);
}

int merge_summary(const struct merge *m, FILE *out)
{
	struct run_totals t;
	double wall_s;

	if (merged_totals(m, &t, &wall_s))
		return 3;
	report_summary(out, &t);
	return m->infra ? 3 : records_exit_code(&t);
}

void merge_free(struct merge *m)
{
	for (size_t i = 0; i < m->ntrees; i++)
		json_object_put(m->trees[i]);
	free(m->trees);
	free(m->rec);
	free(m->shard_path);
	memset(m, 0, sizeof(*m));
}
