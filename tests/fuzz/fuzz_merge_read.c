/* libFuzzer target for `ktstr-orch merge`'s reader (orchestrator/
 * shard_merge.c): the shard --json files it merges come from other hosts
 * and tenants. The input is up to 4 files, split at NUL bytes, merged in
 * order. Whatever they hold: no crash, no leak, no read past a bound; the
 * merged JSON parses back as an array; the exit status is 0, 1 or 3; and
 * a merge that refused a file or misses a shard never exits 0. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shard_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILES_MAX 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Smaller than the defaults, so a run reaches the bounds quickly. */
	static const struct merge_limits lim = { 1u << 20, FILES_MAX, 1000 };
	char paths[FILES_MAX][64];
	int fds[FILES_MAX], nf = 0;
	struct merge m;
	struct strbuf sb = { 0 };
	json_object *back;
	FILE *null = fopen("/dev/null", "w");
	size_t at = 0;
	int rc;

	if (!null)
		abort();
	while (nf < FILES_MAX && (at < size || !nf)) {
		const uint8_t *nul = at < size ? memchr(data + at, 0, size - at) : NULL;
		size_t len = nul ? (size_t)(nul - (data + at)) : size - at;

		fds[nf] = memfd_create("shard", MFD_CLOEXEC);
		if (fds[nf] < 0 || (len && write(fds[nf], data + at, len) != (ssize_t)len))
			abort();
		snprintf(paths[nf], sizeof(paths[nf]), "/proc/self/fd/%d", fds[nf]);
		nf++;
		at += len + (nul ? 1 : 0);
		if (!nul)
			break;
	}
	merge_init(&m, &lim, data[0] == ' ' ? 2 : 0, null);
	for (int i = 0; i < nf; i++)
		if (merge_add_file(&m, paths[i]))
			abort(); /* FILES_MAX is within lim.files */
	if (merge_finish(&m))
		abort();
	if (merge_render_json(&m, &sb))
		abort();
	back = json_tokener_parse(sb.buf ? sb.buf : "");
	if (!back || !json_object_is_type(back, json_type_array))
		abort();
	json_object_put(back);
	sb_free(&sb);
	if (merge_render_junit(&m, &sb))
		abort();
	sb_free(&sb);
	rc = merge_summary(&m, null);
	if (rc != 0 && rc != 1 && rc != 3)
		abort();
	if (m.infra && rc != 3)
		abort();
	merge_free(&m);
	for (int i = 0; i < nf; i++)
		close(fds[i]);
	fclose(null);
	return 0;
}
