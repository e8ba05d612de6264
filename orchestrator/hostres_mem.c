#include "hostres_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

/* "Key:   123 kB" at the start of a line; MiB into *mib. */
static int field_mib(const char *text, const char *key, uint64_t *mib)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned long long kb;
		char *end;

		if (strncmp(p, key, kl) || p[kl] != ':')
			continue;
		p += kl + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		kb = strtoull(p, &end, 10);
		if (errno || strncmp(end, " kB", 3))
			return -EINVAL;
		*mib = kb / 1024;
		return 0;
	}
	return -EINVAL;
}

int hostres_meminfo_parse(const char *text, struct hostres_meminfo *m)
{
	if (field_mib(text, "MemTotal", &m->total_mib) ||
	    field_mib(text, "MemAvailable", &m->avail_mib))
		return -EINVAL;
	return 0;
}

int hostres_meminfo_read(const char *path, struct hostres_meminfo *m)
{
	char *text = NULL;
	size_t len;
	int ret = read_file(path, &text, &len, HOSTRES_MEMINFO_MAX);

	if (!ret)
		ret = hostres_meminfo_parse(text, m);
	free(text);
	return ret;
}

uint64_t hostres_mem_room(const struct hostres_meminfo *m, uint64_t declared_mib)
{
	uint64_t used = HOSTRES_MEM_MARGIN_MIB + declared_mib;

	/* declared_mib is a sum of bounded records: no wrap below 2^64. */
	return m->avail_mib > used ? m->avail_mib - used : 0;
}

int hostres_mem_fits(const struct hostres_meminfo *m, uint64_t declared_mib, uint64_t need_mib)
{
	if (m->total_mib < HOSTRES_MEM_MARGIN_MIB || need_mib > m->total_mib - HOSTRES_MEM_MARGIN_MIB)
		return -ENOSPC;
	return need_mib <= hostres_mem_room(m, declared_mib) ? 0 : -EBUSY;
}
