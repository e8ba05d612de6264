/* The --result-json reader; see vm_result.h. */
#include "vm_result.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <ktstr/shell_result.h>
#include <ktstr/util.h>

_Static_assert(KTSTR_VM_OUTPUT_MAX == KTSTR_SR_OUTPUT_MAX,
	       "the public output bound is the shell's");

static const struct {
	const char *name;
	enum ktstr_vm_outcome v;
} outcomes[] = {
	{ KTSTR_SR_EXITED, KTSTR_VM_EXITED },
	{ KTSTR_SR_TIMED_OUT, KTSTR_VM_TIMED_OUT },
	{ KTSTR_SR_INFRA_ERROR, KTSTR_VM_INFRA_ERROR },
	{ KTSTR_SR_INTERRUPTED, KTSTR_VM_INTERRUPTED },
};

/* A string field of at most max bytes: 1 found, 0 absent, -EPROTO wrong. */
static int get_str(struct json_object *o, const char *key, size_t max, const char **s,
		   size_t *len, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "result field \"%s\" is not a string", key);
		return -EPROTO;
	}
	*len = (size_t)json_object_get_string_len(v);
	if (*len > max) {
		snprintf(err, errlen, "result field \"%s\" is %zu bytes, above its bound %zu", key,
			 *len, max);
		return -EPROTO;
	}
	*s = json_object_get_string(v);
	return 1;
}

/* An integer field in [lo, hi]: 1 found, 0 absent, -EPROTO wrong. */
static int get_int(struct json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
		   char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	errno = 0;
	if (!json_object_is_type(v, json_type_int) ||
	    (*out = json_object_get_int64(v), errno) || *out < lo || *out > hi) {
		snprintf(err, errlen, "result field \"%s\" is not an integer in %lld..%lld", key,
			 (long long)lo, (long long)hi);
		return -EPROTO;
	}
	return 1;
}

static char *dup_bytes(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int ktstr_vm_result_parse(const char *json, size_t len, struct ktstr_vm_result *out, char *err,
			  size_t errlen)
{
	/* Depth 2 is all the format has: one object of scalars. */
	struct json_tokener *tok = json_tokener_new_ex(2);
	struct json_object *o = NULL;
	const char *s = NULL;
	size_t n = 0;
	int64_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > KTSTR_SR_FILE_MAX) {
		snprintf(err, errlen, "result is %zu bytes, above its bound %u", len,
			 KTSTR_SR_FILE_MAX);
		ret = -EFBIG;
		goto out;
	}
	if (!tok) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "result is not one JSON object: %s",
			 o ? "another JSON value" : json_tokener_error_desc(json_tokener_get_error(tok)));
		ret = -EPROTO;
		goto out;
	}
	/* Only whitespace may follow the object. */
	for (size_t k = json_tokener_get_parse_end(tok); k < len; k++)
		if (!strchr(" \t\r\n", json[k])) {
			snprintf(err, errlen, "result has bytes after its JSON object");
			ret = -EPROTO;
			goto out;
		}
	ret = get_str(o, KTSTR_SR_F_OUTCOME, 32, &s, &n, err, errlen);
	if (ret <= 0) {
		if (!ret)
			snprintf(err, errlen, "result has no \"%s\"", KTSTR_SR_F_OUTCOME);
		ret = -EPROTO;
		goto out;
	}
	for (size_t k = 0; k < sizeof(outcomes) / sizeof(outcomes[0]); k++)
		if (n == strlen(outcomes[k].name) && !memcmp(s, outcomes[k].name, n))
			out->outcome = outcomes[k].v;
	if (!out->outcome) {
		snprintf(err, errlen, "result has an unknown outcome \"%.32s\"", s);
		ret = -EPROTO;
		goto out;
	}
	ret = get_int(o, KTSTR_SR_F_EXIT_CODE, INT32_MIN, INT32_MAX, &i, err, errlen);
	if (ret < 0)
		goto out;
	out->exit_code = ret ? (int)i : 0;
	ret = get_int(o, KTSTR_SR_F_OUTPUT_BYTES, 0, INT64_MAX, &i, err, errlen);
	if (ret < 0)
		goto out;
	out->output_bytes = ret ? (unsigned long long)i : 0;
	ret = get_int(o, KTSTR_SR_F_WALL_MS, 0, INT64_MAX, &i, err, errlen);
	if (ret < 0)
		goto out;
	out->wall_ms = ret ? (unsigned long long)i : 0;
	ret = get_str(o, KTSTR_SR_F_ENGINE, sizeof(out->engine) - 1, &s, &n, err, errlen);
	if (ret < 0)
		goto out;
	if (ret)
		memcpy(out->engine, s, n); /* zeroed above: terminated */
	s = "";
	n = 0;
	ret = get_str(o, KTSTR_SR_F_OUTPUT, KTSTR_SR_OUTPUT_MAX, &s, &n, err, errlen);
	if (ret < 0)
		goto out;
	out->output = dup_bytes(s, n);
	out->output_len = n;
	ret = get_str(o, KTSTR_SR_F_ERROR, KTSTR_SR_ERROR_MAX, &s, &n, err, errlen);
	if (ret < 0)
		goto out;
	if (ret)
		out->error = dup_bytes(s, n);
	if (!out->output || (ret && !out->error)) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	if (out->outcome != KTSTR_VM_EXITED && !out->error) {
		snprintf(err, errlen, "result says %s without an \"%s\"",
			 outcomes[out->outcome - 1].name, KTSTR_SR_F_ERROR);
		ret = -EPROTO;
		goto out;
	}
	ret = 0;
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return ret;
}

int ktstr_vm_result_read(const char *path, struct ktstr_vm_result *out, char *err,
			 size_t errlen)
{
	struct strbuf sb = { 0 };
	int ret = read_regular_bounded(path, KTSTR_SR_FILE_MAX, &sb);

	if (ret) {
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen, "cannot read ktstr-orch's result %s: %s", path,
			 ret == -EFBIG ? "larger than its bound" : strerror(-ret));
		free(sb.buf);
		return ret == -ENOENT ? -EPROTO : ret;
	}
	ret = ktstr_vm_result_parse(sb.buf ? sb.buf : "", sb.len, out, err, errlen);
	free(sb.buf);
	return ret;
}
