#include "shard_info.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json_pb.h"

int shard_info_append(struct strbuf *sb, const struct plan *p, const struct test_record *recs,
		      size_t n, const char *source, const char *suite)
{
	static const char tail[] = "\n]\n";
	int ret;

	/* The file stays one JSON array: the element replaces nothing a
	 * record reader needs, and an array reader skips what has no "name". */
	if (!sb->buf || sb->len < sizeof(tail) || sb->buf[0] != '[' ||
	    memcmp(sb->buf + sb->len - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
		return -EINVAL;
	sb->len -= sizeof(tail) - 1;
	ret = sb_printf(sb, "%s  {\"" SHARD_INFO_KEY "\":{\"index\":%u,\"total\":%u,\"source\":",
			n ? ",\n" : "", p->part_k, p->part_n);
	if (!ret)
		ret = json_str(sb, source, strlen(source));
	if (!ret)
		ret = sb_printf(sb, ",\"suite\":");
	if (!ret)
		ret = json_str(sb, suite, strlen(suite));
	if (!ret)
		ret = sb_printf(sb, ",\"plan\":\"%016" PRIx64 "\",\"variants\":%zu,\"selected\":%zu,"
				    "\"assigned\":%zu,\"positions\":[",
				p->fingerprint, p->n, p->selected_all, p->assigned);
	for (size_t i = 0; !ret && i < n; i++)
		ret = sb_printf(sb, "%s%zu", i ? "," : "", recs[i].vidx);
	return ret ? ret : sb_printf(sb, "]}}%s", tail);
}
