#include "compare_read.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <ktstr/util.h>

/* Line and column (1-based) of byte off in buf, for messages. */
static void line_col(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

bool result_read_bad_content(int err)
{
	return err == -EINVAL || err == -EFBIG || err == -E2BIG;
}

/* One scalar as metadata text, cut to RESULT_META_VALUE_MAX. */
static void meta_add(struct result_file *rf, const struct result_limits *lim, const char *key,
		     json_object *v)
{
	struct result_meta *m;
	const char *s;
	size_t len;

	if (rf->nmeta >= lim->meta_max) {
		rf->meta_omitted++;
		return;
	}
	m = &rf->meta[rf->nmeta++];
	snprintf(m->key, sizeof(m->key), "%s", key);
	s = v ? json_object_get_string(v) : "null";
	len = strlen(s);
	if (len > RESULT_META_VALUE_MAX)
		snprintf(m->value, sizeof(m->value), "%.*s...", RESULT_META_VALUE_MAX, s);
	else
		snprintf(m->value, sizeof(m->value), "%s", s);
}

/* Every scalar under o, as "prefix.key", at most 3 levels down; arrays
 * (a shard's positions) are not metadata. */
static void meta_flatten(struct result_file *rf, const struct result_limits *lim,
			 const char *prefix, json_object *o, int depth)
{
	json_object_object_foreach(o, k, v) {
		char key[96];

		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (v && json_object_is_type(v, json_type_object)) {
			if (depth < 3)
				meta_flatten(rf, lim, key, v, depth + 1);
		} else if (!v || !json_object_is_type(v, json_type_array)) {
			meta_add(rf, lim, key, v);
		}
	}
}

static const struct result_file *sort_ctx;
static int by_name(const void *a, const void *b)
{
	return strcmp(sort_ctx->name[*(const size_t *)a], sort_ctx->name[*(const size_t *)b]);
}

/* The records of the array arr (objects with a "name"); other objects are
 * metadata (a shard's element, a run header); anything else is refused. */
static int take_records(struct result_file *rf, json_object *arr, const struct result_limits *lim,
			char *err, size_t errlen)
{
	size_t n = json_object_array_length(arr);

	if (n > lim->records + 16) {
		snprintf(err, errlen, "%s: %zu elements, more than the %zu records a result file "
				      "may hold", rf->path, n, lim->records);
		return -E2BIG;
	}
	rf->rec = calloc(n ? n : 1, sizeof(*rf->rec));
	rf->name = calloc(n ? n : 1, sizeof(*rf->name));
	rf->sorted = calloc(n ? n : 1, sizeof(*rf->sorted));
	if (!rf->rec || !rf->name || !rf->sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *nv;

		if (!o || !json_object_is_type(o, json_type_object)) {
			snprintf(err, errlen, "%s: element %zu of the array is not an object: not a "
					      "file `run --json` wrote", rf->path, i);
			return -EINVAL;
		}
		if (!json_object_object_get_ex(o, "name", &nv)) {
			meta_flatten(rf, lim, "", o, 0);
			continue;
		}
		rf->name[rf->nrec] = rj_str(o, "name", lim->name_max);
		if (!rf->name[rf->nrec] || !rf->name[rf->nrec][0]) {
			snprintf(err, errlen, "%s: element %zu: \"name\" is not a string of 1..%zu "
					      "bytes without NUL", rf->path, i, lim->name_max);
			return -EINVAL;
		}
		if (rf->nrec == lim->records) {
			snprintf(err, errlen, "%s: more than %zu test records", rf->path, lim->records);
			return -E2BIG;
		}
		rf->sorted[rf->nrec] = rf->nrec;
		rf->rec[rf->nrec++] = o;
	}
	sort_ctx = rf;
	qsort(rf->sorted, rf->nrec, sizeof(*rf->sorted), by_name);
	sort_ctx = NULL;
	for (size_t i = 1; i < rf->nrec; i++)
		if (!strcmp(rf->name[rf->sorted[i - 1]], rf->name[rf->sorted[i]])) {
			snprintf(err, errlen, "%s: test '%.200s' is reported twice (elements %zu "
					      "and %zu): one run reports a test once", rf->path,
				 rf->name[rf->sorted[i]], rf->sorted[i - 1], rf->sorted[i]);
			return -EINVAL;
		}
	return 0;
}

/* The file's JSON: one value, or JSON Lines (an object a line, as a
 * stream written while tests end is): then rf->root is an array of those
 * objects. An error names the line, column and byte. */
static int parse_values(struct result_file *rf, json_tokener *tok, const char *buf, size_t len,
			const struct result_limits *lim, char *err, size_t errlen)
{
	json_object *first = NULL, *lines = NULL;
	size_t off = 0, n = 1, line, col;

	for (;;) {
		json_object *o;
		enum json_tokener_error je;
		size_t end;

		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, buf + off, (int)(len - off));
		je = json_tokener_get_error(tok);
		end = off + json_tokener_get_parse_end(tok);
		if (!o && je == json_tokener_continue && first &&
		    json_object_is_type(first, json_type_object)) {
			/* JSON Lines whose last line is cut (a killed run): the
			 * whole lines before it are what finished. */
			line_col(buf, len, off, &rf->cut_line, &col);
			break;
		}
		if (!o || je != json_tokener_success) {
			line_col(buf, len, end, &line, &col);
			snprintf(err, errlen, "%s:%zu:%zu (byte %zu): not JSON: %s", rf->path, line, col,
				 end, je == json_tokener_continue || je == json_tokener_success
					      ? "the text ends inside a value"
					      : json_tokener_error_desc(je));
			json_object_put(o);
			goto err;
		}
		if (!first) {
			first = o;
		} else {
			if (!json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				line_col(buf, len, off, &line, &col);
				snprintf(err, errlen, "%s:%zu:%zu (byte %zu): a JSON Lines file holds "
						      "one object a line", rf->path, line, col, off);
				goto err;
			}
			if (!lines) {
				lines = json_object_new_array();
				if (!lines || json_object_array_add(lines, first)) {
					/* Not added: first is still ours. */
					json_object_put(o);
					json_object_put(lines);
					json_object_put(first);
					snprintf(err, errlen, "%s: out of memory", rf->path);
					return -ENOMEM;
				}
			}
			if (json_object_array_add(lines, o)) {
				json_object_put(o);
				snprintf(err, errlen, "%s: out of memory", rf->path);
				goto err_nomem;
			}
			if (++n > lim->records + 16) {
				snprintf(err, errlen, "%s: more than %zu lines of records", rf->path,
					 lim->records);
				json_object_put(lines);
				return -E2BIG;
			}
		}
		while (end < len && strchr(" \t\r\n", buf[end]))
			end++;
		if (end >= len)
			break;
		if (!json_object_is_type(first, json_type_object)) {
			line_col(buf, len, end, &line, &col);
			snprintf(err, errlen, "%s:%zu:%zu (byte %zu): text after the JSON value",
				 rf->path, line, col, end);
			goto err;
		}
		off = end;
	}
	if (rf->cut_line && !lines) {
		/* One whole line and a cut one: still a stream of records. */
		lines = json_object_new_array();
		if (!lines || json_object_array_add(lines, first)) {
			json_object_put(lines);
			json_object_put(first);
			snprintf(err, errlen, "%s: out of memory", rf->path);
			return -ENOMEM;
		}
	}
	rf->root = lines ? lines : first;
	return 0;
err_nomem:
	json_object_put(lines);
	return -ENOMEM;
err:
	/* lines owns first once it exists. */
	json_object_put(lines ? lines : first);
	return -EINVAL;
}

int result_file_parse(struct result_file *rf, const char *path, const char *buf, size_t len,
		      const struct result_limits *lim, char *err, size_t errlen)
{
	json_tokener *tok = NULL;
	json_object *arr = NULL;
	int ret;

	memset(rf, 0, sizeof(*rf));
	rf->path = path;
	if (len > lim->bytes) {
		snprintf(err, errlen, "%s: %zu bytes, more than the %zu a result file may have",
			 path, len, lim->bytes);
		return -EFBIG;
	}
	rf->meta = calloc(lim->meta_max ? lim->meta_max : 1, sizeof(*rf->meta));
	tok = json_tokener_new_ex(RESULT_JSON_DEPTH);
	if (!tok || !rf->meta) {
		ret = -ENOMEM;
		goto err;
	}
	ret = parse_values(rf, tok, buf ? buf : "", len, lim, err, errlen);
	if (ret)
		goto err;
	if (json_object_is_type(rf->root, json_type_array)) {
		arr = rf->root;
	} else if (json_object_is_type(rf->root, json_type_object)) {
		/* A wrapped layout ({"schema":..., "records":[...]}): the
		 * array is the records, every other field metadata. */
		static const char *const keys[] = { "records", "tests", "results" };

		for (size_t i = 0; !arr && i < sizeof(keys) / sizeof(keys[0]); i++)
			arr = rj_arr(rf->root, keys[i]);
		json_object_object_foreach(rf->root, k, v) {
			if (v != arr && (!v || !json_object_is_type(v, json_type_object)))
				meta_add(rf, lim, k, v);
			else if (v != arr)
				meta_flatten(rf, lim, k, v, 1);
		}
	}
	if (!arr) {
		snprintf(err, errlen, "%s: neither an array of test records nor an object with "
				      "\"records\": not a file `run --json` or `merge --json` wrote",
			 path);
		ret = -EINVAL;
		goto err;
	}
	ret = take_records(rf, arr, lim, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	if (ret)
		goto err;
	json_tokener_free(tok);
	return 0;
err:
	json_tokener_free(tok);
	result_file_free(rf);
	return ret;
}

int result_file_read(struct result_file *rf, const char *path, const struct result_limits *lim,
		     char *err, size_t errlen)
{
	struct strbuf sb = { 0 };
	int ret;

	memset(rf, 0, sizeof(*rf));
	ret = read_regular_bounded(path, lim->bytes, &sb);
	if (ret == -EISDIR || ret == -ENODEV)
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (ret == -EFBIG)
		snprintf(err, errlen, "%s: more than the %zu bytes a result file may have", path,
			 lim->bytes);
	else if (ret)
		snprintf(err, errlen, "%s: cannot open or read: %s", path, strerror(-ret));
	/* -EINVAL from open() or read() is not the content's fault. */
	if (ret == -EINVAL)
		ret = -EIO;
	if (!ret)
		ret = result_file_parse(rf, path, sb.buf, sb.len, lim, err, errlen);
	sb_free(&sb);
	return ret;
}

long result_find(const struct result_file *rf, const char *name)
{
	size_t lo = 0, hi = rf->nrec;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rf->name[rf->sorted[mid]], name);

		if (!c)
			return (long)rf->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void result_file_free(struct result_file *rf)
{
	json_object_put(rf->root);
	free(rf->rec);
	free(rf->name);
	free(rf->sorted);
	free(rf->meta);
	memset(rf, 0, sizeof(*rf));
}
