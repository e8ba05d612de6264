/* The --result-json writer; see shell_result.h. */
#include "shell_result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <ktstr/shell_result.h>
#include <ktstr/util.h>

int shell_result_open(struct shell_result *sr, const char *path, char *err, size_t errlen)
{
	clock_gettime(CLOCK_MONOTONIC, &sr->start);
	sr->tail.buf = malloc(KTSTR_SR_OUTPUT_MAX);
	if (!sr->tail.buf) {
		snprintf(err, errlen, "--result-json: out of memory");
		return -ENOMEM;
	}
	sr->tail.cap = KTSTR_SR_OUTPUT_MAX;
	/* O_NOFOLLOW: a link planted at the path is not written through. */
	sr->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sr->fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "--result-json %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

void shell_result_set(struct shell_result *sr, const char *outcome, int exit_code,
		      const char *error)
{
	if (sr->outcome)
		return;
	sr->outcome = outcome;
	sr->exit_code = exit_code;
	snprintf(sr->error, sizeof(sr->error), "%s", error ? error : "");
}

static int add(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_object_add(o, k, v) ? -ENOMEM : 0;
}

int shell_result_finish(struct shell_result *sr)
{
	struct json_object *o;
	struct timespec now;
	const char *s;
	char *out = NULL;
	size_t len;
	int ret;

	if (sr->fd < 0)
		return 0;
	if (!sr->outcome)
		shell_result_set(sr, KTSTR_SR_INFRA_ERROR, 0, "ended without a status");
	clock_gettime(CLOCK_MONOTONIC, &now);
	o = json_object_new_object();
	out = malloc(sr->tail.len + 1);
	if (!o || !out) {
		ret = -ENOMEM;
		goto out;
	}
	exec_tail_copy(&sr->tail, out);
	ret = add(o, KTSTR_SR_F_OUTCOME, json_object_new_string(sr->outcome));
	if (!ret)
		ret = add(o, KTSTR_SR_F_EXIT_CODE, json_object_new_int(sr->exit_code));
	/* _len: the bytes as they came, NULs included (escaped). */
	if (!ret)
		ret = add(o, KTSTR_SR_F_OUTPUT, json_object_new_string_len(out, (int)sr->tail.len));
	if (!ret)
		ret = add(o, KTSTR_SR_F_OUTPUT_BYTES, json_object_new_int64((int64_t)sr->tail.total));
	if (!ret && sr->engine)
		ret = add(o, KTSTR_SR_F_ENGINE, json_object_new_string(sr->engine));
	if (!ret)
		ret = add(o, KTSTR_SR_F_WALL_MS,
			  json_object_new_int64((int64_t)(now.tv_sec - sr->start.tv_sec) * 1000 +
						(now.tv_nsec - sr->start.tv_nsec) / 1000000));
	if (!ret && sr->error[0])
		ret = add(o, KTSTR_SR_F_ERROR, json_object_new_string(sr->error));
	if (ret)
		goto out;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	if (!s) {
		ret = -ENOMEM;
		goto out;
	}
	ret = write_full(sr->fd, s, len);
	if (!ret)
		ret = write_full(sr->fd, "\n", 1);
out:
	free(out);
	json_object_put(o);
	if (close(sr->fd) && !ret)
		ret = -errno;
	sr->fd = -1;
	return ret;
}

void shell_result_free(struct shell_result *sr)
{
	if (sr->fd >= 0)
		close(sr->fd);
	sr->fd = -1;
	free(sr->tail.buf);
	sr->tail.buf = NULL;
}
