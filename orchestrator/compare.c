#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <ktstr/cleantext.h>

#include "json_pb.h"
#include "verdict.h"

static struct cmp_item *add(struct compare *c, enum cmp_kind kind, const char *test)
{
	struct cmp_item *it;

	if (KTSTR_GROW(c->it, &c->cap, c->n + 1, 64))
		return NULL;
	it = &c->it[c->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->test = test;
	it->ia = it->ib = SIZE_MAX;
	return it;
}

static int verdict_of(const struct result_file *rf, size_t i, const char **name,
		      enum verdict_kind *k, char *err, size_t errlen)
{
	*name = rj_str(rf->rec[i], "verdict", 32);
	for (int v = 0; *name && v < V_KIND_COUNT; v++)
		if (!strcmp(verdict_name((enum verdict_kind)v), *name)) {
			*k = (enum verdict_kind)v;
			return 0;
		}
	snprintf(err, errlen, "%s: test '%.200s' has no known \"verdict\" (PASS, FAIL, ...)",
		 rf->path, rf->name[i]);
	return -EINVAL;
}

/* The gate of key: a --gate naming the key, else its family's, else the
 * table's. */
static void gate_for(const struct metric_value *v, const struct metric_gate *g, size_t ng,
		     struct cmp_item *it)
{
	const struct metric_gate *fam = NULL, *exact = NULL;
	const char *f = v->def ? v->def->name : "";

	for (size_t i = 0; i < ng; i++) {
		if (!strcmp(g[i].metric, v->key))
			exact = &g[i];
		else if (!strcmp(g[i].metric, f))
			fam = &g[i];
	}
	it->dir = v->def ? v->def->dir : MD_NONE;
	it->gate_abs = v->def ? v->def->abs : 0;
	it->gate_rel = v->def ? v->def->rel_pct : 0;
	if (exact || fam) {
		const struct metric_gate *use = exact ? exact : fam;

		it->gate_abs = use->abs;
		it->gate_rel = use->rel_pct;
		if (use->dir != MD_NONE)
			it->dir = use->dir;
	}
}

static const struct metric_value *find_val(const struct metric_value *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return &v[i];
	return NULL;
}

static int compare_metrics_of(struct compare *c, const struct result_file *a, size_t ia,
			      const struct result_file *b, size_t ib, const struct metric_gate *g,
			      size_t ng, char *err, size_t errlen)
{
	static __thread struct metric_value va[METRIC_VALUES_MAX], vb[METRIC_VALUES_MAX];
	size_t na, nb, oa, ob;
	char why[512];
	int ret;

	ret = metrics_extract(a->rec[ia], va, &na, &oa, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", a->path, why);
		return ret;
	}
	ret = metrics_extract(b->rec[ib], vb, &nb, &ob, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", b->path, why);
		return ret;
	}
	c->metrics_omitted += oa + ob;
	for (size_t i = 0; i < na; i++) {
		const struct metric_value *o = find_val(vb, nb, va[i].key);
		struct cmp_item *it = add(c, o ? CK_METRIC : CK_MISSING_B, a->name[ia]);

		if (!it)
			return -ENOMEM;
		it->ia = ia;
		it->ib = ib;
		memcpy(it->metric, va[i].key, sizeof(it->metric));
		it->unit = va[i].def ? va[i].def->unit : "";
		gate_for(&va[i], g, ng, it);
		it->a = va[i].v;
		if (!o)
			continue;
		it->b = o->v;
		it->g = gate_judge(it->dir, it->gate_abs, it->gate_rel, it->a, it->b,
				   &it->worse_abs, &it->worse_rel);
		it->regression = it->g == G_REGRESSION;
		c->regressions += it->regression;
	}
	for (size_t i = 0; i < nb; i++) {
		struct cmp_item *it;

		if (find_val(va, na, vb[i].key))
			continue;
		it = add(c, CK_MISSING_A, a->name[ia]);
		if (!it)
			return -ENOMEM;
		it->ia = ia;
		it->ib = ib;
		memcpy(it->metric, vb[i].key, sizeof(it->metric));
		it->unit = vb[i].def ? vb[i].def->unit : "";
		gate_for(&vb[i], g, ng, it);
		it->b = vb[i].v;
	}
	return 0;
}

int compare_run(struct compare *c, const struct result_file *a, const struct result_file *b,
		const struct metric_gate *g, size_t ng, char *err, size_t errlen)
{
	size_t i = 0, j = 0;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	/* A merge of the two name-sorted lists. */
	while (!ret && (i < a->nrec || j < b->nrec)) {
		size_t ia = i < a->nrec ? a->sorted[i] : SIZE_MAX;
		size_t ib = j < b->nrec ? b->sorted[j] : SIZE_MAX;
		int cmp = ia == SIZE_MAX ? 1 : ib == SIZE_MAX ? -1 : strcmp(a->name[ia], b->name[ib]);
		enum verdict_kind ka, kb;
		const char *sa, *sb;
		struct cmp_item *it;

		if (cmp) {
			it = add(c, cmp < 0 ? CK_ONLY_A : CK_ONLY_B, cmp < 0 ? a->name[ia] : b->name[ib]);
			if (!it)
				return -ENOMEM;
			if (cmp < 0) {
				it->ia = ia;
				i++;
			} else {
				it->ib = ib;
				j++;
			}
			continue;
		}
		i++;
		j++;
		c->matched++;
		ret = verdict_of(a, ia, &sa, &ka, err, errlen);
		if (!ret)
			ret = verdict_of(b, ib, &sb, &kb, err, errlen);
		if (ret)
			break;
		if (ka != kb) {
			it = add(c, CK_OUTCOME, a->name[ia]);
			if (!it)
				return -ENOMEM;
			it->ia = ia;
			it->ib = ib;
			it->va = sa;
			it->vb = sb;
			/* A pass (or an expected failure) that now fails. */
			it->regression = !verdict_is_failure(ka) && ka != V_SKIP && verdict_is_failure(kb);
			c->regressions += it->regression;
		}
		ret = compare_metrics_of(c, a, ia, b, ib, g, ng, err, errlen);
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

/* The shortest %g that reads back as d (as payload metrics print). */
static void num(double d, char *buf, size_t len)
{
	for (int p = 6; p <= 17; p++) {
		snprintf(buf, len, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static const char *meta_get(const struct result_file *rf, const char *key)
{
	for (size_t i = 0; i < rf->nmeta; i++)
		if (!strcmp(rf->meta[i].key, key))
			return rf->meta[i].value;
	return NULL;
}

/* "meta  KEY: A -> B", the file's text cleaned of control bytes. */
static void meta_line(FILE *f, const char *key, const char *a, const char *b)
{
	fputs("meta  ", f);
	fput_clean(f, key);
	fputs(": ", f);
	fput_clean(f, a ? a : "(absent)");
	fputs(" -> ", f);
	fput_clean(f, b ? b : "(absent)");
	fputc('\n', f);
}

/* The run metadata that differs (only when both files carry some). */
static void print_meta(FILE *f, const struct result_file *a, const struct result_file *b)
{
	if (!a->nmeta || !b->nmeta)
		return;
	for (size_t i = 0; i < a->nmeta; i++) {
		const char *vb = meta_get(b, a->meta[i].key);

		if (!vb || strcmp(vb, a->meta[i].value))
			meta_line(f, a->meta[i].key, a->meta[i].value, vb);
	}
	for (size_t i = 0; i < b->nmeta; i++)
		if (!meta_get(a, b->meta[i].key))
			meta_line(f, b->meta[i].key, NULL, b->meta[i].value);
}

/* The start of an item's line: its tag, the test and, for a metric, the
 * metric. Names come from the files: cleaned of control bytes, so a file
 * cannot move a terminal's cursor or forge a line. */
static void head(FILE *f, const char *tag, const struct cmp_item *it, bool metric)
{
	fprintf(f, "%-11s ", tag);
	fput_clean(f, it->test);
	if (metric) {
		fputs("  ", f);
		fput_clean(f, it->metric);
		fputs(":", f);
	}
}

void compare_print(FILE *f, const struct compare *c, const struct result_file *a,
		   const struct result_file *b, bool verbose)
{
	size_t onlya = 0, onlyb = 0, outcome = 0;

	fputs("compare  A ", f);
	fput_clean(f, a->path);
	fprintf(f, " (%zu tests)  B ", a->nrec);
	fput_clean(f, b->path);
	fprintf(f, " (%zu tests)\n", b->nrec);
	for (int k = 0; k < 2; k++) {
		const struct result_file *rf = k ? b : a;

		if (!rf->cut_line)
			continue;
		fputs("note: ", f);
		fput_clean(f, rf->path);
		fprintf(f, " ends inside line %zu (a run stopped while writing it): compared "
			   "without it\n", rf->cut_line);
	}
	print_meta(f, a, b);
	for (size_t i = 0; i < c->n; i++) {
		const struct cmp_item *it = &c->it[i];
		char na[32], nb[32], wa[32], wr[32];

		/* Four digits for people; --json keeps every digit. */
		snprintf(na, sizeof(na), "%.4g", it->a);
		snprintf(nb, sizeof(nb), "%.4g", it->b);
		switch (it->kind) {
		case CK_ONLY_A:
		case CK_ONLY_B:
			it->kind == CK_ONLY_A ? onlya++ : onlyb++;
			head(f, it->kind == CK_ONLY_A ? "only in A" : "only in B", it, false);
			fputc('\n', f);
			break;
		case CK_OUTCOME:
			outcome++;
			head(f, it->regression ? "REGRESSION" : "outcome", it, false);
			fprintf(f, "  %s -> %s\n", it->va, it->vb);
			break;
		case CK_MISSING_A:
			head(f, "metric", it, true);
			fprintf(f, " absent -> %s %s\n", nb, it->unit);
			break;
		case CK_MISSING_B:
			head(f, "metric", it, true);
			fprintf(f, " %s %s -> absent\n", na, it->unit);
			break;
		case CK_METRIC:
			if (!verbose && (it->g == G_SAME || it->g == G_BETTER || it->g == G_WORSE))
				break;
			snprintf(wa, sizeof(wa), "%.4g", it->gate_abs);
			snprintf(wr, sizeof(wr), "%.4g", it->gate_rel);
			head(f, it->regression ? "REGRESSION" : gate_result_name(it->g), it, true);
			fprintf(f, " %s -> %s %s (%s%+.1f%%; gate %s %s and %s%%, %s)\n", na, nb,
				it->unit, it->dir == MD_NONE ? "" : "worse by ",
				it->dir == MD_NONE ? (it->a ? (it->b - it->a) / fabs(it->a) * 100 : 0)
						   : it->worse_rel,
				wa, it->unit, wr, metric_dir_name(it->dir));
			break;
		}
	}
	if (c->metrics_omitted)
		fprintf(f, "note: %zu metric values past %d per record not compared\n",
			c->metrics_omitted, METRIC_VALUES_MAX);
	fprintf(f, "%zu matched, %zu only in A, %zu only in B, %zu outcome changes, "
		   "%zu regressions\n", c->matched, onlya, onlyb, outcome, c->regressions);
}

static int jnum(struct strbuf *sb, const char *key, double d)
{
	char buf[32];

	if (!isfinite(d))
		return sb_printf(sb, ",\"%s\":null", key);
	num(d, buf, sizeof(buf));
	return sb_printf(sb, ",\"%s\":%s", key, buf);
}

int compare_render_json(struct strbuf *sb, const struct compare *c, const struct result_file *a,
			const struct result_file *b)
{
	static const char *const kinds[] = { "only_a", "only_b", "outcome", "metric",
					     "missing_a", "missing_b" };
	int ret = sb_printf(sb, "{\"a\":");

	if (!ret)
		ret = json_str(sb, a->path, strlen(a->path));
	if (!ret)
		ret = sb_printf(sb, ",\"b\":");
	if (!ret)
		ret = json_str(sb, b->path, strlen(b->path));
	if (!ret)
		ret = sb_printf(sb, ",\"matched\":%zu,\"regressions\":%zu,\"items\":[", c->matched,
				c->regressions);
	for (size_t i = 0; !ret && i < c->n; i++) {
		const struct cmp_item *it = &c->it[i];

		ret = sb_printf(sb, "%s\n{\"kind\":\"%s\",\"test\":", i ? "," : "", kinds[it->kind]);
		if (!ret)
			ret = json_str(sb, it->test, strlen(it->test));
		if (!ret)
			ret = sb_printf(sb, ",\"regression\":%s", it->regression ? "true" : "false");
		if (!ret && it->kind == CK_OUTCOME) {
			ret = sb_printf(sb, ",\"a\":\"%s\",\"b\":\"%s\"}", it->va, it->vb);
			continue;
		}
		if (!ret && it->kind >= CK_METRIC) {
			ret = sb_printf(sb, ",\"metric\":");
			if (!ret)
				ret = json_str(sb, it->metric, strlen(it->metric));
			if (!ret)
				ret = sb_printf(sb, ",\"unit\":\"%s\",\"direction\":\"%s\"", it->unit,
						metric_dir_name(it->dir));
			if (!ret && it->kind != CK_MISSING_A)
				ret = jnum(sb, "a_value", it->a);
			if (!ret && it->kind != CK_MISSING_B)
				ret = jnum(sb, "b_value", it->b);
			if (!ret && it->kind == CK_METRIC) {
				ret = sb_printf(sb, ",\"result\":\"%s\"", gate_result_name(it->g));
				if (!ret)
					ret = jnum(sb, "worse_abs", it->worse_abs);
				if (!ret)
					ret = jnum(sb, "worse_rel_pct", it->worse_rel);
				if (!ret)
					ret = jnum(sb, "gate_abs", it->gate_abs);
				if (!ret)
					ret = jnum(sb, "gate_rel_pct", it->gate_rel);
			}
		}
		if (!ret)
			ret = sb_printf(sb, "}");
	}
	return ret ? ret : sb_printf(sb, "\n]}\n");
}

void compare_free(struct compare *c)
{
	free(c->it);
	memset(c, 0, sizeof(*c));
}
